from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from assessment.models import Scope, Snapshot
from districts.models import Unit
from hotline.errors import DomainError
from workorders.models import WorkOrder

# --- The orders behind a figure -----------------------------------------------------------------
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
    "excluded": (_("已剔除"), Q()),
}


def counted_orders(snapshot: Snapshot, *, unit: Unit, scope: str, measure: str) -> QuerySet:
    """Exactly the orders a snapshot figure was computed from (as they are now)."""
    if measure not in MEASURES:
        raise DomainError(_("未知的统计口径。"), code="invalid_measure")
    qs = WorkOrder.objects.filter(
        callback_valid=True, callback_at__gte=snapshot.period_start, callback_at__lt=snapshot.period_end
    )
    if scope == Scope.DISTRICT:
        qs = qs.filter(district_id=unit.division_id)
    else:
        qs = qs.filter(assessed_unit=unit)
    types = snapshot.ruleset.counted_request_types
    if measure == "excluded":
        qs = qs.filter(excluded=True, request_type__in=types)
    elif measure != "total":
        qs = qs.filter(excluded=False, request_type__in=types).filter(MEASURES[measure][1])
    return qs
