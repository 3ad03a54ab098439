"""The street handler's phone (390×844): the inbox and the order page fit the width (no horizontal
scrolling) and the actions are reachable; sign, record the contact and add a note with a photo."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import login
from tests.browser.test_handling import PNG
from tests.factories import PASSWORD, CallFactory, UserFactory, division, unit

pytestmark = [pytest.mark.browser]

NO_SIDE_SCROLL = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _within_width(locator, width=390):
    box = locator.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


@pytest.fixture
def phone(browser, live_server, reference_data):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_a_street_handler_works_an_order_from_the_phone(phone):
    from hotline.models import Category
    from tests.workorders.conftest import ensure_tiers
    from workorders.lifecycle import creation
    from workorders.models import OrderEvent, UrgencyTier

    ensure_tiers()
    street = UserFactory(username="phoneuser", role="street", unit=unit("110106003"))
    agent = UserFactory(username="phoneagent", role="agent", unit=unit("11-center"))
    category = Category.objects.get_or_create(code="E2E-PHONE", defaults={"name": "供水管线漏水", "level": 3})[0]
    start = timezone.now() - timedelta(minutes=30)
    orders = [
        creation.order_create(
            call=CallFactory(received_at=start, description=f"地下室水管爆裂，积水严重 {i}"),
            category=category,
            tier=UrgencyTier.objects.get(code="T2H"),
            lead_unit=unit("110106003"),
            actor=agent,
            title="西罗园第二社区地下室水管爆裂积水严重需要立即处理",
            street=division("110106003"),
            now=start,
        )
        for i in range(3)
    ]
    order = orders[0]
    login(phone, street.username, PASSWORD)
    phone.goto("/orders/")
    assert phone.evaluate(NO_SIDE_SCROLL)
    link = phone.get_by_role("link", name=order.number)
    _within_width(link)
    # the running clock is the 2-hour response clock, not the resolution one
    assert "响应剩余" in phone.locator(f'tr[data-order="{order.pk}"] [data-testid=clock]').inner_text()
    link.click()
    assert phone.evaluate(NO_SIDE_SCROLL)

    phone.get_by_test_id("action-sign").click()
    _within_width(phone.get_by_test_id("submit-sign"))
    with phone.expect_navigation():
        phone.get_by_test_id("submit-sign").tap()
    assert phone.get_by_test_id("order-state").inner_text() == "办理中"

    phone.get_by_test_id("action-respond").click()
    phone.fill("#id_respond-contacted_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    phone.select_option("#id_respond-method", "phone")
    phone.fill("#id_respond-summary", "已电话联系，马上到场")
    _within_width(phone.get_by_test_id("submit-respond"))
    with phone.expect_navigation():
        phone.get_by_test_id("submit-respond").tap()

    phone.get_by_test_id("action-note").click()
    phone.fill("#id_note-note", "现场已关阀，抽水中")
    phone.set_input_files("#id_note-files", files=[{"name": "现场.png", "mimeType": "image/png", "buffer": PNG}])
    _within_width(phone.get_by_test_id("submit-note"))
    with phone.expect_navigation():
        phone.get_by_test_id("submit-note").tap()
    assert phone.get_by_test_id("attachment").first.inner_text().endswith("现场.png")
    assert phone.evaluate(NO_SIDE_SCROLL)
    kinds = set(OrderEvent.objects.filter(order=order).values_list("kind", flat=True))
    assert {"signed", "responded", "note"} <= kinds
