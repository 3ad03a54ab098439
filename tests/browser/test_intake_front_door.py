"""Issue 21 in a real Chromium: duplicates by incident (never by caller), one save per form, Enter
that moves instead of saving, and a session that ends mid-call without losing the typed form."""

import pytest
from django.contrib.sessions.models import Session

from hotline.intake.services import call_intake
from hotline.models import Call
from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory, unit
from tests.intake.conftest import ensure_intake_reference_data, intake_data
from workorders.models import WorkOrder

pytestmark = [pytest.mark.browser]

CALLER = "13811012345"


@pytest.fixture
def agent(reference_data):
    from districts import routing
    from districts.communities import clear_cache
    from hotline import refcache

    ensure_intake_reference_data()
    routing.invalidate()
    clear_cache()
    refcache.clear_all()
    return UserFactory(role="agent", unit=unit("11-center"), username="fd-agent")


def test_an_unrelated_complaint_of_a_repeat_caller_is_dispatched_by_default(page, agent):
    # given: the caller's open order is a street light in 丰台 右安门
    light = call_intake(
        acting_user=agent,
        data=intake_data(
            phone=CALLER,
            category="010303",
            address="丰台区右安门外玉林小区5号楼",
            street="110106001",
            description="5号楼门口的路灯不亮了，晚上黑漆漆的",
        ),
    ).order
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    # when: the same caller reports clutter in a stairwell in 朝阳
    page.keyboard.type(CALLER)
    page.get_by_test_id("history-order").filter(has_text=light.number).wait_for()
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_category", "100201")  # 消防通道占用
    page.fill("#id_address", "朝阳区光华路9号院3号楼")
    page.keyboard.press("Alt+5")
    page.keyboard.type("jwjd")
    page.get_by_test_id("place-option").filter(has_text="建外街道").first.wait_for()
    page.keyboard.press("Enter")
    page.get_by_test_id("preview-lead").filter(has_text="建外街道").wait_for()
    page.fill("#id_description", "3号楼楼道里堆满了杂物，纸箱旧家具，人都过不去")
    page.get_by_test_id("duplicates").get_by_text("没有可能重复的工单").wait_for()
    # then: nothing proposed, the default is still to dispatch; Ctrl+Enter dispatches a new order
    assert page.get_by_test_id("repeat-warning").is_hidden()
    assert page.is_checked('input[name="action"][value="order"]')
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("intake-done").wait_for()
    assert page.get_by_test_id("order-unit").inner_text() == "建外街道"
    assert WorkOrder.objects.count() == 2
    assert WorkOrder.objects.get(pk=light.pk).duplicate_count == 0


def test_a_true_repeat_is_proposed_and_linked_when_the_agent_confirms(page, agent):
    # given: another caller reported the lift of 洋桥北里12号楼 yesterday
    lift = call_intake(acting_user=agent, data=intake_data(phone="13900002222")).order
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    # when: a new caller, other words, the same lift
    page.keyboard.type("13700003333")
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_category", "010102")
    page.fill("#id_address", "洋桥北里12号楼")
    page.get_by_test_id("candidate").filter(has_text="西罗园街道").first.wait_for()
    page.fill("#id_description", "12号楼的电梯又不走了，按了没反应，物业说在等配件")
    # then: proposed, with the default still "派发工单" until the agent confirms
    proposed = page.get_by_test_id("duplicate").filter(has_text=lift.number)
    proposed.wait_for()
    page.get_by_test_id("repeat-warning").filter(has_text=lift.number).wait_for()
    assert page.is_checked('input[name="action"][value="order"]')
    proposed.get_by_test_id("link-duplicate").click()
    page.get_by_test_id("intake-done").filter(has_text="已关联为重复诉求").wait_for()
    assert page.get_by_test_id("order-number").inner_text() == lift.number
    assert WorkOrder.objects.count() == 1
    assert WorkOrder.objects.get(pk=lift.pk).duplicate_count == 1
    assert Call.objects.get(caller_phone="13700003333").linked_order_id == lift.pk


def test_enter_moves_between_fields_and_a_double_ctrl_enter_saves_once(page, agent):
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    page.keyboard.type(CALLER)
    page.keyboard.press("Enter")  # moves on, does not save
    assert page.evaluate("document.activeElement.id") != "id_phone"
    page.fill("#id_address", "丰台区洋桥北里12号楼3单元")
    page.locator("#id_address").press("Enter")
    page.get_by_test_id("candidate").filter(has_text="西罗园街道").first.wait_for()
    assert not Call.objects.exists()
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_category", "010102")
    page.get_by_test_id("preview-lead").wait_for()
    page.fill("#id_description", "楼道电梯停运两天，家中有老人上下楼困难。")
    page.locator("#id_description").click()
    # when: Ctrl+Enter twice in a row
    page.keyboard.press("Control+Enter")
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("intake-done").wait_for()
    # then: one call, one order
    assert Call.objects.count() == 1 and WorkOrder.objects.count() == 1
    # the same form posted again (a retried POST) is the same call
    key = Call.objects.get().idempotency_key
    assert key
    page.goto("/intake/")
    assert page.input_value("#id_idempotency_key") != key


def test_a_session_that_ends_mid_call_keeps_the_typed_form_after_logging_in_again(page, agent):
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    page.keyboard.type(CALLER)
    page.select_option("#id_request_type", "complaint")
    page.select_option("#id_category", "010102")
    page.fill("#id_address", "丰台区洋桥北里12号楼3单元")
    page.get_by_test_id("candidate").filter(has_text="西罗园街道").first.wait_for()
    page.fill("#id_description", "电梯停了两天，老人下不了楼，物业电话没人接")
    page.wait_for_function(
        "localStorage.length > 0 && Object.keys(localStorage).some(k => k.startsWith('hl.intakeDraft.'))"
    )
    # when: the session ends during the call (expired on the server), and the agent saves
    Session.objects.all().delete()
    page.locator("#id_description").click()
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/login/**")
    assert not Call.objects.exists()
    page.fill("#id_username", agent.username)
    page.fill("#id_password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/intake/")
    # then: the form is back as typed
    page.get_by_test_id("draft-restored").wait_for()
    assert page.input_value("#id_phone") == CALLER
    assert page.input_value("#id_description") == "电梯停了两天，老人下不了楼，物业电话没人接"
    assert page.input_value("#id_request_type") == "complaint"
    assert page.input_value("#id_category") == "010102"
    page.get_by_test_id("candidate").filter(has_text="西罗园街道").first.wait_for()
    page.locator("#id_description").click()
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("intake-done").wait_for()
    assert Call.objects.count() == 1
    # saved: the draft, and the caller's phone in it, are gone from the browser
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('hl.intakeDraft.')).length") == 0
