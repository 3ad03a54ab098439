"""Which community/village of a known street an address names.

Routing answers "which street"; the order also records the community (duplicate detection and
hot-spot reports group by it). Once the street is chosen, the search is among its few dozen
communities and their aliases. The keys of every street are built at once (two queries, ~7,500
communities) and kept per process for a few minutes (community names change rarely and a stale
answer only leaves the field empty); a save in this process clears them at once.
"""

from __future__ import annotations

import threading
import time
import unicodedata

from django.db.models.signals import post_delete, post_save

from districts.models import Alias, Division

TTL_SECONDS = 300.0
_lock = threading.Lock()
# street id → [(key, community)], longest key first, and street id → its communities by code;
# built for the whole city at once (one query for ~7,500 communities, one for their aliases) so no
# intake or filter form waits on a per-street query.
_cache: tuple[float, dict[int, list[tuple[str, Division]]], dict[int, list[Division]]] | None = None


def _build() -> tuple[dict[int, list[tuple[str, Division]]], dict[int, list[Division]]]:
    communities = {d.pk: d for d in Division.objects.filter(level=Division.Level.COMMUNITY).order_by("code")}
    keys: dict[int, dict[str, Division]] = {}
    members: dict[int, list[Division]] = {}
    for division in communities.values():
        members.setdefault(division.parent_id, []).append(division)
        street_keys = keys.setdefault(division.parent_id, {})
        street_keys.setdefault(division.name, division)
        if len(division.core_name) >= 2:
            street_keys.setdefault(division.core_name, division)
    aliases = Alias.objects.filter(division__level=Division.Level.COMMUNITY).values_list("name", "division_id")
    for alias, division_id in aliases:
        division = communities.get(division_id)
        if division is None:  # created between the two queries: next build has it
            continue
        key = unicodedata.normalize("NFKC", alias).replace(" ", "")
        keys.setdefault(division.parent_id, {}).setdefault(key, division)
    ordered = {street: sorted(found.items(), key=lambda kv: -len(kv[0])) for street, found in keys.items()}
    return ordered, members


def _current():
    global _cache
    now = time.monotonic()
    cache = _cache
    if cache is None or now - cache[0] >= TTL_SECONDS:
        with _lock:
            cache = _cache
            if cache is None or now - cache[0] >= TTL_SECONDS:
                cache = _cache = (time.monotonic(), *_build())
    return cache


def _keys_for_street(street_id: int) -> list[tuple[str, Division]]:
    return _current()[1].get(street_id, [])


def communities_of(street_id: int) -> list[Division]:
    """The street's communities/villages in code order (shared instances: read, don't change)."""
    return _current()[2].get(street_id, [])


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


def clear_cache(**_signal_kwargs) -> None:
    global _cache
    with _lock:
        _cache = None


# Names edited in this process show at once; other processes pick them up within TTL_SECONDS.
post_save.connect(clear_cache, sender=Alias, dispatch_uid="communities-alias-saved")
post_delete.connect(clear_cache, sender=Alias, dispatch_uid="communities-alias-deleted")
post_save.connect(clear_cache, sender=Division, dispatch_uid="communities-division-saved")
post_delete.connect(clear_cache, sender=Division, dispatch_uid="communities-division-deleted")
