"""Small per-process caches of the reference data every intake reads: the category tree, the
streets and districts, the units and the dispatch catalogue (a few hundred rows in all).

Intake runs at hundreds per second; reading these rows from the database on every request would
cost more than the order itself. Each cache reloads after TTL_SECONDS, and at once in the process
where a row is saved or deleted (the admin), so an edit takes effect within half a minute
everywhere. The cached instances are shared: treat them as read-only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save

from districts.models import Division, Unit
from hotline.models import Category, DispatchRule
from workorders.models import UrgencyTier

TTL_SECONDS = 30.0


class TTLCache:
    def __init__(self, loader: Callable[[], Any], ttl: float = TTL_SECONDS):
        self.loader, self.ttl = loader, ttl
        self._value: Any = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._value is None or time.monotonic() - self._loaded_at > self.ttl:
            with self._lock:
                if self._value is None or time.monotonic() - self._loaded_at > self.ttl:
                    self._value = self.loader()
                    self._loaded_at = time.monotonic()
        return self._value

    def clear(self) -> None:
        with self._lock:
            self._value = None


def _load_categories() -> dict[str, Any]:

    tiers = {t.pk: t for t in UrgencyTier.objects.all()}
    nodes = list(Category.objects.all())
    by_id = {c.pk: c for c in nodes}
    for c in nodes:
        # Resolve the tree in memory so that .parent, .path and .default_tier never query.
        c.parent = by_id.get(c.parent_id)
        c.default_tier = tiers.get(c.default_tier_id)
    return {"by_code": {c.code: c for c in nodes}, "by_id": by_id, "tiers": {t.code: t for t in tiers.values()}}


def _load_places() -> dict[str, Any]:

    rows = list(Division.objects.filter(level__in=[Division.Level.DISTRICT, Division.Level.STREET]))
    by_id = {d.pk: d for d in rows}
    for d in rows:
        d.district = by_id.get(d.district_id)
    return {"by_id": by_id, "by_code": {d.code: d for d in rows}}


def _load_units() -> dict[str, Any]:

    rows = list(Unit.objects.filter(is_active=True))
    return {
        "by_code": {u.code: u for u in rows},
        "by_division": {u.division_id: u for u in rows if u.division_id},
        "by_id": {u.pk: u for u in rows},
    }


def _load_rules() -> dict[int, list]:

    rules: dict[int, list] = {}
    for rule in DispatchRule.objects.filter(is_active=True).prefetch_related("co_units"):
        rule.co_unit_list = list(rule.co_units.all())
        rules.setdefault(rule.category_id, []).append(rule)
    return rules


categories = TTLCache(_load_categories)
places = TTLCache(_load_places)
units = TTLCache(_load_units)
rules = TTLCache(_load_rules)


def clear_all() -> None:
    for cache in (categories, places, units, rules):
        cache.clear()


def category_by_code(code: str):
    return categories.get()["by_code"].get(code)


def category_and_descendants(pk: int) -> list[int]:
    """The category and everything below it, from the cached tree (no query)."""
    nodes = categories.get()["by_id"].values()
    ids, frontier = [pk], {pk}
    while frontier:
        frontier = {c.pk for c in nodes if c.parent_id in frontier}
        ids += frontier
    return ids


def tier_by_code(code: str):
    return categories.get()["tiers"].get(code)


def place_by_code(code: str):
    return places.get()["by_code"].get(code)


def place_by_id(pk: int):
    return places.get()["by_id"].get(pk)


def unit_by_code(code: str):
    return units.get()["by_code"].get(code)


def unit_of_division(division_id: int):
    return units.get()["by_division"].get(division_id)


def unit_by_id(pk: int):
    return units.get()["by_id"].get(pk)


def rules_for(category_ids) -> list:
    table = rules.get()
    return [r for cid in category_ids for r in table.get(cid, [])]


def _connect() -> None:

    watched = {
        Category: (categories, rules),
        UrgencyTier: (categories,),
        Division: (places,),
        Unit: (units, rules),
        DispatchRule: (rules,),
    }
    for model, caches in watched.items():

        def handler(sender, _caches=caches, **kwargs):
            for cache in _caches:
                cache.clear()

        post_save.connect(handler, sender=model, weak=False, dispatch_uid=f"refcache-save-{model.__name__}")
        post_delete.connect(handler, sender=model, weak=False, dispatch_uid=f"refcache-delete-{model.__name__}")
    m2m_changed.connect(
        lambda sender, **kw: rules.clear(),
        sender=DispatchRule.co_units.through,
        weak=False,
        dispatch_uid="refcache-rule-co-units",
    )


_connect()
