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
_cache: dict[int, tuple[float, list[tuple[str, Division]]]] = {}


def _keys_for_street(street_id: int) -> list[tuple[str, Division]]:
    now = time.monotonic()
    hit = _cache.get(street_id)
    if hit is not None and now - hit[0] < TTL_SECONDS:
        return hit[1]
    keys: dict[str, Division] = {}
    communities = {d.pk: d for d in Division.objects.filter(parent_id=street_id, level=Division.Level.COMMUNITY)}
    for division in communities.values():
        keys.setdefault(division.name, division)
        if len(division.core_name) >= 2:
            keys.setdefault(division.core_name, division)
    for alias, division_id in Alias.objects.filter(division_id__in=list(communities)).values_list(
        "name", "division_id"
    ):
        keys.setdefault(unicodedata.normalize("NFKC", alias).replace(" ", ""), communities[division_id])
    ordered = sorted(keys.items(), key=lambda kv: -len(kv[0]))
    with _lock:
        _cache[street_id] = (now, ordered)
    return ordered


def community_for(text: str, street_id: int) -> Division | None:
    """The community/village of this street named in the text (longest name wins). The instance
    is shared by the cache: read it, don't change it."""
    text = unicodedata.normalize("NFKC", text or "").replace(" ", "")
    if len(text) < 2:
        return None
    for key, division in _keys_for_street(street_id):
        if key in text:
            return division
    return None


def community_in_text(text: str, street_id: int) -> int | None:
    division = community_for(text, street_id)
    return division.pk if division else None


def clear_cache() -> None:
    with _lock:
        _cache.clear()
