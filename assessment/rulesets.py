from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessment import periods, rates
from assessment.models import DEFAULT_COUNTED_TYPES, AssessScope, Counting, RuleSet
from hotline import access, numbers
from hotline.errors import DomainError
from hotline.models import Call, User

# --- Rule sets --------------------------------------------------------------------------------


def ruleset_active() -> RuleSet:
    """The active rule version; the defaults of DOMAIN.md become version 1 on first use."""
    active = RuleSet.objects.filter(is_active=True).first()
    if active is not None:
        return active
    try:
        with transaction.atomic():
            return RuleSet.objects.create(
                version=1, is_active=True, counted_request_types=list(DEFAULT_COUNTED_TYPES), note="默认规则"
            )
    except IntegrityError:
        # Another process created it first.
        return RuleSet.objects.get(is_active=True)


RULE_FIELDS = (
    "response_weight",
    "resolution_weight",
    "satisfaction_weight",
    "basic_factor",
    "period_start_day",
    "counted_request_types",
    "min_valid_callbacks",
    "bottom_n",
    "bottom_min_ranked",
    "counting",
    "scope_rules",
    "default_scope",
    "freeze_after_days",
    "note",
)
# Items a form may leave out (None): they keep the active version's value.
OPTIONAL_FIELDS = ("bottom_min_ranked", "counting", "scope_rules", "default_scope")


def _validate_rules(values: dict) -> None:
    weights = [Decimal(str(values[k])) for k in ("response_weight", "resolution_weight", "satisfaction_weight")]
    if any(w < 0 for w in weights) or sum(weights) != Decimal("1"):
        raise DomainError(_("三率权重必须为非负数且之和等于 1。"), code="invalid_weights")
    factor = Decimal(str(values["basic_factor"]))
    if not Decimal("0") <= factor <= Decimal("1"):
        raise DomainError(_("基本满意系数必须在 0 到 1 之间。"), code="invalid_factor")
    if values["period_start_day"] not in (RuleSet.PeriodStart.CALENDAR, RuleSet.PeriodStart.NINETEENTH):
        raise DomainError(_("考核周期起始日只能是 1 日或 19 日。"), code="invalid_period_start")
    types = values["counted_request_types"]
    known = set(Call.RequestType.values)
    if not isinstance(types, list) or not types or not set(types) <= known:
        raise DomainError(_("参与考核的诉求类型至少选一项，且必须是已知类型。"), code="invalid_types")
    for key in ("min_valid_callbacks", "bottom_n", "bottom_min_ranked", "freeze_after_days"):
        if not isinstance(values[key], int) or values[key] < 0:
            raise DomainError(_("阈值必须是非负整数。"), code="invalid_threshold")
    if values["counting"] not in Counting.values:
        raise DomainError(_("回访计数规则无效。"), code="invalid_counting")
    if values["default_scope"] not in AssessScope.values:
        raise DomainError(_("默认考评范围无效。"), code="invalid_scope")
    # Entries checked (known categories, types, scopes; no overlaps, both entries named).
    rates.scope_rules(values["scope_rules"])


def ruleset_publish(*, acting_user: User, **changes) -> RuleSet:
    """A new rule version from the active one plus `changes`; it becomes the active one. Older
    versions stay as they were, so every snapshot can say which rules it used."""
    access.require(acting_user, access.Cap.RULE_ASSESSMENT)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise DomainError(_("未知的规则项：%(names)s") % {"names": ", ".join(sorted(unknown))}, code="invalid")
    current = ruleset_active()
    values = {k: getattr(current, k) for k in RULE_FIELDS}
    values.update({k: v for k, v in changes.items() if not (k in OPTIONAL_FIELDS and v is None)})
    if isinstance(values["scope_rules"], str):
        try:
            values["scope_rules"] = json.loads(values["scope_rules"] or "[]")
        except ValueError:
            raise DomainError(_("分级考评范围必须是列表。"), code="invalid_scope_rules") from None
    if values["scope_rules"] in (None, ""):  # "null" from a form: no graded entries
        values["scope_rules"] = []
    if "counted_request_types" in changes and isinstance(values["counted_request_types"], (list, tuple)):
        values["counted_request_types"] = sorted(set(values["counted_request_types"]))
    for key in ("period_start_day", "min_valid_callbacks", "bottom_n", "bottom_min_ranked", "freeze_after_days"):
        values[key] = numbers.ascii_int(values[key])
        if values[key] is None:
            raise DomainError(_("阈值必须是非负整数。"), code="invalid_threshold")
    try:
        for key in ("response_weight", "resolution_weight", "satisfaction_weight", "basic_factor"):
            values[key] = Decimal(str(values[key]))
    except ArithmeticError:
        raise DomainError(_("权重和系数必须是数字。"), code="invalid_weights") from None
    _validate_rules(values)
    with transaction.atomic():
        # The lock on the active row serialises two publishers: the second sees the first's version.
        locked = RuleSet.objects.select_for_update().filter(is_active=True).first()
        last = RuleSet.objects.order_by("-version").values_list("version", flat=True).first() or 0
        if locked is not None:
            RuleSet.objects.filter(pk=locked.pk).update(is_active=False)
        return RuleSet.objects.create(version=last + 1, is_active=True, created_by=acting_user, **values)


def active_ruleset() -> RuleSet:

    return ruleset_active()


def current_period(now: datetime | None = None) -> str:
    return periods.period_of(now or timezone.now(), active_ruleset().period_start_day)
