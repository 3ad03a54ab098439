"""The one home of the assessment's rules, read by the ranking, the dashboards, the reports and the
drill-down alike. Everything here reads assessment facts (assessment.models.CallbackFact /
ExclusionFact), never the order's convenience columns.

- which facts count: the current (not superseded) valid callback facts whose callback time falls in
  the period (bounds from the rule set's start day); with the rule set's counting option
  EACH_ROUND (default) every round's fact counts in its own period, with FIRST_VALID only the
  order's first valid round; a fact is excluded while its order has an approved, unrevoked
  exclusion fact;
- graded scope (分级分类考评): the rule set maps categories (with their sub-categories) and/or
  request types to a scope — three rates, response rate only, not assessed — with a default;
  request types outside `counted_request_types` are not assessed. The response rate counts facts
  in scope FULL or RESPONSE (`valid`), resolution and satisfaction only FULL (`valid_full`);
- the counts taken from them (`MEASURES`), as ORM aggregates, so figures are computed in the
  database; a frozen snapshot stores each counted fact with the sets it was counted in (BIT_*);
- the formulas turning counts into the three rates and the composite, written once and rendered
  both as Python (figures from sums) and as SQL (the ranking's INSERT … SELECT).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assessment import periods
from assessment.models import (
    AssessScope,
    CallbackFact,
    Counting,
    ExclusionFact,
    RuleSet,
    Scope,
    Snapshot,
    SnapshotMember,
    SnapshotRow,
)
from districts.models import Unit
from hotline.errors import DomainError
from hotline.models import Call, Category

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

_M = TypeVar("_M", bound=Model)

# --- Which facts count --------------------------------------------------------------------------


def period_bounds(ruleset: RuleSet, period: str) -> tuple[datetime, datetime]:
    """[start, end) of a period label under the rule set's period start day."""
    return periods.bounds(period, ruleset.period_start_day)


def current_facts() -> QuerySet[CallbackFact]:
    """Facts no correction has superseded."""
    return CallbackFact.objects.filter(superseded_by__isnull=True)


def excluded_now() -> ExpressionWrapper[Q]:
    """The fact's order has an approved exclusion that no revocation points at. A non-correlated
    IN: the database evaluates the (small) set of excluded orders once and probes it per fact."""
    standing = ExclusionFact.objects.filter(kind=ExclusionFact.Kind.APPROVED, revoked_by__isnull=True)
    return ExpressionWrapper(Q(order_id__in=standing.values("order_id")), output_field=BooleanField())


# -- graded scope --


@dataclass(frozen=True)
class ScopeRule:
    index: int
    category: str | None  # a category code (covers its sub-categories)
    request_type: str | None
    scope: str
    category_ids: frozenset[int] | None

    def describe(self) -> str:
        parts = []
        if self.category:
            parts.append(gettext("分类 %(c)s") % {"c": self.category})
        if self.request_type:
            parts.append(gettext("类型 %(t)s") % {"t": self.request_type})
        return gettext("第 %(n)s 条（%(what)s → %(scope)s）") % {
            "n": self.index + 1,
            "what": "，".join(parts),
            "scope": AssessScope(self.scope).label,
        }


def _descendants(codes: set[str]) -> dict[str, frozenset[int]]:
    """code → ids of the category and all its sub-categories (the tree is small)."""
    if not codes:
        return {}
    rows = list(Category.objects.values_list("id", "code", "parent_id"))
    children: dict[int | None, list[int]] = {}
    by_code = {}
    for pk, code, parent in rows:
        children.setdefault(parent, []).append(pk)
        by_code[code] = pk
    out = {}
    for code in codes:
        if code not in by_code:
            continue
        found, stack = set(), [by_code[code]]
        while stack:
            pk = stack.pop()
            found.add(pk)
            stack.extend(children.get(pk, ()))
        out[code] = frozenset(found)
    return out


def scope_rules(raw: object) -> list[ScopeRule]:
    """The rule set's scope entries, checked: each names a known category and/or request type and
    a known scope, and no two entries can apply to the same order (overlapping entries are refused
    with both named). DomainError otherwise."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise DomainError(gettext("分级考评范围必须是列表。"), code="invalid_scope_rules")
    entries = []
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise DomainError(gettext("分级考评范围第 %(n)s 条格式错误。") % {"n": i + 1}, code="invalid_scope_rules")
        category = item.get("category") or None
        rtype = item.get("request_type") or None
        scope = item.get("scope")
        if scope not in AssessScope.values:
            raise DomainError(gettext("分级考评范围第 %(n)s 条的范围无效。") % {"n": i + 1}, code="invalid_scope_rules")
        if category is None and rtype is None:
            raise DomainError(
                gettext("分级考评范围第 %(n)s 条须指定分类或诉求类型。") % {"n": i + 1}, code="invalid_scope_rules"
            )
        if rtype is not None and rtype not in Call.RequestType.values:
            raise DomainError(
                gettext("分级考评范围第 %(n)s 条的诉求类型未知。") % {"n": i + 1}, code="invalid_scope_rules"
            )
        entries.append((i, None if category is None else str(category), rtype, scope))
    ids = _descendants({c for _i, c, _t, _s in entries if c})
    rules = []
    for i, category, rtype, scope in entries:
        if category is not None and category not in ids:
            raise DomainError(
                gettext("分级考评范围第 %(n)s 条的分类 %(c)s 不存在。") % {"n": i + 1, "c": category},
                code="invalid_scope_rules",
            )
        rules.append(ScopeRule(i, category, rtype, scope, ids.get(category) if category else None))
    for a_pos, a in enumerate(rules):
        for b in rules[a_pos + 1 :]:
            cats = a.category_ids is None or b.category_ids is None or bool(a.category_ids & b.category_ids)
            types = a.request_type is None or b.request_type is None or a.request_type == b.request_type
            if cats and types:
                raise DomainError(
                    gettext("分级考评范围重叠：%(a)s 与 %(b)s 可能适用于同一工单。")
                    % {"a": a.describe(), "b": b.describe()},
                    code="overlapping_scope_rules",
                )
    return rules


def scope_expr(ruleset: RuleSet) -> Case:
    """The scope of a fact under `ruleset`, from its category and request type."""
    whens = [When(~Q(request_type__in=list(ruleset.counted_request_types)), then=Value(AssessScope.NONE))]
    for rule in scope_rules(ruleset.scope_rules):
        cond = Q()
        if rule.category_ids is not None:
            cond &= Q(category_id__in=sorted(rule.category_ids))
        if rule.request_type is not None:
            cond &= Q(request_type=rule.request_type)
        whens.append(When(cond, then=Value(rule.scope)))
    return Case(*whens, default=Value(ruleset.default_scope or AssessScope.FULL), output_field=CharField())


def scope_of(ruleset: RuleSet, *, category_id: int, request_type: str) -> str:
    """The same decision in Python, for one fact being written."""
    if request_type not in ruleset.counted_request_types:
        return AssessScope.NONE
    for rule in scope_rules(ruleset.scope_rules):
        if rule.category_ids is not None and category_id not in rule.category_ids:
            continue
        if rule.request_type is not None and rule.request_type != request_type:
            continue
        return rule.scope
    return ruleset.default_scope or AssessScope.FULL


# -- the sets a fact is counted in, and its answers as counted (stored by frozen snapshots) --
BIT_TOTAL, BIT_VALID, BIT_FULL, BIT_EXCLUDED = 1, 2, 4, 8
BIT_CONTACTED, BIT_RESOLVED, BIT_SATISFIED, BIT_BASIC, BIT_UNSATISFIED = 16, 32, 64, 128, 256
SETS = {
    "total": Q(),
    "valid": Q(a_scope__in=[AssessScope.FULL, AssessScope.RESPONSE], a_excluded=False),
    "full": Q(a_scope=AssessScope.FULL, a_excluded=False),
    "excluded": Q(a_excluded=True) & ~Q(a_scope=AssessScope.NONE),
}
SET_BITS = {"total": BIT_TOTAL, "valid": BIT_VALID, "full": BIT_FULL, "excluded": BIT_EXCLUDED}
ANSWER_BITS = {
    BIT_CONTACTED: Q(contacted=True),
    BIT_RESOLVED: Q(solved="resolved"),
    BIT_SATISFIED: Q(satisfaction="satisfied"),
    BIT_BASIC: Q(satisfaction="basic"),
    BIT_UNSATISFIED: Q(satisfaction="unsatisfied"),
}


def bits_expr() -> Expression:
    """The sets of SETS a fact is counted in and its answers, as one small integer."""
    expr: Expression = Value(BIT_TOTAL, output_field=IntegerField())
    conditions = [(SETS[name], bit) for name, bit in SET_BITS.items() if name != "total"]
    for cond, bit in [*conditions, *((q, bit) for bit, q in ANSWER_BITS.items())]:
        expr = expr + Case(When(cond, then=Value(bit)), default=Value(0), output_field=IntegerField())
    return expr


def counting_facts(ruleset: RuleSet) -> QuerySet[CallbackFact]:
    """The current valid callback facts that the counting rule takes, at any callback time,
    annotated with their scope (a_scope) and exclusion (a_excluded) under `ruleset`."""
    qs = current_facts().filter(valid=True)
    if ruleset.counting == Counting.FIRST_VALID:
        earlier = current_facts().filter(order_id=OuterRef("order_id"), round__lt=OuterRef("round"), valid=True)
        qs = qs.filter(~Exists(earlier))
    return qs.annotate(a_scope=scope_expr(ruleset), a_excluded=excluded_now())


def window_facts(ruleset: RuleSet, start: datetime, end: datetime) -> QuerySet[CallbackFact]:
    """The counting facts (counting_facts) of [start, end) by their callback time."""
    return counting_facts(ruleset).filter(callback_at__gte=start, callback_at__lt=end)


# --- The facts behind a figure ------------------------------------------------------------------
# Each measure: its label, the set it is taken from (SETS) and the condition on the fact's answers
# (MEASURE_ANSWER_BITS: the same condition over the stored bits — all of `required`, none of
# `forbidden`, any of `anyof`).
MEASURES = {
    "total": (_("全部回访"), "total", Q()),
    "valid": (_("有效回访"), "valid", Q()),
    "valid_full": (_("有效回访（三率）"), "full", Q()),
    "contacted": (_("已联系"), "valid", Q(contacted=True)),
    "not_contacted": (_("未联系"), "valid", ~Q(contacted=True)),
    "resolved": (_("已解决"), "full", Q(solved="resolved")),
    "not_resolved": (_("未解决或部分解决"), "full", ~Q(solved="resolved")),
    "satisfied": (_("满意"), "full", Q(satisfaction="satisfied")),
    "basic": (_("基本满意"), "full", Q(satisfaction="basic")),
    "unsatisfied": (_("不满意"), "full", Q(satisfaction="unsatisfied")),
    "not_satisfied": (_("非满意（基本满意与不满意）"), "full", Q(satisfaction__in=["basic", "unsatisfied"])),
    "excluded": (_("已剔除"), "excluded", Q()),
}

# The counts a snapshot row stores (its column → the measure it counts).
COUNT_COLUMNS = {
    "total_orders": "total",
    "valid": "valid",
    "valid_full": "valid_full",
    "contacted": "contacted",
    "resolved": "resolved",
    "satisfied": "satisfied",
    "basic": "basic",
    "unsatisfied": "unsatisfied",
    "excluded": "excluded",
}


# A measure's count read from a row's stored counts (COUNT_COLUMNS), so that a table's figure and
# the list behind its link are one set: a stored column; the rest of the measure's own set (that
# set's count minus a stored measure over the same set: "not resolved" is taken from the facts
# assessed on three rates, never from all valid ones); or a sum of stored measures.
SET_COUNT = {"total": "total", "valid": "valid", "full": "valid_full", "excluded": "excluded"}
REST_OF = {"not_contacted": "contacted", "not_resolved": "resolved"}
SUM_OF = {"not_satisfied": ("basic", "unsatisfied")}
STORED = {measure: column for column, measure in COUNT_COLUMNS.items()}


def measure_counts(counts: SnapshotRow | Mapping[str, int | None]) -> dict[str, int]:
    """Every measure's count from a row's stored counts (a SnapshotRow, or a mapping column → count)."""
    get: Callable[[str], int | None] = (
        counts.get if isinstance(counts, Mapping) else lambda column: getattr(counts, column)
    )
    stored = {measure: get(column) or 0 for measure, column in STORED.items()}
    out = dict(stored)
    for measure, part in REST_OF.items():
        out[measure] = stored[SET_COUNT[MEASURES[measure][1]]] - stored[part]
    for measure, parts in SUM_OF.items():
        out[measure] = sum(stored[p] for p in parts)
    return out


def _measure(measure: str) -> tuple[StrPromise, str, Q]:
    if measure not in MEASURES:
        raise DomainError(_("未知的统计口径。"), code="invalid_measure")
    return MEASURES[measure]


def measure_q(ruleset: RuleSet | None, measure: str) -> Q:
    """Which of a window's (annotated) facts a measure takes."""
    _label, set_name, outcome = _measure(measure)
    return SETS[set_name] & outcome


MEASURE_ANSWER_BITS = {
    "total": (0, 0, 0),
    "valid": (0, 0, 0),
    "valid_full": (0, 0, 0),
    "contacted": (BIT_CONTACTED, 0, 0),
    "not_contacted": (0, BIT_CONTACTED, 0),
    "resolved": (BIT_RESOLVED, 0, 0),
    "not_resolved": (0, BIT_RESOLVED, 0),
    "satisfied": (BIT_SATISFIED, 0, 0),
    "basic": (BIT_BASIC, 0, 0),
    "unsatisfied": (BIT_UNSATISFIED, 0, 0),
    "not_satisfied": (0, 0, BIT_BASIC | BIT_UNSATISFIED),
    "excluded": (0, 0, 0),
}


def member_measure(qs: QuerySet[_M], measure: str, path: str = "bits") -> QuerySet[_M]:
    """`qs` narrowed to the frozen members a measure takes, from the stored bits at `path`."""
    _label, set_name, _outcome = _measure(measure)
    required, forbidden, anyof = MEASURE_ANSWER_BITS[measure]
    required |= SET_BITS[set_name]
    qs = qs.alias(m_req=F(path).bitand(required)).filter(m_req=required)
    if forbidden:
        qs = qs.alias(m_forb=F(path).bitand(forbidden)).filter(m_forb=0)
    if anyof:
        qs = qs.alias(m_any=F(path).bitand(anyof)).filter(m_any__gt=0)
    return qs


def count_aggregates(ruleset: RuleSet, columns: Mapping[str, str] = COUNT_COLUMNS) -> dict[str, Count]:
    """Conditional counts (name → aggregate) over a window's facts, for .aggregate() / .annotate()."""
    return {name: Count("pk", filter=measure_q(ruleset, measure)) for name, measure in columns.items()}


def has_counted_fact(ruleset: RuleSet, measure: str, order: str = "pk") -> Exists:
    """Whether an order (the outer query's `order` column) has a fact that `measure` takes, at any
    callback time: lists of orders rather than facts (每月一题) count and list through it."""
    return Exists(counting_facts(ruleset).filter(measure_q(ruleset, measure), order_id=OuterRef(order)))


def unit_filter(scope: str, unit: Unit, prefix: str = "") -> Q:
    if scope == Scope.DISTRICT:
        return Q(**{f"{prefix}district_id": unit.division_id})
    return Q(**{f"{prefix}assessed_unit_id": unit.pk})


def counted_facts(snapshot: Snapshot, *, unit: Unit, scope: str, measure: str) -> QuerySet[CallbackFact]:
    """Exactly the facts a snapshot figure counted: a frozen or recomputed snapshot's stored
    membership (the facts as they were counted, annotated `counted_bits`), a provisional one's
    computed now."""
    if snapshot.kind == Snapshot.Kind.PROVISIONAL:
        start, end = snapshot.period_start, snapshot.period_end
        qs = window_facts(snapshot.ruleset, start, end).filter(measure_q(snapshot.ruleset, measure))
        return qs.filter(unit_filter(scope, unit)).annotate(counted_bits=bits_expr())
    # The facts joined to their membership rows (for exports and full listings; pages and counts
    # read frozen_members alone).
    where: dict[str, int | None] = {"memberships__snapshot_id": snapshot.pk}
    if scope == Scope.DISTRICT:
        where["memberships__district_id"] = unit.division_id
    else:
        where["memberships__unit_id"] = unit.pk
    qs = CallbackFact.objects.filter(**where).annotate(
        counted_bits=F("memberships__bits"), counted_at=F("memberships__callback_at")
    )
    return member_measure(qs, measure, path="memberships__bits")


def frozen_members(snapshot: Snapshot, *, unit: Unit, scope: str, measure: str) -> QuerySet[SnapshotMember]:
    """The membership rows behind a frozen figure: a range of the (snapshot, unit | district,
    callback time) index, narrowed by the stored bits."""
    members = SnapshotMember.objects.filter(snapshot_id=snapshot.pk)
    if scope == Scope.DISTRICT:
        members = members.filter(district_id=unit.division_id)
    else:
        members = members.filter(unit_id=unit.pk)
    return member_measure(members, measure)


# --- The formulas -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    response: float
    resolution: float
    satisfaction: float
    basic_factor: float

    # The rule set's fields, in the order of the attributes above.
    FIELDS = ("response_weight", "resolution_weight", "satisfaction_weight", "basic_factor")

    @classmethod
    def of(cls, ruleset: RuleSet | Mapping[str, Any], prefix: str = "") -> Weights:
        """From a rule set, or from a .values() row holding its fields under `prefix`."""
        get: Callable[[str], Any] = ruleset.get if isinstance(ruleset, Mapping) else lambda name: getattr(ruleset, name)
        return cls(*(float(get(prefix + name)) for name in cls.FIELDS))


class Sql:
    """A parameterised SQL term. The formulas below are written once with + * /; given numbers they
    compute a figure, given Sql column terms they render the ranking's SQL."""

    def __init__(self, text: str, params: tuple[object, ...] = ()) -> None:
        self.text, self.params = text, params

    @staticmethod
    def of(value: object) -> Sql:
        return value if isinstance(value, Sql) else Sql("%s", (value,))

    def _combine(self, op: str, other: object, *, reverse: bool = False) -> Sql:
        left, right = (Sql.of(other), self) if reverse else (self, Sql.of(other))
        if op == "/":
            # SQL divides integers by truncating; make the dividend a fraction as Python does.
            return Sql(f"(1.0 * {left.text} / {right.text})", left.params + right.params)
        return Sql(f"({left.text} {op} {right.text})", left.params + right.params)

    def __add__(self, other: object) -> Sql:
        return self._combine("+", other)

    def __radd__(self, other: object) -> Sql:
        return self._combine("+", other, reverse=True)

    def __mul__(self, other: object) -> Sql:
        return self._combine("*", other)

    def __rmul__(self, other: object) -> Sql:
        return self._combine("*", other, reverse=True)

    def __truediv__(self, other: object) -> Sql:
        return self._combine("/", other)


# The formulas compute on counts (numbers) or on Sql column terms alike, so the counts are typed Any;
# `w` is None for a rate that reads no weight (rate("resolution_rate", counts)).
Counts: TypeAlias = Mapping[str, Any]
Formula: TypeAlias = Callable[[Counts, Any], Any]


def _satisfaction_points(c: Counts, w: Weights) -> Any:
    return c["satisfied"] + w.basic_factor * c["basic"]


# name → (formula over the counts `c` and the weights `w`, the counts that must be > 0). The
# response rate divides by the facts assessed at all (`valid`), resolution and satisfaction by those
# assessed on three rates (`valid_full`); without graded scopes the two are equal.
FORMULAS: dict[str, tuple[Formula, tuple[str, ...]]] = {
    "response_rate": (lambda c, w: c["contacted"] / c["valid"], ("valid",)),
    "resolution_rate": (lambda c, w: c["resolved"] / c["valid_full"], ("valid_full",)),
    "satisfaction_rate": (lambda c, w: _satisfaction_points(c, w) / c["valid_full"], ("valid_full",)),
    # From the counts rather than the rounded rates, with the weights of the rule set.
    "composite": (
        lambda c, w: (
            100.0
            * (
                w.response * c["contacted"] / c["valid"]
                + (w.resolution * c["resolved"] + w.satisfaction * _satisfaction_points(c, w)) / c["valid_full"]
            )
        ),
        ("valid", "valid_full"),
    ),
}
COMPOSITE_DECIMALS = 2  # the composite is published (and ranked) rounded to two decimals


def rate(name: str, counts: Counts, weights: Weights | None = None) -> float | None:
    """One figure of FORMULAS from the counts it reads; None where a divisor is 0."""
    formula, needs = FORMULAS[name]
    return formula(counts, weights) if all(counts.get(k) for k in needs) else None


def figures(sums: Counts, weights: Weights) -> dict[str, float | None]:
    """The three rates and the composite from summed counts; None where a divisor is 0."""
    sums = {"valid_full": sums.get("valid"), **sums}
    out = {
        name: formula(sums, weights) if all(sums.get(k) for k in needs) else None
        for name, (formula, needs) in FORMULAS.items()
    }
    # Half away from zero, as SQL's ROUND on a NUMERIC.
    if out["composite"] is not None:
        out["composite"] = float(
            Decimal(repr(out["composite"])).quantize(Decimal(1).scaleb(-COMPOSITE_DECIMALS), rounding=ROUND_HALF_UP)
        )
    return out


def figures_sql(columns: Mapping[str, str], weights: Weights) -> dict[str, Sql]:
    """The same figures as SQL expressions over count columns (e.g. {"valid": "a.valid", …}); NULL
    without a valid callback."""
    c = {name: Sql(column) for name, column in columns.items()}
    out: dict[str, Sql] = {}
    for name, (formula, needs) in FORMULAS.items():
        term = formula(c, weights)
        if name == "composite":
            term = Sql(f"ROUND(CAST({term.text} AS NUMERIC), {COMPOSITE_DECIMALS})", term.params)
        guard = " AND ".join(f"{c[k].text} > 0" for k in needs)
        out[name] = Sql(f"CASE WHEN {guard} THEN {term.text} END", term.params)
    return out


# --- The ranking rules --------------------------------------------------------------------------
# Written beside the formulas and rendered as SQL for the ranking's INSERT … SELECT (the ranks are
# window functions over all units of a table, so the database computes them in the same statement).


def flagged_sql(columns: Mapping[str, str], ruleset: RuleSet) -> Sql:
    """The sample-size flag (样本不足), 1 or 0: fewer valid callbacks than the rule set's
    `min_valid_callbacks`, or none at all, or none assessed on three rates (no composite to rank).
    A flagged unit is listed but never ranked nor marked."""
    valid, full = (f"COALESCE({columns[c]}, 0)" for c in ("valid", "valid_full"))
    return Sql(
        f"CASE WHEN {valid} >= %s AND {valid} > 0 AND {full} > 0 THEN 0 ELSE 1 END",
        (ruleset.min_valid_callbacks,),
    )


def ranking_sql(row: str, ruleset: RuleSet, *, per_district: bool) -> dict[str, Sql]:
    """The ranks and 末位 marks of the units of a table, as SQL over a scored row `row` with the
    columns flagged (flagged_sql), composite and district_id:

    - rank: by the published (rounded) composite, equal scores share a rank (1, 2, 2, 4); flagged
      units sit in their own partition and get no rank. rank_in_district only when `per_district`
      (districts themselves are ranked citywide only);
    - 末位 (the rule set's explicit rule): only ranked units, only in a table of at least
      `bottom_min_ranked` ranked units, the leader never, and at most `bottom_n` units: a unit is
      marked when the units scoring at most its score are no more than `bottom_n` (a tie that would
      cross bottom_n is not marked)."""

    def within(district: bool) -> str:
        return f"PARTITION BY {row}.flagged, {row}.district_id" if district else f"PARTITION BY {row}.flagged"

    ranked = f"{row}.flagged = 0"

    def rank(district: bool) -> str:
        return f"RANK() OVER ({within(district)} ORDER BY {row}.composite DESC)"

    def bottom(district: bool, enabled: bool) -> Sql:
        return Sql(
            f"""CASE WHEN {ranked} AND %s
                    AND COUNT(*) OVER ({within(district)}) >= %s
                    AND COUNT(*) OVER ({within(district)} ORDER BY {row}.composite ASC) <= %s
                    AND {rank(district)} > 1
                    THEN TRUE ELSE FALSE END""",
            (enabled, ruleset.bottom_min_ranked, ruleset.bottom_n),
        )

    return {
        "flagged": Sql(f"CASE WHEN {row}.flagged = 1 THEN TRUE ELSE FALSE END"),
        "rank_in_district": Sql(f"CASE WHEN {ranked} AND %s THEN {rank(True)} END", (per_district,)),
        "rank_citywide": Sql(f"CASE WHEN {ranked} THEN {rank(False)} END"),
        "bottom_in_district": bottom(True, per_district),
        "bottom_citywide": bottom(False, True),
    }
