"""The handling flow as a new user would do it, in a real browser: sign → record contact → note with
a photo → whistle → the department reports → extension approved by the district → close; the
history shows every step with who and when."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import login
from tests.factories import PASSWORD, CallFactory, UserFactory, division, unit

pytestmark = [pytest.mark.browser]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def _as(page, user):
    page.context.clear_cookies()
    login(page, user.username, PASSWORD)


def _submit(page, action):
    page.get_by_test_id(f"action-{action}").click()
    return page


def test_the_whole_handling_flow_in_the_browser(page, reference_data):
    from hotline.models import Category
    from tests.workorders.conftest import ensure_tiers
    from workorders.lifecycle import creation as transitions
    from workorders.models import UrgencyTier, WorkOrder

    ensure_tiers()
    # given an order dispatched an hour ago to 西罗园, and the people who work on it
    street = UserFactory(username="zhangwei", role="street", unit=unit("110106003"), last_name="张", first_name="伟")
    water = UserFactory(
        username="zhaolei", role="department", unit=unit("110106-water"), last_name="赵", first_name="磊"
    )
    manager = UserFactory(username="sunli", role="district", unit=unit("110106"), last_name="孙", first_name="丽")
    agent = UserFactory(username="wangfang", role="agent", unit=unit("11-center"))
    category = Category.objects.get_or_create(code="E2E-WATER", defaults={"name": "供水", "level": 3})[0]
    start = timezone.now() - timedelta(hours=1)
    order = transitions.order_create(
        call=CallFactory(received_at=start, description="整栋楼停水"),
        category=category,
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=agent,
        title="整栋楼停水",
        street=division("110106003"),
        now=start,
    )

    # the street handler finds it in the inbox and signs
    _as(page, street)
    page.goto("/orders/")
    assert page.get_by_test_id("tab-to_sign").locator(".count").inner_text() == "1"
    page.get_by_role("link", name=order.number).click()
    _submit(page, "sign")
    page.get_by_test_id("submit-sign").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-state").inner_text() == "办理中"

    # records the contact with the caller
    _submit(page, "respond")
    page.fill("#id_respond-contacted_at", _local(timezone.now() - timedelta(minutes=5)))
    page.select_option("#id_respond-method", "phone")
    page.fill("#id_respond-summary", "已电话联系市民，约定今日上门查看")
    page.get_by_test_id("submit-respond").click()
    page.wait_for_load_state()

    # adds a note with a photo
    _submit(page, "note")
    page.fill("#id_note-note", "现场查看，主管线破裂")
    page.set_input_files("#id_note-files", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_test_id("submit-note").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("attachment").first.inner_text().endswith("现场.png")

    # whistles the district water bureau
    _submit(page, "whistle")
    page.select_option("#id_whistle-to_unit", str(unit("110106-water").pk))
    page.select_option("#id_whistle-level", "emergency")
    page.fill("#id_whistle-reason", "主管线破裂需水务局抢修")
    page.fill("#id_whistle-report_by", _local(timezone.now() + timedelta(hours=2)))
    page.get_by_test_id("submit-whistle").click()
    page.wait_for_load_state()
    assert "丰台区水务局" in page.get_by_test_id("whistles").inner_text()

    # the department reports
    _as(page, water)
    page.goto(f"/orders/{order.pk}/")
    _submit(page, "report")
    page.fill("#id_report-note", "已到场关阀抢修，预计明日恢复供水")
    page.get_by_test_id("submit-report").click()
    page.wait_for_load_state()
    assert "已报到" in page.get_by_test_id("whistles").inner_text()

    # the street asks for an extension
    _as(page, street)
    page.goto(f"/orders/{order.pk}/")
    _submit(page, "extend")
    page.fill("#id_extend-new_date", (timezone.localdate() + timedelta(days=30)).isoformat())
    page.fill("#id_extend-reason", "需更换整段管线")
    page.get_by_test_id("submit-extend").click()
    page.wait_for_load_state()

    # the district manager sees it waiting and approves
    _as(page, manager)
    page.goto("/orders/supervision/")
    page.get_by_test_id("approvals").get_by_role("link", name=order.number).click()
    _submit(page, "rule_extension")
    page.check("#id_rule_extension-decision_0")
    page.fill("#id_rule_extension-ruling", "同意延期")
    page.get_by_test_id("submit-rule_extension").click()
    page.wait_for_load_state()

    # the street closes it
    _as(page, street)
    page.goto(f"/orders/{order.pk}/")
    _submit(page, "close")
    page.select_option("#id_close-result", "resolved")
    page.fill("#id_close-result_note", "管线已更换，供水恢复")
    page.fill("#id_close-action_taken", "协调水务局更换管线 30 米")
    page.get_by_test_id("submit-close").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("order-state").inner_text() == "已办结待回访"

    # then the history shows every step with who did it
    history = page.get_by_test_id("history")
    kinds = history.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds == [
        "created",
        "signed",
        "responded",
        "note",
        "whistled",
        "whistle_reported",
        "extension_requested",
        "extension_approved",
        "closed",
    ]
    text = history.inner_text()
    for who in (street, water, manager):
        assert f"{who.display_name} · {who.unit.name}" in text
    db = WorkOrder.objects.get(pk=order.pk)
    assert db.state == "closed" and db.resolution_deadline.date() >= timezone.localdate() + timedelta(days=29)


def test_the_inbox_updates_itself_when_a_new_order_arrives(page, reference_data):
    from hotline.models import Category
    from tests.workorders.conftest import ensure_tiers
    from workorders.lifecycle import creation as transitions
    from workorders.models import UrgencyTier

    ensure_tiers()
    street = UserFactory(username="liuyang", role="street", unit=unit("110106003"))
    agent = UserFactory(username="lijing", role="agent", unit=unit("11-center"))
    category = Category.objects.get_or_create(code="E2E-2", defaults={"name": "噪音", "level": 3})[0]
    _as(page, street)
    page.goto("/orders/")
    assert page.get_by_test_id("tab-to_sign").locator(".count").inner_text() == "0"
    order = transitions.order_create(
        call=CallFactory(),
        category=category,
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=agent,
        title="夜间施工",
        street=division("110106003"),
    )
    page.evaluate("window.hotlineInboxRefresh()")  # what the 15 s timer calls
    page.get_by_role("link", name=order.number).wait_for()
    assert page.get_by_test_id("tab-to_sign").locator(".count").inner_text() == "1"
    assert page.get_by_test_id("notif-badge").locator("[data-unread-count]").inner_text() == "1"


def test_refreshing_after_a_refused_action_does_not_send_it_again(page, reference_data):
    from hotline.models import Category
    from tests.workorders.conftest import ensure_tiers
    from workorders.lifecycle import creation as transitions
    from workorders.lifecycle import handling
    from workorders.models import OrderEvent, UrgencyTier

    ensure_tiers()
    street = UserFactory(username="liqiang", role="street", unit=unit("110106003"))
    agent = UserFactory(username="zhouyu", role="agent", unit=unit("11-center"))
    category = Category.objects.get_or_create(code="E2E-WATER", defaults={"name": "供水", "level": 3})[0]
    order = transitions.order_create(
        call=CallFactory(description="楼道灯不亮"),
        category=category,
        tier=UrgencyTier.objects.get(code="T7D"),
        lead_unit=unit("110106003"),
        actor=agent,
        title="楼道灯不亮",
        street=division("110106003"),
    )
    handling.order_sign(order, actor=street)
    _as(page, street)
    page.goto(f"/orders/{order.pk}/")
    # a contact time before the dispatch is refused; what was typed stays in the form
    _submit(page, "respond")
    page.fill("#id_respond-contacted_at", _local(order.dispatched_at - timedelta(days=1)))
    page.fill("#id_respond-summary", "已电话联系市民")
    page.get_by_test_id("submit-respond").click()
    page.wait_for_load_state()
    assert page.get_by_test_id("action-error").is_visible()
    assert page.input_value("#id_respond-summary") == "已电话联系市民"
    events = OrderEvent.objects.filter(order=order).count()
    posts = []
    page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
    page.reload()
    page.wait_for_load_state()
    assert posts == [] and page.url.endswith(f"/orders/{order.pk}/")
    assert OrderEvent.objects.filter(order=order).count() == events
