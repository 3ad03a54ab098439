from datetime import datetime

import pytest
from django.utils import timezone

from hotline.models import Category
from tests.factories import CallFactory, UserFactory, division, unit
from workorders.lifecycle import creation as transitions
from workorders.models import OrderEvent, OrderState, UrgencyTier, WorkOrder


def ensure_tiers() -> None:
    """Transactional tests flush the tiers the data migration seeded; put the same rows back."""
    from workorders.lifecycle.tiers import ensure_default_tiers

    ensure_default_tiers()


def category() -> Category:
    ensure_tiers()  # transactional tests flush the seeded tiers
    return Category.objects.get_or_create(code="TEST-CB", defaults={"name": "电梯故障", "level": 3})[0]


def make_order(actor, *, street_code: str = "110106003", tier: str = "T7D", now: datetime | None = None) -> WorkOrder:
    return transitions.order_create(
        call=CallFactory(street=division(street_code)),
        category=category(),
        tier=UrgencyTier.objects.get(code=tier),
        lead_unit=unit(street_code),
        actor=actor,
        title="楼道电梯停运",
        street=division(street_code),
        now=now,
    )


def close(order: WorkOrder, *, at: datetime | None = None, result: str = "resolved") -> WorkOrder:
    """The unit's closing (办结), written directly: these tests are about what happens after it, and
    must not depend on the handling capability's sign/respond/close steps."""
    at = at or timezone.now()
    WorkOrder.objects.filter(pk=order.pk).update(
        state=OrderState.CLOSED,
        closed_at=at,
        result=result,
        result_note="已联系物业更换电梯主板，恢复运行。",
        action_taken="现场核实并督促物业维修。",
    )
    order.refresh_from_db()
    OrderEvent.objects.create(
        order=order, at=at, kind="closed", from_state="signed", to_state="closed", round=order.round
    )
    return order


@pytest.fixture
def closed_order(agent):
    return close(make_order(agent))


@pytest.fixture
def xiluoyuan_colleague(db):
    return UserFactory(role="street", unit=unit("110106003"))
