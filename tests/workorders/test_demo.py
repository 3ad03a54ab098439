from datetime import timedelta

import pytest
from django.utils import timezone

from hotline.demo import handling as demo
from tests.factories import UserFactory, unit
from workorders.lifecycle import sweep
from workorders.models import OrderRequest, Whistle, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users():
    for username, role, code in [
        ("agent", "agent", "11-center"),
        ("xiluoyuan", "street", "110106003"),
        ("youanmen", "street", "110106001"),
        ("fengtai", "district", "110106"),
        ("fengtai-water", "department", "110106-water"),
    ]:
        UserFactory(username=username, role=role, unit=unit(code))


def test_it_sets_up_orders_in_every_stage_once(demo_users):
    # when
    first = demo.setup()
    second = demo.setup()
    # then
    assert first == {"handling_orders": len(demo.ORDERS)} and second == {"handling_orders": 0}
    states = set(WorkOrder.objects.values_list("state", flat=True))
    assert {"dispatched", "signed", "parked", "closed", "return_requested"} <= states
    assert Whistle.objects.filter(to_unit__code="110106-water", state="open").exists()
    assert set(OrderRequest.objects.filter(state="pending").values_list("kind", flat=True)) == {"return", "extension"}


def test_the_short_demo_order_is_warned_then_marked_overdue_by_the_sweep(demo_users):
    # given
    start = timezone.now()
    demo.setup(now=start)
    short = WorkOrder.objects.get(tier__code="DEMO5M")
    assert short.resolution_deadline == start + timedelta(minutes=5)
    # when three minutes later, then six
    sweep.run(now=start + timedelta(minutes=3))
    short.refresh_from_db()
    assert short.resolution_warned_at and not short.resolution_overdue_at
    sweep.run(now=start + timedelta(minutes=6))
    short.refresh_from_db()
    assert short.resolution_overdue_at and not short.escalated_at
    sweep.run(now=start + timedelta(minutes=40))
    short.refresh_from_db()
    assert short.escalated_at
