"""Orders with their outcomes, built directly (the transitions that produce them belong to other
areas); only the columns the assessment reads matter here."""

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assessment import facts
from districts.models import Unit
from hotline.models import Call, Category
from workorders.models import UrgencyTier, WorkOrder

BEIJING = ZoneInfo("Asia/Shanghai")
_seq = itertools.count(1)


def ensure_tiers() -> None:
    """Transactional tests flush the tiers the data migration seeded; put the same rows back."""
    from workorders.lifecycle.tiers import ensure_default_tiers

    ensure_default_tiers()


def bj(*args) -> datetime:
    return datetime(*args, tzinfo=BEIJING)


@pytest.fixture
def category(db):
    return Category.objects.get_or_create(code="T-ASSESS", defaults={"name": "噪声扰民", "level": 3})[0]


def make_order(
    unit_code: str,
    *,
    callback_at: datetime | None,
    contacted: bool | None = True,
    solved: str = "resolved",
    satisfaction: str = "satisfied",
    excluded: bool = False,
    request_type: str = "complaint",
    valid: bool = True,
    category: Category | None = None,
    dispatched_at: datetime | None = None,
    phone: str = "13800001111",
    district_code: str | None = None,
    state: str = "completed",
) -> WorkOrder:
    ensure_tiers()
    unit = Unit.objects.select_related("division").get(code=unit_code)
    category = category or Category.objects.get_or_create(code="T-ASSESS", defaults={"name": "噪声扰民", "level": 3})[0]
    n = next(_seq)
    street = unit.division if unit.kind == Unit.Kind.STREET else None
    district = Unit.objects.get(code=district_code).division if district_code else (unit.district or unit.division)
    dispatched_at = dispatched_at or ((callback_at or bj(2026, 10, 1)) - timedelta(days=3))
    call = Call.objects.create(
        caller_phone=phone,
        request_type=request_type,
        description=f"测试诉求 {n}",
        address="测试地址",
        street=street,
        district=district,
        category=category,
        received_at=dispatched_at,
        outcome=Call.Outcome.ORDER,
    )
    order = WorkOrder.objects.create(
        number=f"T{n:010d}",
        call=call,
        category=category,
        request_type=request_type,
        tier=UrgencyTier.objects.get(code="T7D"),
        title=f"测试 {n}",
        street=street,
        district=district,
        lead_unit=unit,
        state=state,
        dispatched_at=dispatched_at,
        responded_at=dispatched_at + timedelta(hours=1),
        response_deadline=dispatched_at + timedelta(days=1),
        resolution_deadline=dispatched_at + timedelta(days=7),
        callback_valid=valid,
        callback_at=callback_at,
        contacted=contacted,
        solved=solved,
        satisfaction=satisfaction,
        excluded=excluded,
        assessed_unit=unit,
    )
    # The assessment reads facts: the ones the callback / exclusion transitions would have written.
    if callback_at is not None:
        facts.record_callback(
            order,
            round=1,
            at=callback_at,
            valid=valid,
            unit_id=unit.pk,
            contacted=contacted,
            solved=solved,
            satisfaction=satisfaction,
            invalid_reason="" if valid else "unreachable",
        )
    if excluded:
        facts.record_exclusion(order, request=None, at=callback_at or dispatched_at, actor=None)
    return order


def make_orders(
    unit_code: str, *, at: datetime, contacted: int, resolved: int, satisfied: int, basic: int, unsatisfied: int, **kw
) -> list[WorkOrder]:
    """valid = satisfied + basic + unsatisfied orders; the first `contacted` were contacted and
    the first `resolved` resolved."""
    valid = satisfied + basic + unsatisfied
    sats = ["satisfied"] * satisfied + ["basic"] * basic + ["unsatisfied"] * unsatisfied
    return [
        make_order(
            unit_code,
            callback_at=at + timedelta(hours=i),
            contacted=i < contacted,
            solved="resolved" if i < resolved else "unresolved",
            satisfaction=sats[i],
            **kw,
        )
        for i in range(valid)
    ]
