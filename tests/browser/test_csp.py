"""The pages work under the Content-Security-Policy (hotline.web.edge): no violation reported."""

import pytest

from hotline.demo import setup_demo
from tests.browser.conftest import login

pytestmark = [pytest.mark.browser]


@pytest.fixture
def strict_page(browser, live_server, reference_data):
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def test_pages_work_under_the_policy_without_violations(strict_page, settings):
    page = strict_page
    setup_demo(not_production=True)
    violations = []
    page.on("console", lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None)
    for username, paths in {
        "agent": ["/", "/intake/", "/calls/", "/callbacks/"],
        "xiluoyuan": ["/", "/orders/", "/calls/", "/assessment/"],
        "city": ["/", "/orders/supervision/", "/assessment/dashboard/", "/api/v1/docs/"],
    }.items():
        page.context.clear_cookies()
        login(page, username, settings.DEMO_PASSWORD)
        for path in paths:
            page.goto(path)
            page.wait_for_load_state("networkidle")
    assert violations == []
    # the Swagger UI (served without inline script) rendered the operations
    page.goto("/api/v1/docs/")
    page.locator(".opblock").first.wait_for()
