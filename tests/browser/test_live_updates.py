"""Live updates in a real browser: the inbox of an open page follows a new order of its unit
without a reload, through a real live process (uvicorn, on its own port as `make run` runs it);
another street's open inbox hears nothing."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.browser.conftest import login
from tests.callbacks.conftest import make_order
from tests.conftest import _database_url_of_test_db

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_process(reference_data, settings, tmp_path, live_server):
    port = _free_port()
    # the live process lets in only the site's own pages: those served on PORT of the same host
    site_port = live_server.url.rsplit(":", 1)[1]
    env = dict(
        os.environ,
        DATABASE_URL=_database_url_of_test_db(),
        PYTHONUNBUFFERED="1",
        PORT=site_port,
        LIVE_PORT=str(port),  # as make run starts it: the live process on its own port beside the site
    )
    log = tmp_path / "live.log"
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "hotline.config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    settings.LIVE_PORT = port  # pages point live.js at it, as make run does
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"live process did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _open_inbox(browser, live_server, user):
    # (bypass_csp: Playwright's wait_for_function evaluates script; tests/browser/test_csp.py checks the policy)
    context = browser.new_context(base_url=live_server.url, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    login(page, user.username, "pw-123456")
    page.goto("/orders/?tab=to_sign")
    page.evaluate("window._heard = []; document.addEventListener('hotline:live', e => window._heard.push(e.detail))")
    page.wait_for_function("window.hotlineLive && window.hotlineLive.connected")
    return context, page


def test_an_open_inbox_shows_a_new_order_of_its_unit_and_no_other_streets(
    browser, live_server, live_process, agent, xiluoyuan_handler, youanmen_handler
):
    for u in (xiluoyuan_handler, youanmen_handler):
        u.set_password("pw-123456")
        u.save()
    mine_ctx, mine = _open_inbox(browser, live_server, xiluoyuan_handler)
    other_ctx, other = _open_inbox(browser, live_server, youanmen_handler)
    try:
        time.sleep(1.5)  # the live process's first poll (may wake both for what happened before)
        other.evaluate("window._heard = []")
        order = make_order(agent)  # dispatched to 西罗园
        started = time.monotonic()
        mine.wait_for_function(f"document.getElementById('inbox-body').textContent.includes('{order.number}')")
        assert time.monotonic() - started < 5  # within 5 s, no reload
        time.sleep(2)
        assert other.evaluate("window._heard.filter(d => d.topics.includes('unit')).length") == 0
        assert order.number not in other.locator("#inbox-body").inner_text()
    finally:
        mine_ctx.close()
        other_ctx.close()
