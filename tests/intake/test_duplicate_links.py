"""Issue 21: a repeat call is linked by incident, and a link the agent did not mean is refused on the
server — page and API alike, with nothing changed."""

import pytest

from hotline.errors import DomainError
from hotline.intake.services import call_intake
from hotline.models import Call
from tests.factories import PASSWORD
from tests.intake.conftest import api_as as api
from tests.intake.conftest import intake_data
from tests.intake.conftest import page_as as page
from workorders.lifecycle.creation import order_link_duplicate
from workorders.models import Callback, OrderEvent, OrderState, WorkOrder

pytestmark = pytest.mark.django_db

HAIDIAN_XUEYUANLU = "110108010"


def snapshot():
    return (
        Call.objects.count(),
        list(WorkOrder.objects.order_by("pk").values_list("pk", "duplicate_count", "state")),
        OrderEvent.objects.count(),
    )


def link(order, **overrides):
    values = {
        "action": "duplicate",
        "duplicate_of": order.number,
        "phone": "13900001111",
        "description": "电梯还是没修好，老人下不了楼",
    }
    return intake_data(**{**values, **overrides})


@pytest.fixture
def lift(agent):
    """An open order: the lift of 洋桥北里12号楼 (丰台 西罗园, 电梯故障)."""
    return call_intake(acting_user=agent, data=intake_data()).order


def test_it_links_a_repeat_of_the_same_incident_and_remembers_the_order(agent, lift):
    result = call_intake(acting_user=agent, data=link(lift))
    call = Call.objects.get(pk=result.call.pk)
    assert call.outcome == Call.Outcome.DUPLICATE and call.linked_order == lift and call.link_reason == ""
    assert WorkOrder.objects.get(pk=lift.pk).duplicate_count == 1


@pytest.mark.parametrize("via", ["api", "page"])
def test_a_link_across_districts_needs_a_reason(agent, lift, via):
    # given: the call is about a place in 海淀, the order in 丰台
    data = link(lift, address="海淀区学院路街道某小区3号楼", street=HAIDIAN_XUEYUANLU, category="010102")
    before = snapshot()
    # when
    if via == "api":
        resp = api(agent).post("/api/v1/intake/", data, format="json")
        assert resp.status_code == 400
        assert "跨区关联须填写关联理由" in str(resp.json())
    else:
        resp = page(agent).post("/intake/", data)
        assert resp.status_code == 400
        assert "跨区关联须填写关联理由" in resp.content.decode()
        assert 'data-testid="link-reason"' in resp.content.decode()
    # then: nothing changed
    assert snapshot() == before
    # with the reason it goes through, and the reason is on the call and the order's event
    data["link_reason"] = "来电人说明是在丰台的老房子，地址报的是现住址"
    if via == "api":
        assert api(agent).post("/api/v1/intake/", data, format="json").status_code == 201
    else:
        assert page(agent).post("/intake/", data).status_code == 302
    call = Call.objects.get(outcome=Call.Outcome.DUPLICATE)
    assert call.linked_order == lift and call.link_reason.startswith("来电人说明")
    event = OrderEvent.objects.get(order=lift, kind="duplicate_linked")
    assert event.data["reason"] == call.link_reason


def test_a_link_to_an_unrelated_category_needs_a_reason(agent, lift):
    data = link(lift, category="100401", description="想问一下居住证怎么办理")  # 户籍证件 vs 电梯
    before = snapshot()
    resp = api(agent).post("/api/v1/intake/", data, format="json")
    assert resp.status_code == 400 and "与本次诉求无关" in str(resp.json())
    assert snapshot() == before


def test_a_neighbouring_category_needs_no_reason(agent, lift):
    # 电梯困人 and 电梯故障 are siblings under 物业管理: agents pick either for one lift
    resp = api(agent).post("/api/v1/intake/", link(lift, category="010101"), format="json")
    assert resp.status_code == 201


def test_a_link_to_an_order_the_agent_cannot_see_or_that_does_not_exist_is_refused(agent, lift):
    before = snapshot()
    for number in ("20990101000001", "999999"):
        resp = api(agent).post("/api/v1/intake/", {**link(lift), "duplicate_of": number}, format="json")
        assert resp.status_code == 400
        assert resp.json()["duplicate_of"] == ["工单不存在或您无权查看。"]
    assert snapshot() == before


def test_a_link_to_a_completed_order_is_refused(agent, lift):
    WorkOrder.objects.filter(pk=lift.pk).update(state=OrderState.COMPLETED)
    before = snapshot()
    resp = api(agent).post("/api/v1/intake/", link(lift), format="json")
    assert resp.status_code == 400 and "已完成" in str(resp.json())
    assert snapshot() == before


def test_a_link_to_a_closed_order_already_called_back_is_refused(agent, lift):
    WorkOrder.objects.filter(pk=lift.pk).update(state=OrderState.CLOSED)
    Callback.objects.create(order=lift, round=lift.round, status=Callback.Status.UNREACHABLE, agent=agent)
    before = snapshot()
    resp = api(agent).post("/api/v1/intake/", link(lift), format="json")
    assert resp.status_code == 400 and "已办结并完成回访" in str(resp.json())
    assert snapshot() == before


def test_a_closed_order_still_waiting_for_its_callback_takes_the_repeat(agent, lift):
    WorkOrder.objects.filter(pk=lift.pk).update(state=OrderState.CLOSED)
    assert api(agent).post("/api/v1/intake/", link(lift), format="json").status_code == 201


def test_a_call_is_never_linked_to_its_own_order(agent, lift):
    Call.objects.filter(pk=lift.call_id).update(outcome=Call.Outcome.PENDING)
    before = snapshot()
    with pytest.raises(DomainError) as refused:
        order_link_duplicate(lift, call=lift.call, actor=agent)
    assert refused.value.code == "link_self"
    assert snapshot() == before


def test_the_callers_open_order_is_history_and_never_a_candidate(agent):
    # given: the caller's open order is a street light in 丰台 右安门
    call_intake(
        acting_user=agent,
        data=intake_data(
            category="010303",
            address="丰台区右安门外玉林小区5号楼",
            street="110106001",
            description="5号楼门口路灯不亮了",
        ),
    )
    # when: the same caller reports stairwell clutter in 西罗园
    resp = api(agent).post(
        "/api/v1/intake/duplicates/",
        {
            "category": "100201",
            "street": "110106003",
            "address": "丰台区洋桥北里12号楼",
            "description": "楼道杂物堆满了",
        },
        format="json",
    )
    # then
    assert resp.status_code == 200 and resp.json() == []
    history = api(agent).post("/api/v1/intake/caller-history/", {"phone": "13811012345"}, format="json").json()
    assert len(history["open_orders"]) == 1


def test_the_workspace_no_longer_switches_the_default_for_a_repeat_caller(agent, lift):
    body = page(agent).get("/intake/").content.decode()
    assert 'name="action" value="order" checked' in body
    assert "PASSWORD" not in body and PASSWORD not in body
