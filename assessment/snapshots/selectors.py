"""Reads of the assessment: published snapshots, ranking tables, scorecards, the orders behind a
figure. Every function that returns data for a person takes `user` and scopes through
hotline/access.py."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from assessment import periods, rates
from assessment.models import CallbackFact, Scope, Snapshot, SnapshotMember, SnapshotRow
from districts.models import Division, Unit
from hotline import access
from hotline.errors import AccessDenied
from hotline.models import User
from workorders.models import WorkOrder

# What a period's pages show: the latest recomputation or the frozen result once the month is
# frozen (each labelled), the provisional figures before that.
PUBLISHED_FIRST = (
    Case(When(kind=Snapshot.Kind.PROVISIONAL, then=Value(1)), default=Value(0), output_field=IntegerField()),
    "-computed_at",
    "-id",
)


def published_snapshot(period: str, *, with_stats: bool = True) -> Snapshot | None:
    """The snapshot a period's pages show (PUBLISHED_FIRST), or None."""
    return snapshots(with_stats=with_stats).filter(period=period).order_by(*PUBLISHED_FIRST).first()


# The dashboard's aggregates (stats) and a recomputation's differences are large JSON documents:
# only the dashboard reads the first and only the snapshot page the second, so the rankings,
# scorecards, home panel and API leave both in the database (with_stats=False).
def snapshots(*, with_stats: bool = True) -> QuerySet:
    qs = Snapshot.objects.select_related("ruleset")
    return qs.defer("differences") if with_stats else qs.defer("stats", "differences")


def published_id(period) -> Subquery:
    """The id of the published snapshot of `period` (a label or an OuterRef), for filtering many
    periods in one query."""
    return Subquery(Snapshot.objects.filter(period=period).order_by(*PUBLISHED_FIRST).values("pk")[:1])


def available_periods(limit: int = 24) -> list[str]:
    return list(Snapshot.objects.values_list("period", flat=True).distinct().order_by("-period")[:limit])


def ranking_rows(snapshot: Snapshot, *, scope: str, district: Division | None = None) -> QuerySet:
    """Ranked units first (by rank), then the flagged ones; within a district when given."""
    rows = SnapshotRow.objects.filter(snapshot=snapshot, scope=scope).select_related("unit", "district")
    if district is not None:
        rows = rows.filter(district=district)
        rank_field = "rank_in_district" if scope != Scope.DISTRICT else "rank_citywide"
    else:
        rank_field = "rank_citywide"
    return rows.order_by(F(rank_field).asc(nulls_last=True), "-valid", "unit__code")


@dataclass(frozen=True)
class RankingTable:
    """One ranking table as access.ranking_scope granted it: the rows of `scope`, of one district
    (ranked within it) or of the whole city."""

    scope: str
    district: Division | None

    @property
    def within_district(self) -> bool:
        return self.district is not None

    def rows(self, snapshot: Snapshot | None) -> QuerySet | list:
        return ranking_rows(snapshot, scope=self.scope, district=self.district) if snapshot is not None else []


def ranking_for(user: User, *, scope: str, district: str | None = None) -> RankingTable:
    """The ranking table a user asks for (`district`: a code, access.RANKING_CITYWIDE or empty for
    the user's default), as the pages, the exports and the API all serve it; AccessDenied, or
    Http404 for an unknown district code."""
    scope, division = access.ranking_scope(user, scope=scope, district=district)
    return RankingTable(scope=scope, district=division)


def unit_row(snapshot: Snapshot, unit: Unit) -> SnapshotRow | None:
    scope = scope_of_unit(unit)
    return SnapshotRow.objects.filter(snapshot=snapshot, scope=scope, unit=unit).select_related("unit").first()


def scope_of_unit(unit: Unit) -> str:
    return {Unit.Kind.DISTRICT: Scope.DISTRICT, Unit.Kind.DEPARTMENT: Scope.DEPARTMENT}.get(unit.kind, Scope.STREET)


def trend(unit: Unit, *, until: str, months: int = 6) -> list[dict]:
    """The unit's published figures over the last `months` periods (oldest first), in one query."""
    labels = [periods.shift(until, -i) for i in range(months - 1, -1, -1)]
    fields = ("response_rate", "resolution_rate", "satisfaction_rate", "composite", "rank_in_district")
    found = {
        r["snapshot__period"]: r
        for r in SnapshotRow.objects.filter(
            unit=unit,
            scope=scope_of_unit(unit),
            snapshot__period__in=labels,
            snapshot_id=published_id(OuterRef("snapshot__period")),
        ).values("snapshot__period", *fields)
    }
    return [{"period": label, **{f: found.get(label, {}).get(f) for f in fields}} for label in labels]


# Opening a rate lists the facts that cost points first.
FOCUS_ORDER = {
    "response": Case(When(contacted=True, then=Value(1)), default=Value(0), output_field=IntegerField()),
    "resolution": Case(When(solved="resolved", then=Value(1)), default=Value(0), output_field=IntegerField()),
    "satisfaction": Case(
        When(satisfaction="unsatisfied", then=Value(0)),
        When(satisfaction="basic", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    ),
}


# The same orderings over a frozen member's stored answer bits.
FOCUS_BITS = {
    "response": rates.BIT_CONTACTED,
    "resolution": rates.BIT_RESOLVED,
}


class FrozenFacts:
    """The facts behind a frozen figure, for paginators and listings: the count and a page's fact
    ids come from the membership index alone (no join, no deep OFFSET over joined rows); the page's
    facts are then read by id and carry `counted_bits`, `counted_at`, `now_corrected`,
    `now_excluded`. `values_list` (exports) and iteration read the joined queryset."""

    def __init__(self, members: QuerySet, facts: QuerySet, page_facts):
        self.members, self.facts, self._page_facts = members, facts, page_facts

    def count(self) -> int:
        return self.members.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, k):
        if not isinstance(k, slice):
            return self[k : k + 1][0]
        rows = list(self.members.values_list("fact_id", "bits", "callback_at")[k])
        found = {f.pk: f for f in self._page_facts([fid for fid, _b, _at in rows])}
        out = []
        for fid, bits, at in rows:
            fact = found[fid]
            fact.counted_bits, fact.counted_at = bits, at
            out.append(fact)
        return out

    def __iter__(self):
        return iter(self.facts)

    def values_list(self, *fields, **kwargs):
        return self.facts.values_list(*fields, **kwargs)

    def order_by(self, *fields):
        return self


def orders_behind(user: User, *, snapshot: Snapshot, unit: Unit, scope: str, measure: str, focus: str = ""):
    """The callback facts behind one figure (rates.counted_facts): a frozen figure's stored
    membership with the values as counted (a FrozenFacts), a provisional one's computed now (a
    queryset). Each row carries `counted_bits` (the sets it counted in) and, for frozen figures,
    `now_corrected` / `now_excluded` to say when the order's current state differs."""
    if not access.may_view_unit_figures(user, unit):
        raise AccessDenied()
    qs = rates.counted_facts(snapshot, unit=unit, scope=scope, measure=measure)
    # Per fact, a primary-key probe of its order through the one scoping place (none when the
    # user's scope is every order).
    narrowed = bool(access.visible_orders(user, WorkOrder.objects.all()).query.where)
    if narrowed:
        qs = qs.filter(Exists(access.visible_orders(user, WorkOrder.objects.filter(pk=OuterRef("order_id")))))
    related = ("order", "order__call", "order__street", "category", "assessed_unit")
    qs = qs.select_related(*related)
    if snapshot.kind == Snapshot.Kind.PROVISIONAL:
        if focus in FOCUS_ORDER:
            return qs.order_by(FOCUS_ORDER[focus], "callback_at", "id")
        return qs.order_by("callback_at", "id")
    now = {
        "now_corrected": Exists(CallbackFact.objects.filter(supersedes_id=OuterRef("pk"))),
        "now_excluded": rates.excluded_now(),
    }
    members = rates.frozen_members(snapshot, unit=unit, scope=scope, measure=measure)
    if narrowed:
        members = members.filter(
            Exists(access.visible_orders(user, WorkOrder.objects.filter(pk=OuterRef("fact__order_id"))))
        )
    order = ["callback_at", "fact_id"]
    if focus in FOCUS_BITS:
        members = members.alias(f_bit=F("bits").bitand(FOCUS_BITS[focus]))
        order = ["f_bit", *order]
    elif focus == "satisfaction":  # unsatisfied, then basic, then satisfied
        members = members.alias(f_un=F("bits").bitand(rates.BIT_UNSATISFIED), f_basic=F("bits").bitand(rates.BIT_BASIC))
        order = ["-f_un", "-f_basic", *order]
    members = members.order_by(*order)

    def page_facts(ids):
        return CallbackFact.objects.filter(pk__in=ids).select_related(*related).annotate(**now)

    return FrozenFacts(members, qs.annotate(**now).order_by("counted_at", "id"), page_facts)


def openable_orders(user: User, order_ids: list[int]) -> set[int]:
    """Which of a page's orders the user may open (their rows link to the order page), in one query
    through the one scoping place."""
    return set(access.visible_orders(user, WorkOrder.objects.filter(pk__in=order_ids)).values_list("pk", flat=True))


def differs_now(fact) -> list[str]:
    """What about a frozen row's order is different now (empty: nothing)."""
    out = []
    if getattr(fact, "now_corrected", False):
        out.append("corrected")
    bits = getattr(fact, "counted_bits", None)
    if bits is not None and hasattr(fact, "now_excluded") and bool(bits & rates.BIT_EXCLUDED) != fact.now_excluded:
        out.append("exclusion")
    return out


def lost_points(snapshot: Snapshot, unit: Unit) -> dict[str, int]:
    """Where a unit lost points: counts of facts not contacted, not resolved and not satisfied."""
    lost = ("not_contacted", "not_resolved", "basic", "unsatisfied")
    scope = scope_of_unit(unit)
    if snapshot.kind == Snapshot.Kind.PROVISIONAL:
        facts = rates.window_facts(snapshot.ruleset, snapshot.period_start, snapshot.period_end)
        return facts.filter(rates.unit_filter(scope, unit)).aggregate(
            **rates.count_aggregates(snapshot.ruleset, {m: m for m in lost})
        )
    members = SnapshotMember.objects.filter(snapshot_id=snapshot.pk)
    members = members.filter(district_id=unit.division_id) if scope == Scope.DISTRICT else members.filter(unit=unit)
    return {m: rates.member_measure(members, m).count() for m in lost}


def snapshot_differences(user: User, snapshot: Snapshot) -> list[dict]:
    """A recomputation's differences as this user may see them: the city all; a district its own
    units' and the districts' rows (the districts table is published citywide)."""
    try:
        if access.supervised_district(user) is None:  # whoever oversees the whole city
            return snapshot.differences
    except AccessDenied:
        return []
    own = set(
        Unit.objects.filter(access.visible_units_q(user) | Q(kind=Unit.Kind.DISTRICT)).values_list("pk", flat=True)
    )
    return [d for d in snapshot.differences if d["unit_id"] in own]
