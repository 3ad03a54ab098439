import pytest
from rest_framework.test import APIClient

from hotline.accounts.tokens import token_create

pytestmark = pytest.mark.django_db


def test_the_api_root_needs_authentication():
    assert APIClient().get("/api/v1/").status_code in (401, 403)


def test_token_authentication_works(agent):
    key = token_create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    resp = client.get("/api/v1/me/")
    assert resp.status_code == 200
    assert resp.json()["role"] == "agent" and resp.json()["username"] == agent.username


def test_an_unknown_or_inactive_token_is_refused(agent):
    key = token_create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    unknown = client.get("/api/v1/me/")
    # 403 rather than 401: session authentication comes first and sends no WWW-Authenticate
    assert unknown.status_code == 403 and "username" not in unknown.json()
    assert unknown.json()["detail"] == "认证令牌无效。"
    agent.is_active = False
    agent.save(update_fields=["is_active"])
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    inactive = client.get("/api/v1/me/")
    assert inactive.status_code == 403 and inactive.json()["detail"] == "用户未激活或者已删除。"


def test_a_token_acts_as_its_own_user_only(agent, xiluoyuan_handler):
    mine = token_create(user=xiluoyuan_handler)
    token_create(user=agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {mine}")
    assert client.get("/api/v1/me/").json()["username"] == xiluoyuan_handler.username
    # a street handler's token cannot take calls
    assert client.post("/api/v1/intake/", {}, format="json").status_code == 403


def test_the_root_lists_the_endpoints(agent):
    client = APIClient()
    client.force_authenticate(agent)
    body = client.get("/api/v1/").json()
    assert {"calls", "divisions", "units", "aliases"} <= set(body)


def test_the_openapi_schema_and_swagger_ui_are_served_without_a_cdn(client, agent):
    client.force_login(agent)
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/calls/" in schema.content
    ui = client.get("/api/v1/docs/").content.decode()
    assert "swagger-ui" in ui
    assert "cdn" not in ui.lower() and "//unpkg" not in ui


def test_divisions_are_filterable(agent):
    client = APIClient()
    client.force_authenticate(agent)
    rows = client.get("/api/v1/divisions/", {"parent": "", "level": 2, "page_size": 50}).json()
    assert rows["count"] == 16
    streets = client.get("/api/v1/divisions/", {"q": "西罗园", "level": 3}).json()
    assert [r["code"] for r in streets["results"]] == ["110106003"]
