"""The agent's intake flow in a real Chromium: phone → history, address → candidates → choose →
save → order number; then the street's handler finds the order in the inbox."""

import pytest

from hotline.intake.services import call_intake
from hotline.models import Call, KnowledgeArticle
from tests.browser.conftest import login
from tests.factories import PASSWORD, UserFactory, unit
from tests.intake.conftest import ensure_intake_reference_data, intake_data
from workorders.models import WorkOrder

pytestmark = [pytest.mark.browser]


@pytest.fixture
def people(reference_data):
    from districts import routing
    from districts.communities import clear_cache
    from hotline import refcache

    ensure_intake_reference_data()
    routing.invalidate()  # the flushed and reloaded divisions have new ids
    clear_cache()
    refcache.clear_all()
    agent = UserFactory(role="agent", unit=unit("11-center"), username="b-agent")
    street = UserFactory(role="street", unit=unit("110106003"), username="b-xiluoyuan")
    return agent, street


def test_an_agent_logs_a_complaint_and_the_street_sees_it(page, people):
    agent, street_user = people
    # given: the caller rang before
    earlier = call_intake(
        acting_user=agent,
        data=intake_data(category="010501", description="小区垃圾三天没人清运", address="丰台区洋桥北里3号楼"),
    )
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    # the phone field has the focus: just type
    assert page.evaluate("document.activeElement.id") == "id_phone"
    page.keyboard.type("138-1101-2345")
    history = page.get_by_test_id("caller-history")
    history.get_by_text(earlier.order.number).first.wait_for()
    # when: category, address → candidates with the reason
    page.select_option("#id_category", "010102")
    page.fill("#id_address", "丰台区洋桥北里12号楼3单元")
    candidate = page.get_by_test_id("candidate").filter(has_text="西罗园街道")
    candidate.wait_for()
    assert "洋桥北里" in candidate.inner_text()
    candidate.click()
    page.get_by_test_id("preview-lead").filter(has_text="西罗园街道").wait_for()
    page.fill("#id_description", "楼道电梯停运两天，家中有老人上下楼困难。<script>window.__xss = 1</script>")
    page.select_option("#id_request_type", "complaint")
    # the caller's open order (garbage, not the lift) is history, never the default action
    assert page.get_by_test_id("repeat-warning").is_hidden()
    assert page.is_checked('input[name="action"][value="order"]')
    page.locator("#id_description").click()
    page.keyboard.press("Control+Enter")
    # then
    done = page.get_by_test_id("intake-done")
    done.wait_for()
    number = page.get_by_test_id("order-number").inner_text()
    assert page.get_by_test_id("order-unit").inner_text() == "西罗园街道"
    order = WorkOrder.objects.get(number=number)
    assert order.lead_unit.code == "110106003" and order.call.caller_phone == "13811012345"
    # the live counter on the agent's home counts it (earlier order + this one)
    page.goto("/")
    page.wait_for_function("document.querySelector('[data-today-field=orders]').textContent === '2'")
    assert page.get_by_test_id("today-calls").inner_text() == "2"
    # and the street's handler has it in the inbox
    page.context.clear_cookies()
    login(page, street_user.username, PASSWORD)
    page.goto("/orders/")
    assert number in page.content()
    assert page.evaluate("window.__xss") is None


def test_bad_input_keeps_the_text_and_a_consultation_closes_from_the_knowledge_base(page, people):
    agent, _ = people
    KnowledgeArticle.objects.create(
        title="供暖时间", body="北京市正常采暖期为每年11月15日至次年3月15日。", keywords="暖气 供暖"
    )
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    # given: a wrong number
    page.keyboard.type("12345")
    page.select_option("#id_request_type", "consultation")
    page.select_option("#id_category", "020201")
    page.fill("#id_description", "咨询今年什么时候开始供暖")
    page.keyboard.press("Control+Enter")
    page.get_by_test_id("error-phone").wait_for()
    assert page.input_value("#id_description") == "咨询今年什么时候开始供暖"
    assert not Call.objects.exists()
    # when: fixed, answered from the knowledge base
    page.fill("#id_phone", "13700001111")
    page.keyboard.press("Alt+4")
    page.keyboard.type("供暖")
    page.get_by_test_id("kb-answer").first.click()
    # the article's text is prefilled, the agent adapts it before saving
    assert "11月15日" in page.input_value("#id_answer")
    assert page.evaluate("document.activeElement.id") == "id_answer"
    assert not Call.objects.exists()
    page.keyboard.press("End")
    page.keyboard.type("今年供暖提前到11月8日。")
    page.keyboard.press("Control+Enter")
    # then
    page.get_by_test_id("answer-text").wait_for()
    call = Call.objects.get()
    assert call.outcome == "direct_answer" and "11月15日" in call.answer and "11月8日" in call.answer
    assert not WorkOrder.objects.exists()


def test_the_page_does_not_choose_between_places_that_share_a_name(page, people):
    agent, _ = people
    login(page, agent.username, PASSWORD)
    page.goto("/intake/")
    page.fill("#id_address", "小黄庄社区3号楼")
    page.get_by_test_id("choose-street").wait_for()
    assert page.get_by_test_id("candidate").filter(has_text="和平里街道").count() == 1
    assert page.locator('input[name="street"]:checked').count() == 0
    # the agent picks with the keyboard: focus the list, press 2
    page.locator('input[name="street"]').first.focus()
    page.keyboard.press("2")
    assert page.locator('input[name="street"]:checked').count() == 1
