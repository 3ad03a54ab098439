"""Playwright for Python driving Debian's /usr/bin/chromium (never a downloaded browser)."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# The flags this workplace's closed network needs: no background connections, no sandbox as root.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    # Playwright's sync API runs an event loop in this thread; the Django ORM calls made by the
    # test itself (fixtures, assertions) are still plain synchronous code.
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser, live_server, reference_data):
    # bypass_csp: Playwright's string predicates (wait_for_function) are evaluated with eval, which the
    # pages' Content-Security-Policy forbids; tests/browser/test_csp.py checks the pages without it.
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1366, "height": 860}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def login(page, username: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/login/" not in url)
    if "/admin/2fa/" in page.url:  # an enrolled city administrator: the authenticator's code
        from hotline.accounts import twofactor
        from hotline.models import AdminSecondFactor

        factor = AdminSecondFactor.objects.get(user__username=username)
        step = max(twofactor.current_step() - 1, factor.last_step + 1)
        page.fill("#id_code", twofactor.code_at(factor.secret, step))
        page.keyboard.press("Enter")
        page.wait_for_url(lambda url: "/admin/2fa/" not in url)
