"""Input no view can handle is refused at the edge with a clear 400, and JSON types are checked
before a Django form ever sees them (hotline.web.edge, hotline.web.api.form_data, hotline.textrules)."""

import json

import pytest

from hotline.errors import DomainError
from hotline.models import Call
from hotline.textrules import bad_utc_offset, clean_text, visible_length
from tests.intake.conftest import intake_data
from workorders.models import Notification


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/services/%00.json",
        "/open311/v2/requests.json?service_request_id=%00",
        "/api/v1/calls/?q=%00",
        "/api/v1/orders/?q=a%00b",
        "/callbacks/?q=%00",
        "/orders/?q=%00",
        "/api/v1/calls/?received_after=2026-11-01T00:00:00%2B16:00",
        "/api/v1/calls/?received_after=2026-11-01T00:00:00-99:00",
        "/open311/v2/requests.json?start_date=2026-11-01T00:00:00%2B16:00",
        "/api/v1/calls/?received_after=2026-02-30T10:00:00",
        "/orders/?date_from=2026-13-01",
        "/api/v1/orders/?community=99999999999999999999",
        "/api/v1/exclusions/?order=99999999999999999999",
        "/api/v1/callbacks/?district=-99999999999999999999",
    ],
)
def test_nul_bytes_and_impossible_offsets_in_paths_and_queries_are_a_clear_400(agent_client, path):
    response = agent_client.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] in ("bad_characters", "bad_utc_offset", "bad_datetime", "huge_integer")
    elif path.startswith("/open311/"):
        assert response.json()[0]["code"] == 400
    else:
        assert response["Content-Type"].startswith("text/html")
        assert "Invalid request" in response.content.decode() or "请求无效" in response.content.decode()


def test_a_lone_surrogate_or_nul_in_a_json_body_changes_nothing(agent_client):
    before = Call.objects.count()
    for bad in ('"\\ud800"', '"a\\u0000b"'):
        body = '{"request_type": "help", "caller_name": "x", "description": ' + bad + "}"
        response = agent_client.post("/api/v1/intake/", body, content_type="application/json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] == "bad_characters"
    assert Call.objects.count() == before


def test_a_nul_byte_in_a_form_field_is_refused(agent_client):
    response = agent_client.post("/intake/", {"description": "abc\x00def"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_a_cookie_with_a_nul_byte_is_a_plain_400(client):
    client.cookies["sessionid"] = "abc\x00defghijk"
    assert client.get("/").status_code == 400


def test_impossible_dates_and_json_numbers_for_dates_in_an_action_change_nothing(
    client, signed_order, xiluoyuan_handler
):
    client.force_login(xiluoyuan_handler)
    before = signed_order.events.count()
    url = f"/api/v1/orders/{signed_order.pk}/respond/"
    for body in (
        {"contacted_at": "2026-02-30T10:00:00+08:00", "method": "phone", "summary": "已电话联系"},
        {"contacted_at": "2026-11-01T10:00:00+16:00", "method": "phone", "summary": "已电话联系"},
        {"contacted_at": 1764000000, "method": "phone", "summary": "已电话联系"},
        {"contacted_at": ["2026-11-01T10:00:00+08:00"], "method": "phone", "summary": "已电话联系"},
    ):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, (body, response.content)
    assert signed_order.events.count() == before


def test_non_numeric_order_id_in_an_action_is_404(agent_client):
    response = agent_client.post("/api/v1/orders/abc/sign/", {}, content_type="application/json")
    assert response.status_code == 404


def test_notification_ids_must_be_a_list_of_ids(agent_client, agent):
    for body in ({"ids": "abc"}, {"ids": [1, "x"]}, {"ids": {"a": 1}}, {"ids": [True]}):
        response = agent_client.post("/api/v1/notifications/mark-read/", body, content_type="application/json")
        assert response.status_code == 400, body
        assert "ids" in response.json()
    assert (
        agent_client.post("/api/v1/notifications/mark-read/", {"ids": []}, content_type="application/json").status_code
        == 200
    )
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_notification_ids_out_of_range_or_too_many_are_refused_not_a_500(agent_client):
    raw_bodies = ['{"ids": [1e400]}', '{"ids": [1e30]}', '{"ids": [1.0]}', '{"ids": [9223372036854775808]}']
    for raw in raw_bodies:
        response = agent_client.post("/api/v1/notifications/mark-read/", raw, content_type="application/json")
        assert response.status_code == 400, (raw, response.content)
    many = {"ids": list(range(1, 1002))}
    response = agent_client.post("/api/v1/notifications/mark-read/", many, content_type="application/json")
    assert response.status_code == 400
    assert not Notification.objects.filter(read_at__isnull=False).exists()


def test_json_lists_and_objects_are_not_text_for_the_intake_form(intake_reference, agent_client):
    before = Call.objects.count()
    for field, value in (("caller_name", ["a", "b"]), ("address", {"x": 1}), ("description", 12345678)):
        body = intake_data(**{field: value})
        response = agent_client.post("/api/v1/intake/", json.dumps(body), content_type="application/json")
        assert response.status_code == 400, response.content
        assert field in response.json()
    assert Call.objects.count() == before


def test_invisible_only_text_and_bidi_controls_are_refused(intake_reference, agent_client):
    before = Call.objects.count()
    cases = [
        {"description": "\u200b" * 6},
        {"caller_name": "王\u202e敏"},
        {"address": "北京市丰台区洋桥北里\u20667号楼"},
    ]
    for overrides in cases:
        response = agent_client.post(
            "/api/v1/intake/", json.dumps(intake_data(**overrides)), content_type="application/json"
        )
        assert response.status_code == 400, (overrides, response.content)
        assert next(iter(overrides)) in response.json()
    assert Call.objects.count() == before


def test_text_rules():
    assert visible_length("\u200b\u200c\u200d\ufeff\u2060 ") == 0
    assert visible_length("ab\u200bc") == 3
    with pytest.raises(DomainError):
        clean_text("\u200b\u200b", label="备注")
    assert clean_text(" ok ", label="备注") == "ok"
    assert bad_utc_offset("2026-11-01T00:00:00+16:00") and bad_utc_offset("2026-11-01 00:00-2400")
    assert not bad_utc_offset("2026-11-01T00:00:00+15:59") and not bad_utc_offset("2026-11-01")
