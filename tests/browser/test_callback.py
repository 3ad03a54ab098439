"""The callback loop in a real Chromium: the demo agent calls back a closed order, the citizen is
not satisfied, the order goes back to the street as round 2, the street closes it again, and the
second callback completes it. And a citizen's self-evaluation link on a phone-sized screen."""

import re

import pytest
from django.utils import timezone

import hotline.demo as demo
from hotline.models import User
from tests.browser.conftest import login
from tests.callbacks.conftest import ensure_tiers
from workorders.lifecycle import handling as transitions
from workorders.models import Callback, WorkOrder

pytestmark = [pytest.mark.browser]

LAMP = "楼道灯损坏"  # a closed demo order of 西罗园街道
BINS = "垃圾清运不及时"  # a closed demo order of 右安门街道


@pytest.fixture
def demo_data(reference_data, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    ensure_tiers()
    monkeypatch.setattr(demo, "PARTS", (demo.accounts, demo.callbacks))
    demo.setup_demo(not_production=True)
    return settings.DEMO_PASSWORD


def _open_from_queue(page, title: str) -> None:
    page.goto("/callbacks/")
    page.get_by_test_id("callback-queue").locator("tr", has_text=title).get_by_role("link", name="回访").click()
    page.get_by_test_id("record-panel").wait_for()


def _answer(page, *, contacted: str, solved: str, satisfaction: str, comment: str = "") -> None:
    panel = page.get_by_test_id("record-panel")
    panel.get_by_label(contacted, exact=True).check()
    panel.get_by_label(solved, exact=True).check()
    panel.get_by_label(satisfaction, exact=True).check()
    if comment:
        panel.locator("textarea[name=comment]").fill(comment)
    panel.get_by_test_id("record-submit").click()
    page.wait_for_load_state()


def test_a_demo_agent_calls_back_and_the_order_comes_back_as_round_2(page, demo_data, browser, live_server):
    password = demo_data
    order = WorkOrder.objects.get(title=LAMP)
    # given: the agent opens the closed order from the queue; the unit's explanation is at hand
    login(page, "agent", password)
    _open_from_queue(page, LAMP)
    assert "已联系物业更换8号楼1-6层楼道灯" in page.get_by_test_id("closing").inner_text()
    # when: the citizen says it is not solved and not satisfied
    _answer(page, contacted="是", solved="未解决", satisfaction="不满意", comment="只换了两层的灯")
    # then: round 2 back at the street
    assert re.search(r"再派件（第 2 轮）", page.locator(".messages").inner_text())
    order.refresh_from_db()
    assert (order.state, order.round, order.lead_unit.code) == ("dispatched", 2, "110106003")
    assert order.satisfaction == "unsatisfied" and order.callback_valid
    round1 = page.get_by_test_id("callback-round-1")
    assert "有效回访" in round1.inner_text() and "不满意" in round1.inner_text()

    # the street's handler sees it in the inbox
    street = browser.new_context(base_url=live_server.url, locale="zh-CN")
    street_page = street.new_page()
    login(street_page, "xiluoyuan", password)
    street_page.goto("/orders/")
    street_page.get_by_text(order.number).first.wait_for()
    street.close()

    # the street handles round 2 and closes it (the handling capability's transitions)
    handler = User.objects.get(username="xiluoyuan")
    now = timezone.now()
    transitions.order_sign(order, actor=handler, now=now)
    transitions.order_respond(order, actor=handler, contacted_at=now, method="phone", summary="已联系", now=now)
    transitions.order_close(
        order,
        actor=handler,
        result="resolved",
        result_note="8号楼全部楼层楼道灯已更换。",
        action_taken="现场复查",
        now=now,
    )

    # when: the second callback is satisfied and resolved
    _open_from_queue(page, LAMP)
    assert "8号楼全部楼层楼道灯已更换" in page.get_by_test_id("closing").inner_text()
    _answer(page, contacted="是", solved="解决", satisfaction="满意")
    # then
    assert "工单已完成" in page.locator(".messages").inner_text()
    assert page.get_by_test_id("order-state").inner_text() == "已完成"
    order.refresh_from_db()
    assert (order.state, order.round, order.satisfaction, order.solved) == ("completed", 2, "satisfied", "resolved")
    assert list(Callback.objects.filter(order=order).order_by("round").values_list("round", "satisfaction")) == [
        (1, "unsatisfied"),
        (2, "satisfied"),
    ]
    # and it has left the queue
    page.goto("/callbacks/")
    assert LAMP not in page.get_by_test_id("callback-queue").inner_text()


def test_a_self_evaluation_link_works_once_on_a_phone(page, demo_data, browser, live_server):
    password = demo_data
    order = WorkOrder.objects.get(title=BINS)
    # given: the agent creates the SMS link
    login(page, "agent", password)
    _open_from_queue(page, BINS)
    page.get_by_test_id("self-link-create").click()
    page.wait_for_load_state()
    url = page.get_by_test_id("self-link").first.input_value()
    assert "/e/" in url
    # when: the citizen opens it on a phone, without logging in
    phone = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN", device_scale_factor=3
    )
    citizen = phone.new_page()
    citizen.goto(url)
    assert BINS in citizen.locator("main").inner_text()
    assert order.number not in citizen.content()
    # the form fits the screen: no horizontal scrolling
    assert citizen.evaluate("document.documentElement.scrollWidth") <= 390
    citizen.get_by_label("是", exact=True).tap()
    citizen.get_by_label("解决", exact=True).tap()
    citizen.get_by_label("基本满意", exact=True).tap()
    citizen.get_by_test_id("self-submit").tap()
    citizen.get_by_test_id("thanks").wait_for()
    # then
    order.refresh_from_db()
    assert order.state == "completed" and order.satisfaction == "basic"
    assert Callback.objects.get(order=order).channel == "self"
    # and the link refuses a second time, plainly
    citizen.goto(url)
    assert "该链接已使用过" in citizen.get_by_test_id("refused").inner_text()
    phone.close()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_an_exclusion_goes_street_district_city_with_evidence(page, demo_data, browser, live_server):
    password = demo_data
    order = WorkOrder.objects.get(title=LAMP)

    def as_user(username):
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 860})
        p = context.new_page()
        login(p, username, password)
        return context, p

    # the street files it with evidence
    login(page, "xiluoyuan", password)
    page.goto(f"/exclusions/new/?order={order.number}")
    page.select_option("select[name=reason]", "unreasonable")
    page.fill("textarea[name=explanation]", "来电人要求街道承担其私家车维修费用，超出政府职责。")
    page.set_input_files("input[name=evidence]", {"name": "现场照片.png", "mimeType": "image/png", "buffer": PNG})
    page.get_by_role("button", name="提交申请").click()
    page.get_by_test_id("exclusion-state").wait_for()
    assert page.get_by_test_id("exclusion-state").inner_text() == "待区级审核"
    assert page.get_by_test_id("evidence").inner_text() == "现场照片.png"
    detail_url = page.url
    # the district agrees
    context, district = as_user("fengtai")
    district.goto(detail_url)
    district.fill("textarea[name=note]", "经核实属实")
    district.get_by_test_id("approve").click()
    district.wait_for_load_state()
    assert district.get_by_test_id("exclusion-state").inner_text() == "待市级审核"
    context.close()
    # the city approves; the order is out of the assessment
    context, city = as_user("city")
    city.goto("/exclusions/")
    city.get_by_test_id("exclusion-list").get_by_role("link", name=order.number).click()
    city.get_by_test_id("approve").click()
    city.wait_for_load_state()
    assert city.get_by_test_id("exclusion-state").inner_text() == "已批准剔除"
    assert city.get_by_test_id("order-excluded").is_visible()
    context.close()
    order.refresh_from_db()
    assert order.excluded is True
