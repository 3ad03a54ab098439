"""A Content-Security-Policy on every HTML page (own scripts only, no inline script); attachments
keep their stricter one; the pages still work under it in a real browser."""

import re

from hotline.web.edge import CSP


def _script_src(policy: str) -> str:
    return next(p for p in policy.split(";") if p.strip().startswith("script-src"))


def test_every_html_page_carries_the_policy(client, agent, db):
    assert client.get("/login/")["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in _script_src(CSP) and "'unsafe-eval'" not in _script_src(CSP)
    client.force_login(agent)
    for path in ("/", "/intake/", "/orders/", "/calls/", "/account/token/", "/api/v1/docs/", "/orders/?q=%00"):
        response = client.get(path)
        assert response["Content-Security-Policy"] == CSP, path
        html = response.content.decode()
        # no inline script: only <script src=…> and JSON data blocks
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, (path, tag)
        assert not re.search(r"\son(click|change|submit|load|input)=", html), path


def test_json_answers_carry_no_page_policy(client, agent):
    client.force_login(agent)
    assert "Content-Security-Policy" not in client.get("/api/v1/me/")


def test_with_a_live_port_the_pages_may_connect_to_it_and_nowhere_else(client, agent, settings):
    # make run serves live updates on the next port: the pages' EventSource must be allowed there
    settings.LIVE_PORT = 8001
    client.force_login(agent)
    policy = client.get("/orders/", HTTP_HOST="127.0.0.1:8000")["Content-Security-Policy"]
    connect = next(p for p in policy.split(";") if p.strip().startswith("connect-src"))
    assert connect.split() == ["connect-src", "'self'", "127.0.0.1:8001"]
    assert _script_src(policy) == _script_src(CSP)
