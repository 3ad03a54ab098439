"""Dashboard data (JSON for the ECharts page), scoped to what the viewer may see. Everything but
the open/overdue load reads stored snapshot rows and the stats stored with the snapshot; the load is
a live, indexed GROUP BY over open orders."""

from __future__ import annotations

from django.db.models import Case, Count, IntegerField, OuterRef, Sum, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from assessment import periods, rates
from assessment.models import Scope, Snapshot, SnapshotRow
from assessment.snapshots import selectors
from districts.models import Division, Unit
from hotline import access
from hotline.localnames import localized_field
from hotline.models import Category, User
from workorders.models import OPEN_STATES, WorkOrder


def _trend(district: Division | None, period: str, months: int = 6) -> list[dict]:
    """The three rates of the city (or one district) over the last `months` published snapshots:
    one GROUP BY over the snapshots' district rows, each period with its own rule set's factor."""
    labels = [periods.shift(period, -i) for i in range(months - 1, -1, -1)]
    rows = SnapshotRow.objects.filter(
        scope=Scope.DISTRICT,
        snapshot__period__in=labels,
        snapshot_id=selectors.published_id(OuterRef("snapshot__period")),
    )
    if district is not None:
        rows = rows.filter(district=district)
    sums = {
        r["snapshot__period"]: r
        for r in rows.values("snapshot__period", *(f"snapshot__ruleset__{f}" for f in rates.Weights.FIELDS))
        .annotate(**{c: Sum(c) for c in rates.COUNT_COLUMNS})
        .order_by()
    }
    out = []
    for label in labels:
        point = {"period": label, "response_rate": None, "resolution_rate": None, "satisfaction_rate": None}
        if label in sums:
            figures = rates.figures(sums[label], rates.Weights.of(sums[label], prefix="snapshot__ruleset__"))
            point.update({k: figures[k] for k in ("response_rate", "resolution_rate", "satisfaction_rate")})
        out.append(point)
    return out


def _ranking(snapshot: Snapshot | None, district: Division | None) -> list[dict]:
    if snapshot is None:
        return []
    if district is not None:
        rows = selectors.ranking_rows(snapshot, scope=Scope.STREET, district=district)
        rank_field = "rank_in_district"
    else:
        rows = selectors.ranking_rows(snapshot, scope=Scope.DISTRICT)
        rank_field = "rank_citywide"
    return [
        {
            "unit": r.unit.name,
            "unit_id": r.unit_id,
            "composite": r.composite,
            "rank": getattr(r, rank_field),
            "flagged": r.flagged,
        }
        for r in rows
    ]


def _heat(snapshot: Snapshot | None, district: Division | None) -> list[dict]:
    """District → its streets' composites (the city: every district; a district: its own)."""
    if snapshot is None:
        return []
    rows = (
        SnapshotRow.objects.filter(snapshot=snapshot, scope=Scope.STREET)
        .select_related("unit", "district")
        .order_by("district__code", "unit__code")
    )
    if district is not None:
        rows = rows.filter(district=district)
    groups: dict[str, dict] = {}
    for r in rows:
        g = groups.setdefault(r.district.code, {"district": r.district.name, "streets": []})
        g["streets"].append(
            {
                "name": r.unit.name,
                "unit_id": r.unit_id,
                "composite": r.composite,
                "flagged": r.flagged,
                "valid": r.valid,
            }
        )
    return list(groups.values())


def _load(district: Division | None) -> list[dict]:
    """Open and overdue orders per district (city) or per unit of the district, live. Shaped so that
    PostgreSQL answers from the (district|lead_unit, state, resolution_deadline) indexes alone:
    COUNT(*) and a CASE over the indexed deadline, filtered on the leading columns."""
    now = timezone.now()
    overdue = Sum(Case(When(resolution_deadline__lt=now, then=Value(1)), default=Value(0), output_field=IntegerField()))
    if district is None:
        names = dict(Division.objects.filter(level=Division.Level.DISTRICT).values_list("id", "name"))
        orders = WorkOrder.objects.filter(district_id__in=list(names), state__in=OPEN_STATES)
        key = "district_id"
    else:
        names = dict(Unit.objects.filter(district=district).values_list("id", "name"))
        orders = WorkOrder.objects.filter(lead_unit_id__in=list(names), state__in=OPEN_STATES)
        key = "lead_unit_id"
    rows = orders.values(key).annotate(open=Count("*"), overdue=overdue).order_by("-open")[:25]
    # Each bar leads to the orders it counts (governance.selectors.orders_behind, scoped there).
    behind = reverse("assessment-governance-orders")
    param = "district" if district is None else "unit"
    return [
        {
            "unit": names.get(r[key], "—"),
            "open": r["open"],
            "overdue": r["overdue"] or 0,
            "open_url": f"{behind}?{urlencode({param: r[key], 'state': 'open'})}",
            "overdue_url": f"{behind}?{urlencode({param: r[key], 'state': 'overdue'})}",
        }
        for r in rows
    ]


def _named_categories(pairs: list) -> list:
    """The snapshot stores categories by their (Chinese) name; show each in the viewer's language."""
    column = localized_field()
    if column == "name" or not pairs:
        return pairs
    names = dict(Category.objects.filter(name__in=[n for n, _count in pairs]).values_list("name", column))
    return [[names.get(name) or name, count] for name, count in pairs]


def dashboard_data(user: User, *, period: str, snapshot: Snapshot | None) -> dict:
    district = access.supervised_district(user)
    stats = (snapshot.stats or {}).get(district.code if district else "city", {}) if snapshot else {}
    return {
        "period": period,
        "snapshot": snapshot.pk if snapshot else None,
        "kind": snapshot.kind if snapshot else None,
        "trend": _trend(district, period),
        "ranking": _ranking(snapshot, district),
        "by_category": _named_categories(sorted((stats.get("by_category") or {}).items(), key=lambda kv: -kv[1])[:12]),
        "by_hour": stats.get("by_hour") or [0] * 24,
        "response": stats.get("response") or {},
        "heat": _heat(snapshot, district),
        "load": _load(district),
    }
