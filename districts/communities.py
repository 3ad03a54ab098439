"""Which community/village of a known street an address names.

Routing answers "which street"; the order also records the community (duplicate detection and
hot-spot reports group by it). Once the street is chosen, the search is among its few dozen
communities and their aliases, cached per process for a few minutes (community names change
rarely and a stale answer only leaves the field empty).
"""

from __future__ import annotations

import threading
import time
import unicodedata

from districts.models import Alias, Division

TTL_SECONDS = 300.0
_lock = threading.Lock()
_cache: dict[int, tuple[float, list[tuple[str, int]]]] = {}


def _keys_for_street(street_id: int) -> list[tuple[str, int]]:
    now = time.monotonic()
    hit = _cache.get(street_id)
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return hit[1]
    keys: dict[str, int] = {}
    for id_, name, core in Division.objects.filter(parent_id=street_id, level=Division.Level.COMMUNITY).values_list(
        "id", "name", "core_name"
    ):
        keys.setdefault(name, id_)
        if len(core) >= 2:
            keys.setdefault(core, id_)
    for alias, division_id in Alias.objects.filter(
        division__parent_id=street_id, division__level=Division.Level.COMMUNITY
    ).values_list("name", "division_id"):
        keys.setdefault(unicodedata.normalize("NFKC", alias).replace(" ", ""), division_id)
    ordered = sorted(keys.items(), key=lambda kv: -len(kv[0]))
    with _lock:
        _cache[street_id] = (now, ordered)
    return ordered


def community_in_text(text: str, street_id: int) -> int | None:
    """The id of the community/village of this street named in the text (longest name wins)."""
    text = unicodedata.normalize("NFKC", text or "").replace(" ", "")
    if len(text) < 2:
        return None
    for key, division_id in _keys_for_street(street_id):
        if key in text:
            return division_id
    return None


def clear_cache() -> None:
    with _lock:
        _cache.clear()
