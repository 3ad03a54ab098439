"""Writes of the assessment: rule versions, snapshots (compute, freeze, recompute).

The figures are computed by the database: one GROUP BY with conditional aggregates over the
callback facts per unit, the figures, the sample-size flag, the ranks and the 末位 marks of
rates.py (RANK() window functions), inserted straight into SnapshotRow by one
INSERT … SELECT. Python only passes the period bounds and the rule parameters.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, DurationField, ExpressionWrapper, F, IntegerField, Value, When
from django.db.models.functions import ExtractHour
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessment import periods, rates
from assessment.models import (
    CallbackFact,
    ExclusionFact,
    RuleSet,
    Scope,
    Snapshot,
    SnapshotMember,
    SnapshotRow,
    frozen_label,
)
from assessment.rulesets import ruleset_active
from assessment.snapshots.selectors import published_snapshot
from districts.models import Division, Unit
from hotline import access
from hotline.errors import DomainError
from hotline.models import Category, User
from workorders.models import WorkOrder

# --- Snapshots ----------------------------------------------------------------------------------

_AGG_COLUMNS = ", ".join(rates.COUNT_COLUMNS)


AGG_TABLE = "assessment_agg_tmp"


def _aggregate(snapshot: Snapshot, ruleset: RuleSet) -> None:
    """The one pass over the facts: a GROUP BY (assessed unit, district) with the conditional
    counts of rates.py over the facts that count in the period, into a temporary table of a few
    thousand rows that the three scopes (streets, departments, districts) then read."""
    per_unit = (
        rates.window_facts(ruleset, snapshot.period_start, snapshot.period_end)
        .values("assessed_unit_id", "district_id")
        .annotate(**rates.count_aggregates(ruleset))
        .order_by()
    )
    # The ORM writes the SELECT (and adapts its parameters to the database); the table wraps it.
    select, params = per_unit.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {AGG_TABLE}")
        cursor.execute(f"CREATE TEMPORARY TABLE {AGG_TABLE} AS {select}", params)


def _drop_aggregate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {AGG_TABLE}")


def _agg_by(column: str) -> str:
    sums = ", ".join(f"SUM({c}) AS {c}" for c in rates.COUNT_COLUMNS)
    return f"SELECT {column} AS group_id, {sums} FROM {AGG_TABLE} WHERE {column} IS NOT NULL GROUP BY {column}"


def _insert_rows(snapshot: Snapshot, ruleset: RuleSet, scope: str) -> int:
    """Rates, composite and ranks of one scope from the aggregate, in one INSERT … SELECT."""
    unit_t, div_t, row_t = Unit._meta.db_table, Division._meta.db_table, SnapshotRow._meta.db_table
    if scope == Scope.DISTRICT:
        units = f"""FROM {unit_t} u LEFT JOIN ({_agg_by("district_id")}) a ON a.group_id = u.division_id
                    WHERE u.kind = 'district' AND u.division_id IS NOT NULL"""
        district_col = "u.division_id"
    elif scope == Scope.STREET:
        # Every ranked street appears, with or without callbacks (those without are flagged).
        units = f"""FROM {unit_t} u JOIN {div_t} d ON d.id = u.division_id
                    LEFT JOIN ({_agg_by("assessed_unit_id")}) a ON a.group_id = u.id
                    WHERE u.kind = 'street' AND d.level = {Division.Level.STREET}
                      AND d.kind <> '{Division.Kind.SPECIAL_ZONE}'"""
        district_col = "u.district_id"
    else:
        # Departments appear when they had callbacks in the period.
        units = f"""FROM {unit_t} u JOIN ({_agg_by("assessed_unit_id")}) a ON a.group_id = u.id
                    WHERE u.kind = 'department'"""
        district_col = "u.district_id"
    counts = ",\n               ".join(f"COALESCE(a.{c}, 0) AS {c}" for c in rates.COUNT_COLUMNS)
    columns = {c: f"a.{c}" for c in rates.COUNT_COLUMNS}
    scored_terms = {
        **rates.figures_sql(columns, rates.Weights.of(ruleset)),
        "flagged": rates.flagged_sql(columns, ruleset),
    }
    scored = f"""
        SELECT u.id AS unit_id, {district_col} AS district_id,
               {counts},
               {", ".join(f"{term.text} AS {name}" for name, term in scored_terms.items())}
        {units}
    """
    # The figures, the flag, the ranks and the 末位 marks: rates.py's rules.
    figures = [name for name in scored_terms if name != "flagged"]
    ranks = rates.ranking_sql("s", ruleset, per_district=scope != Scope.DISTRICT)  # districts: citywide only
    sql = f"""
        INSERT INTO {row_t} (snapshot_id, scope, unit_id, district_id, {_AGG_COLUMNS},
                             {", ".join(figures)}, {", ".join(ranks)})
        SELECT %s, %s, s.unit_id, s.district_id, {", ".join(f"s.{c}" for c in rates.COUNT_COLUMNS)},
               {", ".join(f"s.{name}" for name in figures)},
               {", ".join(term.text for term in ranks.values())}
          FROM ({scored}) s
    """
    # Parameters in textual order: the outer SELECT, then the scored SELECT.
    params = [
        snapshot.pk,
        scope,
        *(p for term in ranks.values() for p in term.params),
        *(p for term in scored_terms.values() for p in term.params),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _set_movement(snapshot: Snapshot) -> None:
    """Movement = previous period's rank − this rank (positive: moved up), against the previous
    period's published snapshot. Unranked either time → no movement."""

    previous = published_snapshot(periods.shift(snapshot.period, -1), with_stats=False)
    if previous is None:
        return
    row_t = SnapshotRow._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {row_t} SET
              movement_in_district = (SELECT p.rank_in_district FROM {row_t} p
                  WHERE p.snapshot_id = %s AND p.scope = {row_t}.scope AND p.unit_id = {row_t}.unit_id)
                  - rank_in_district,
              movement_citywide = (SELECT p.rank_citywide FROM {row_t} p
                  WHERE p.snapshot_id = %s AND p.scope = {row_t}.scope AND p.unit_id = {row_t}.unit_id)
                  - rank_citywide
            WHERE snapshot_id = %s
            """,
            [previous.pk, previous.pk, snapshot.pk],
        )


RESPONSE_BUCKETS = [
    ("lt1h", timedelta(hours=1)),
    ("lt2h", timedelta(hours=2)),
    ("lt24h", timedelta(hours=24)),
    ("lt3d", timedelta(days=3)),
    ("lt7d", timedelta(days=7)),
]


def _dashboard_stats(start: datetime, end: datetime) -> dict:
    """Intake by category and by hour, and response times, for orders dispatched in the period: per
    district code and for the city. Two GROUP BYs (district × category; district × hour × response
    bucket), stored with the snapshot so dashboards read, not aggregate."""

    orders = WorkOrder.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
    codes = dict(Division.objects.filter(level=Division.Level.DISTRICT).values_list("id", "code"))
    stats: dict[str, dict] = {}

    def bucket(key: str) -> dict:
        return stats.setdefault(key, {"by_category": {}, "by_hour": [0] * 24, "response": {}, "orders": 0})

    by_category = list(orders.values("district_id", "category_id").annotate(n=Count("id")).order_by())
    names = dict(Category.objects.filter(pk__in={r["category_id"] for r in by_category}).values_list("id", "name"))
    for row in by_category:
        for key in ("city", codes.get(row["district_id"])):
            if key:
                b = bucket(key)
                name = names.get(row["category_id"], "—")
                b["by_category"][name] = b["by_category"].get(name, 0) + row["n"]
                b["orders"] += row["n"]
    elapsed = ExpressionWrapper(F("responded_at") - F("dispatched_at"), output_field=DurationField())
    whens = [When(elapsed__lt=limit, then=Value(i)) for i, (_name, limit) in enumerate(RESPONSE_BUCKETS)]
    rows = (
        orders.annotate(elapsed=elapsed, h=ExtractHour("dispatched_at"))
        .annotate(
            b=Case(
                When(responded_at__isnull=True, then=Value(-1)),
                *whens,
                default=Value(len(RESPONSE_BUCKETS)),
                output_field=IntegerField(),
            )
        )
        .values("district_id", "h", "b")
        .annotate(n=Count("id"))
        .order_by()
    )
    bucket_names = [name for name, _limit in RESPONSE_BUCKETS] + ["ge7d"]
    for row in rows:
        for key in ("city", codes.get(row["district_id"])):
            if not key:
                continue
            b = bucket(key)
            if row["h"] is not None:
                b["by_hour"][row["h"]] += row["n"]
            if row["b"] >= 0:
                name = bucket_names[row["b"]]
                b["response"][name] = b["response"].get(name, 0) + row["n"]
    return stats


def snapshot_rows_compute(snapshot: Snapshot, ruleset: RuleSet) -> dict[str, int]:
    """Every unit's rates, composite and ranks for the snapshot: one pass over the orders, then one
    INSERT … SELECT per scope. Call inside the snapshot's transaction."""
    _aggregate(snapshot, ruleset)
    try:
        return {scope: _insert_rows(snapshot, ruleset, scope) for scope in Scope.values}
    finally:
        _drop_aggregate()


MEMBER_KINDS = (Snapshot.Kind.FROZEN, Snapshot.Kind.RECOMPUTED)


def _store_members(snapshot: Snapshot, ruleset: RuleSet) -> int:
    """Frozen membership: every fact the snapshot counted, with the sets it was counted in and the
    unit and district it counted for, in one INSERT … SELECT."""
    facts = (
        rates.window_facts(ruleset, snapshot.period_start, snapshot.period_end)
        .annotate(m_bits=rates.bits_expr())
        .values("id", "assessed_unit_id", "district_id", "callback_at", "m_bits")
        .order_by()
    )
    select, params = facts.query.get_compiler(connection=connection).as_sql()
    member_t = SnapshotMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {member_t} (snapshot_id, fact_id, unit_id, district_id, callback_at, bits)
                SELECT %s, x.id, x.assessed_unit_id, x.district_id, x.callback_at, x.m_bits FROM ({select}) x
                 ORDER BY x.district_id, x.assessed_unit_id, x.callback_at, x.id""",
            [snapshot.pk, *params],
        )
        return cursor.rowcount


def _compute(snapshot: Snapshot, ruleset: RuleSet) -> None:
    snapshot_rows_compute(snapshot, ruleset)
    if snapshot.kind in MEMBER_KINDS:
        _store_members(snapshot, ruleset)
    _set_movement(snapshot)
    snapshot.stats = _dashboard_stats(snapshot.period_start, snapshot.period_end)
    snapshot.save(update_fields=["stats"])


def _new_snapshot(*, period: str, ruleset: RuleSet, kind: str, now: datetime, **extra) -> Snapshot:
    start, end = rates.period_bounds(ruleset, period)
    return Snapshot.objects.create(
        period=period, period_start=start, period_end=end, ruleset=ruleset, kind=kind, computed_at=now, **extra
    )


def snapshot_compute_provisional(*, period: str, now: datetime | None = None) -> Snapshot | None:
    """(Re)compute the provisional figures of a period that is not frozen yet. Returns None for a
    frozen period: a frozen month never changes silently."""
    periods.parse(period)
    now = now or timezone.now()
    ruleset = ruleset_active()
    with transaction.atomic():
        # Serialise with freezing and with another provisional run for the same period.
        list(RuleSet.objects.select_for_update().filter(pk=ruleset.pk))
        if Snapshot.objects.filter(period=period, kind=Snapshot.Kind.FROZEN).exists():
            return None
        Snapshot.objects.filter(period=period, kind=Snapshot.Kind.PROVISIONAL).delete()
        snapshot = _new_snapshot(period=period, ruleset=ruleset, kind=Snapshot.Kind.PROVISIONAL, now=now)
        _compute(snapshot, ruleset)
    return snapshot


def snapshot_freeze(*, period: str, now: datetime | None = None, acting_user: User | None = None) -> Snapshot:
    """Freeze a period: compute it once more under the active rules and keep that result for good.
    Idempotent: freezing a frozen period returns the existing snapshot unchanged."""
    periods.parse(period)
    if acting_user is not None:
        access.require(acting_user, access.Cap.RULE_ASSESSMENT)
    now = now or timezone.now()
    ruleset = ruleset_active()
    with transaction.atomic():
        list(RuleSet.objects.select_for_update().filter(pk=ruleset.pk))
        existing = Snapshot.objects.filter(period=period, kind=Snapshot.Kind.FROZEN).first()
        if existing is not None:
            return existing
        _start, end = rates.period_bounds(ruleset, period)
        if end > now:
            raise DomainError(_("考核周期 %(period)s 尚未结束，不能冻结。") % {"period": period}, code="period_open")
        Snapshot.objects.filter(period=period, kind=Snapshot.Kind.PROVISIONAL).delete()
        # Stored in the installation's language whoever froze it; the pages show display_label.
        with translation.override(settings.LANGUAGE_CODE):
            label = frozen_label(period, ruleset.version)
        snapshot = _new_snapshot(
            period=period,
            ruleset=ruleset,
            kind=Snapshot.Kind.FROZEN,
            now=now,
            frozen_at=now,
            created_by=acting_user,
            label=label,
        )
        _compute(snapshot, ruleset)
    return snapshot


def snapshot_recompute(
    *, period: str, acting_user: User, label: str, ruleset: RuleSet | None = None, now: datetime | None = None
) -> Snapshot:
    """Recompute a frozen period (under the active or a named rule version) as a new snapshot that
    is labelled and lists every unit whose figures differ from the frozen result."""
    access.require(acting_user, access.Cap.RULE_ASSESSMENT)
    periods.parse(period)
    label = (label or "").strip()
    if not label:
        raise DomainError(_("重算必须填写原因说明。"), code="label_required")
    now = now or timezone.now()
    ruleset = ruleset or ruleset_active()
    with transaction.atomic():
        frozen = Snapshot.objects.filter(period=period, kind=Snapshot.Kind.FROZEN).first()
        if frozen is None:
            raise DomainError(_("考核周期 %(period)s 尚未冻结，无需重算。") % {"period": period}, code="not_frozen")
        snapshot = _new_snapshot(
            period=period,
            ruleset=ruleset,
            kind=Snapshot.Kind.RECOMPUTED,
            now=now,
            base=frozen,
            label=label[:200],
            created_by=acting_user,
        )
        _compute(snapshot, ruleset)
        snapshot.differences = _with_causes(frozen, snapshot, _differences(frozen, snapshot))
        snapshot.save(update_fields=["differences"])
    return snapshot


def _differences(base: Snapshot, new: Snapshot) -> list[dict]:
    """Units whose counts, composite, rank or flag differ between two snapshots (a SQL join)."""
    row_t, unit_t = SnapshotRow._meta.db_table, Unit._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT n.scope, n.unit_id, u.name, b.valid, n.valid, b.composite, n.composite,
                   b.rank_in_district, n.rank_in_district, b.rank_citywide, n.rank_citywide, b.flagged, n.flagged
              FROM {row_t} n
              JOIN {unit_t} u ON u.id = n.unit_id
              LEFT JOIN {row_t} b ON b.snapshot_id = %s AND b.scope = n.scope AND b.unit_id = n.unit_id
             WHERE n.snapshot_id = %s AND (
                   b.id IS NULL OR b.valid <> n.valid OR b.flagged <> n.flagged OR b.valid_full <> n.valid_full
                   OR b.excluded <> n.excluded OR b.total_orders <> n.total_orders
                   OR COALESCE(b.composite, -1) <> COALESCE(n.composite, -1)
                   OR COALESCE(b.rank_in_district, 0) <> COALESCE(n.rank_in_district, 0)
                   OR COALESCE(b.rank_citywide, 0) <> COALESCE(n.rank_citywide, 0))
             ORDER BY n.scope, n.rank_citywide, u.name
            """,
            [base.pk, new.pk],
        )
        keys = [
            "scope",
            "unit_id",
            "unit",
            "valid_before",
            "valid_after",
            "composite_before",
            "composite_after",
            "rank_in_district_before",
            "rank_in_district_after",
            "rank_citywide_before",
            "rank_citywide_after",
            "flagged_before",
            "flagged_after",
        ]
        rows = [dict(zip(keys, r, strict=True)) for r in cursor.fetchall()]
    for r in rows:
        r["flagged_before"] = bool(r["flagged_before"]) if r["flagged_before"] is not None else None
        r["flagged_after"] = bool(r["flagged_after"])
        for k in ("composite_before", "composite_after"):
            r[k] = float(r[k]) if r[k] is not None else None
    return rows


def _changed_members(base: Snapshot, new: Snapshot) -> list[tuple[int, int | None, int | None]]:
    """(fact id, bits in base, bits in new) of every fact counted differently by the two snapshots
    (missing on one side: None); two anti-joins over the stored membership."""
    member_t = SnapshotMember._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT n.fact_id, b.bits, n.bits FROM {member_t} n
                  LEFT JOIN {member_t} b ON b.snapshot_id = %s AND b.unit_id = n.unit_id AND b.fact_id = n.fact_id
                 WHERE n.snapshot_id = %s AND (b.fact_id IS NULL OR b.bits <> n.bits)""",
            [base.pk, new.pk],
        )
        rows = cursor.fetchall()
        cursor.execute(
            f"""SELECT b.fact_id, b.bits, NULL FROM {member_t} b
                 WHERE b.snapshot_id = %s AND NOT EXISTS (SELECT 1 FROM {member_t} n
                       WHERE n.snapshot_id = %s AND n.unit_id = b.unit_id AND n.fact_id = b.fact_id)""",
            [base.pk, new.pk],
        )
        rows += cursor.fetchall()
    return rows


CAUSE_KINDS = (
    "exclusion_approved",
    "exclusion_revoked",
    "callback_corrected",
    "reassigned",
    "rule_changed",
    "rank_shift",
    "no_membership",
)


def _cause(kind: str, fact=None, *, fact_kind: str = "callback", order=None, at=None, detail: str = "") -> dict:
    return {
        "kind": kind,
        "fact_kind": fact_kind,
        "fact_id": fact.pk if fact is not None else None,
        "order_id": order.pk if order is not None else None,
        "order_number": order.number if order is not None else "",
        "at": at.isoformat() if at is not None else None,
        "detail": detail,
    }


def fact_causes(base: Snapshot, new: Snapshot) -> list[dict]:
    """Why each fact is counted differently by `new` than by the frozen `base`, each cause naming
    the fact that changed: an exclusion approved or revoked, a callback corrected (and the order
    re-assigned to another unit), the rule version. Each entry also names the units it touches."""
    changed = _changed_members(base, new)
    if not changed:
        return []
    bits = {fid: (before, after) for fid, before, after in changed}
    facts = {f.pk: f for f in CallbackFact.objects.filter(pk__in=bits).select_related("order", "supersedes")}
    since = base.frozen_at or base.computed_at
    exclusions: dict[int, list[ExclusionFact]] = {}
    for e in ExclusionFact.objects.filter(order_id__in={f.order_id for f in facts.values()}).order_by("at", "id"):
        exclusions.setdefault(e.order_id, []).append(e)
    rule_changed = base.ruleset_id != new.ruleset_id
    out = []
    for fid, (before, after) in bits.items():
        fact = facts[fid]
        order = fact.order
        units = {fact.assessed_unit_id}
        causes = []
        if before is None and fact.supersedes_id is not None:
            old = fact.supersedes
            units.add(old.assessed_unit_id)
            causes.append(_cause("callback_corrected", fact, order=order, at=fact.recorded_at, detail=fact.reason))
            if old.assessed_unit_id != fact.assessed_unit_id:
                causes.append(_cause("reassigned", fact, order=order, at=fact.recorded_at, detail=fact.reason))
        elif after is None and CallbackFact.objects.filter(supersedes_id=fid).exists():
            newer = CallbackFact.objects.get(supersedes_id=fid)
            units.add(newer.assessed_unit_id)
            causes.append(_cause("callback_corrected", newer, order=order, at=newer.recorded_at, detail=newer.reason))
            if newer.assessed_unit_id != fact.assessed_unit_id:
                causes.append(_cause("reassigned", newer, order=order, at=newer.recorded_at, detail=newer.reason))
        elif before is not None and after is not None and (before ^ after) & rates.BIT_EXCLUDED:
            later = [e for e in exclusions.get(order.pk, []) if e.at > since] or exclusions.get(order.pk, [])[-1:]
            for e in later:
                causes.append(
                    _cause(f"exclusion_{e.kind}", e, fact_kind="exclusion", order=order, at=e.at, detail=e.note)
                )
        if not causes and rule_changed:
            causes.append(
                _cause(
                    "rule_changed",
                    fact,
                    order=order,
                    detail=f"v{base.ruleset.version} → v{new.ruleset.version}",
                )
            )
        out.append(
            {
                "fact_id": fid,
                "order_id": order.pk,
                "district_id": fact.district_id,
                "units": sorted(u for u in units if u is not None),
                "bits_before": before,
                "bits_after": after,
                "causes": causes,
            }
        )
    return out


def _with_causes(base: Snapshot, new: Snapshot, differences: list[dict]) -> list[dict]:
    """Each unit difference with the causes of the facts it counts differently; a unit whose
    counts did not change but whose rank moved is marked as moved by the others."""
    if differences and not SnapshotMember.objects.filter(snapshot_id=base.pk).exists():
        # Frozen before membership was stored: the counted facts of the base are not known.
        for d in differences:
            d["causes"] = [_cause("no_membership")]
        return differences
    per_fact = fact_causes(base, new)
    district_units = dict(
        Unit.objects.filter(pk__in={d["unit_id"] for d in differences}, kind=Unit.Kind.DISTRICT).values_list(
            "pk", "division_id"
        )
    )
    for d in differences:
        if d["scope"] == Scope.DISTRICT:
            mine = [f for f in per_fact if f["district_id"] == district_units.get(d["unit_id"])]
        else:
            mine = [f for f in per_fact if d["unit_id"] in f["units"]]
        causes, seen = [], set()
        for f in mine:
            for c in f["causes"]:
                key = (c["kind"], c["fact_kind"], c["fact_id"])
                if key not in seen:
                    seen.add(key)
                    causes.append(c)
        d["causes"] = causes or [_cause("rank_shift")]
    return differences


def snapshot_freeze_due(*, now: datetime | None = None) -> Snapshot | None:
    """Freeze the previous period once `freeze_after_days` of the current one have passed (beat)."""
    now = now or timezone.now()
    ruleset = ruleset_active()
    current = periods.period_of(now, ruleset.period_start_day)
    previous = periods.shift(current, -1)
    start, _end = rates.period_bounds(ruleset, current)
    if now < start + timedelta(days=ruleset.freeze_after_days):
        return None
    return snapshot_freeze(period=previous, now=now)


def snapshot_run(*, action: str, period: str, acting_user: User, label: str = "") -> Snapshot:
    """The city's snapshot actions, for the page and the API alike: `provisional` recomputes an
    open period, `freeze` freezes a finished one, `recompute` makes a labelled recomputation of a
    frozen one."""
    access.require(acting_user, access.Cap.RULE_ASSESSMENT)
    if action == "freeze":
        return snapshot_freeze(period=period, acting_user=acting_user)
    if action == "recompute":
        return snapshot_recompute(period=period, acting_user=acting_user, label=label)
    if action == "provisional":
        snapshot = snapshot_compute_provisional(period=period)
        if snapshot is None:
            raise DomainError(_("该周期已冻结，临时结果不再计算。"), code="frozen")
        return snapshot
    raise DomainError(_("未知操作。"), code="unknown_action")
