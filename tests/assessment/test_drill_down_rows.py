"""A frozen figure's drill-down rows lead to their orders and say each order's state now (issue 25):
the list keeps the values as counted, the last column tells what the order is today."""

import re

import pytest

from assessment import rulesets
from assessment.snapshots import services
from tests.assessment.conftest import bj, make_orders
from tests.factories import PASSWORD
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db
XILUOYUAN = "110106003"


@pytest.fixture
def frozen(city_admin, category):
    rulesets.ruleset_publish(acting_user=city_admin, period_start_day=1, min_valid_callbacks=1)
    orders = make_orders(
        XILUOYUAN, at=bj(2026, 10, 5, 10), contacted=3, resolved=3, satisfied=3, basic=0, unsatisfied=0
    )
    snapshot = services.snapshot_freeze(period="2026-10", now=bj(2026, 11, 6))
    return snapshot, orders


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="order-row">(.*?)</tr>', html, re.S)


@pytest.mark.parametrize("fixture", ["city_admin", "fengtai_manager", "xiluoyuan_handler"])
def test_frozen_rows_link_to_their_orders_and_show_the_current_state(client, request, frozen, fixture):
    # given: a frozen month, then one of its orders re-dispatched (handled again) after the freeze
    snapshot, orders = frozen
    WorkOrder.objects.filter(pk=orders[0].pk).update(state="signed")
    user = request.getfixturevalue(fixture)
    assert client.login(username=user.username, password=PASSWORD)
    # when
    resp = client.get(
        "/assessment/orders/", {"snapshot": snapshot.pk, "unit": orders[0].lead_unit_id, "measure": "valid"}
    )
    # then: every row links to its order and names the order's state today
    assert resp.status_code == 200
    listed = rows(resp.content.decode())
    assert len(listed) == 3
    for order in orders:
        row = next(r for r in listed if order.number in r)
        assert f'href="/orders/{order.pk}/"' in row
        state = re.search(r'data-testid="current-state"[^>]*>(.*?)</', row, re.S).group(1)
        assert state == ("办理中" if order.pk == orders[0].pk else "已完成")
