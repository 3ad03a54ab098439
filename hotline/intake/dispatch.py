"""The dispatch catalogue (派单目录): category × place → lead unit + co-handlers, with the reason.

Rules are data (hotline.models.DispatchRule, edited in the admin). Among the active rules whose
category is the order's category or one of its ancestors and whose place covers the street, the
most specific wins: the deeper category first, then the narrower place (street > district > city),
then the higher priority. With no rule, the order goes straight to the street of the address (直派).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from districts.models import Division, Unit
from hotline import refcache
from hotline.errors import DomainError
from hotline.models import Category, DispatchRule


@dataclass(frozen=True)
class Dispatch:
    lead_unit: Unit
    co_units: list[Unit] = field(default_factory=list)
    reason: str = ""
    rule_id: int | None = None


def category_lineage(category: Category) -> list[Category]:
    """The category and its ancestors, deepest first."""
    chain, node = [], category
    while node is not None:
        chain.append(node)
        node = node.parent
    return chain


def _place_rank(rule: DispatchRule) -> int:
    return 2 if rule.street_id else 1 if rule.district_id else 0


def rule_for(category: Category, street: Division) -> DispatchRule | None:
    """The winning catalogue line for this category at this street, or None (street default)."""
    lineage = category_lineage(category)
    depth = {c.pk: c.level for c in lineage}
    candidates = [
        r
        for r in refcache.rules_for(depth)
        if (r.street_id is None and r.district_id is None)
        or r.street_id == street.pk
        or (r.street_id is None and r.district_id == street.district_id)
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda r: (depth[r.category_id], _place_rank(r), r.priority, -r.pk))


def _department(slug: str, district: Division | None) -> Unit | None:
    """A department kind for this place: the district's own (110106-water) if it has one,
    otherwise the city-level one (11-water-group)."""
    if district is None:
        return None
    return refcache.unit_by_code(f"{district.code}-{slug}") or refcache.unit_by_code(f"{district.code[:2]}-{slug}")


def street_unit(street: Division) -> Unit:
    unit = refcache.unit_of_division(street.pk)
    if unit is None:
        raise DomainError(_("“%(street)s”没有可接单的单位。") % {"street": street.name}, code="no_unit")
    return unit


def dispatch_resolve(*, category: Category, street: Division) -> Dispatch:
    """Which unit leads an order of this category at this street, who co-handles, and why."""
    district = refcache.place_by_id(street.district_id)
    local = street_unit(street)
    rule = rule_for(category, street)
    if rule is None:
        return Dispatch(
            lead_unit=local,
            reason=_("默认：直派地址所在街乡镇“%(unit)s”") % {"unit": local.name},
        )
    notes = []
    lead = None
    if rule.target == DispatchRule.Target.UNIT and rule.unit_id is not None:
        lead = refcache.unit_by_id(rule.unit_id)  # None when the unit was deactivated
    elif rule.target == DispatchRule.Target.DEPARTMENT:
        lead = _department(rule.department_slug, district)
        if lead is None:
            notes.append(_("未找到部门“%(slug)s”，改派属地") % {"slug": rule.department_slug})
    lead = lead or local
    co: dict[int, Unit] = {}
    if rule.co_street:
        co[local.pk] = local
    for slug in filter(None, (s.strip() for s in rule.co_department_slugs.split(","))):
        unit = _department(slug, district)
        if unit is not None:
            co[unit.pk] = unit
    for unit in rule.co_unit_list:
        if unit.is_active:
            co[unit.pk] = unit
    co.pop(lead.pk, None)
    rule_category = next(c for c in category_lineage(category) if c.pk == rule.category_id)
    place_id = rule.street_id or rule.district_id
    place = refcache.place_by_id(place_id).name if place_id else _("全市")
    reason = _("派单目录：%(category)s（%(place)s）→ %(unit)s") % {
        "category": rule_category.path,
        "place": place,
        "unit": lead.name,
    }
    if co:
        reason += _("；协办：%(units)s") % {"units": "、".join(u.name for u in co.values())}
    if rule.note:
        reason += f"（{rule.note}）"
    if notes:
        reason += "；" + "；".join(notes)
    return Dispatch(lead_unit=lead, co_units=list(co.values()), reason=reason, rule_id=rule.pk)
