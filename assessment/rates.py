"""The one home of the assessment's rules, read by the ranking, the dashboards, the reports and the
drill-down alike:

- which orders count: a valid callback inside the window (an order belongs to the period of its
  callback, the period bounds following the rule set's start day), a request type the rule set
  counts, no approved exclusion;
- the counts taken from them (`MEASURES`, `counts`), as ORM aggregates, so figures are computed in
  the database;
- the formulas turning counts into the three rates and the composite, written once and rendered
  both as Python (figures from sums) and as SQL (the ranking's INSERT … SELECT).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from assessment import periods
from assessment.models import RuleSet, Scope, Snapshot
from districts.models import Unit
from hotline.errors import DomainError
from workorders.models import WorkOrder

# --- Which orders count -------------------------------------------------------------------------


def period_bounds(ruleset: RuleSet, period: str) -> tuple[datetime, datetime]:
    """[start, end) of a period label under the rule set's period start day."""
    return periods.bounds(period, ruleset.period_start_day)


def in_window(start: datetime, end: datetime) -> Q:
    """Orders whose valid callback falls in [start, end): the window a figure is computed over."""
    return Q(callback_valid=True, callback_at__gte=start, callback_at__lt=end)


def of_counted_type(ruleset: RuleSet) -> Q:
    return Q(request_type__in=list(ruleset.counted_request_types))


def counts(ruleset: RuleSet) -> Q:
    """Of the orders in a window, those that count for the rates: in_window(…) & counts(ruleset) is
    what every figure (ranking, report, drill-down) is computed over."""
    return of_counted_type(ruleset) & Q(excluded=False)


# --- The orders behind a figure -----------------------------------------------------------------
# Each measure: its label and the condition on the outcome, among the orders that count. "total"
# (every valid callback in the window) and "excluded" (approved exclusions of counted types) are
# the two that look beyond the orders that count (see measure_q).
MEASURES = {
    "total": (_("全部回访工单"), Q()),
    "valid": (_("有效回访"), Q()),
    "contacted": (_("已联系"), Q(contacted=True)),
    "not_contacted": (_("未联系"), ~Q(contacted=True)),
    "resolved": (_("已解决"), Q(solved="resolved")),
    "not_resolved": (_("未解决或部分解决"), ~Q(solved="resolved")),
    "satisfied": (_("满意"), Q(satisfaction="satisfied")),
    "basic": (_("基本满意"), Q(satisfaction="basic")),
    "unsatisfied": (_("不满意"), Q(satisfaction="unsatisfied")),
    "not_satisfied": (_("非满意（基本满意与不满意）"), Q(satisfaction__in=["basic", "unsatisfied"])),
    "excluded": (_("已剔除"), Q(excluded=True)),
}

# The counts a snapshot row stores (its column → the measure it counts).
COUNT_COLUMNS = {
    "total_orders": "total",
    "valid": "valid",
    "contacted": "contacted",
    "resolved": "resolved",
    "satisfied": "satisfied",
    "basic": "basic",
    "unsatisfied": "unsatisfied",
    "excluded": "excluded",
}


def measure_q(ruleset: RuleSet, measure: str) -> Q:
    """Which of a window's orders a measure takes."""
    if measure not in MEASURES:
        raise DomainError(_("未知的统计口径。"), code="invalid_measure")
    if measure == "total":
        return Q()
    if measure == "excluded":
        return of_counted_type(ruleset) & MEASURES[measure][1]
    return counts(ruleset) & MEASURES[measure][1]


def count_aggregates(ruleset: RuleSet, columns: Mapping[str, str] = COUNT_COLUMNS) -> dict[str, Count]:
    """Conditional counts (name → aggregate) over a window's orders, for .aggregate() / .annotate()."""
    return {name: Count("pk", filter=measure_q(ruleset, measure)) for name, measure in columns.items()}


def counted_orders(snapshot: Snapshot, *, unit: Unit, scope: str, measure: str) -> QuerySet:
    """Exactly the orders a snapshot figure was computed from (as they are now)."""
    qs = WorkOrder.objects.filter(
        in_window(snapshot.period_start, snapshot.period_end) & measure_q(snapshot.ruleset, measure)
    )
    if scope == Scope.DISTRICT:
        return qs.filter(district_id=unit.division_id)
    return qs.filter(assessed_unit=unit)


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
    def of(cls, ruleset: RuleSet | Mapping, prefix: str = "") -> Weights:
        """From a rule set, or from a .values() row holding its fields under `prefix`."""
        get = ruleset.get if isinstance(ruleset, Mapping) else lambda name: getattr(ruleset, name)
        return cls(*(float(get(prefix + name)) for name in cls.FIELDS))


class Sql:
    """A parameterised SQL term. The formulas below are written once with + * /; given numbers they
    compute a figure, given Sql column terms they render the ranking's SQL."""

    def __init__(self, text: str, params: tuple = ()) -> None:
        self.text, self.params = text, params

    @staticmethod
    def of(value) -> Sql:
        return value if isinstance(value, Sql) else Sql("%s", (value,))

    def _combine(self, op: str, other, *, reverse: bool = False) -> Sql:
        left, right = (Sql.of(other), self) if reverse else (self, Sql.of(other))
        if op == "/":
            # SQL divides integers by truncating; make the dividend a fraction as Python does.
            return Sql(f"(1.0 * {left.text} / {right.text})", left.params + right.params)
        return Sql(f"({left.text} {op} {right.text})", left.params + right.params)

    def __add__(self, other) -> Sql:
        return self._combine("+", other)

    def __radd__(self, other) -> Sql:
        return self._combine("+", other, reverse=True)

    def __mul__(self, other) -> Sql:
        return self._combine("*", other)

    def __rmul__(self, other) -> Sql:
        return self._combine("*", other, reverse=True)

    def __truediv__(self, other) -> Sql:
        return self._combine("/", other)


def _satisfaction_points(c: Mapping, w: Weights):
    return c["satisfied"] + w.basic_factor * c["basic"]


# name → formula over the counts `c` (valid > 0) and the weights `w`.
FORMULAS = {
    "response_rate": lambda c, w: c["contacted"] / c["valid"],
    "resolution_rate": lambda c, w: c["resolved"] / c["valid"],
    "satisfaction_rate": lambda c, w: _satisfaction_points(c, w) / c["valid"],
    # From the counts rather than the rounded rates, with the weights of the rule set.
    "composite": lambda c, w: (
        100.0
        * (w.response * c["contacted"] + w.resolution * c["resolved"] + w.satisfaction * _satisfaction_points(c, w))
        / c["valid"]
    ),
}
COMPOSITE_DECIMALS = 2  # the composite is published (and ranked) rounded to two decimals


def figures(sums: Mapping, weights: Weights) -> dict[str, float | None]:
    """The three rates and the composite from summed counts; None each without a valid callback."""
    if not sums.get("valid"):
        return dict.fromkeys(FORMULAS)
    out = {name: formula(sums, weights) for name, formula in FORMULAS.items()}
    # Half away from zero, as SQL's ROUND on a NUMERIC.
    out["composite"] = float(
        Decimal(repr(out["composite"])).quantize(Decimal(1).scaleb(-COMPOSITE_DECIMALS), rounding=ROUND_HALF_UP)
    )
    return out


def figures_sql(columns: Mapping[str, str], weights: Weights) -> dict[str, Sql]:
    """The same figures as SQL expressions over count columns (e.g. {"valid": "a.valid", …}); NULL
    without a valid callback."""
    c = {name: Sql(column) for name, column in columns.items()}
    out = {}
    for name, formula in FORMULAS.items():
        term = formula(c, weights)
        if name == "composite":
            term = Sql(f"ROUND(CAST({term.text} AS NUMERIC), {COMPOSITE_DECIMALS})", term.params)
        out[name] = Sql(f"CASE WHEN {c['valid'].text} > 0 THEN {term.text} END", term.params)
    return out
