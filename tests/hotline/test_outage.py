"""A database outage: the process stays live, readiness fails, API answers JSON 503, pages a plain
503 page. The outage is real: this process's connection points at a database that cannot be opened."""

import contextlib

import pytest
from django.db import connection
from django.test import Client, RequestFactory

from hotline.web import outage
from tests.factories import UserFactory, unit

pytestmark = pytest.mark.django_db(transaction=True)


@contextlib.contextmanager
def database_down():
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/down.sqlite3"
    else:
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.fixture
def logged_in(reference_data):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role="agent", unit=unit("11-center")))
    return client


def test_the_api_answers_json_503_while_the_database_is_down(logged_in):
    with database_down():
        resp = logged_in.get("/api/v1/me/")
        posted = logged_in.post("/api/v1/calls/", {"caller_phone": "13800000000"}, content_type="application/json")
    for r in (resp, posted):
        assert r.status_code == 503 and r["Content-Type"].startswith("application/json")
        assert r.json()["code"] == "service_unavailable" and r["Retry-After"]
    # and once it is back, the same request works
    assert logged_in.get("/api/v1/me/").status_code == 200


def test_pages_answer_a_plain_503_page(logged_in):
    with database_down():
        resp = logged_in.get("/")
    assert resp.status_code == 503 and resp["Content-Type"].startswith("text/html")
    assert "服务暂时不可用" in resp.content.decode()


def test_liveness_holds_and_readiness_fails_while_the_database_is_down(reference_data):
    client = Client(raise_request_exception=False)
    with database_down():
        live = client.get("/healthz/live")
        ready = client.get("/healthz")
    assert live.status_code == 200
    assert ready.status_code == 503 and ready.json()["database"]["ok"] is False


def test_other_errors_stay_500_in_json_for_api_clients():
    # a bug (not an outage) keeps its 500; API clients get it as JSON
    try:
        raise ValueError("bug")
    except ValueError:
        resp = outage.server_error(RequestFactory().get("/api/v1/me/"))
    assert resp.status_code == 500 and resp["Content-Type"].startswith("application/json")
