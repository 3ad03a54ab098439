"""Open311 GeoReport v2 driven over real HTTP (urllib against the live server), as a third-party
311 app would."""

import json
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree as ET

import pytest

from hotline.intake.open311 import hash_key
from hotline.models import ApiClient, Call
from tests.factories import UserFactory, unit
from workorders.models import WorkOrder

KEY = "test-311-key-0123456789"


@pytest.fixture
def api_key(intake_reference):
    user = UserFactory(role="agent", unit=unit("11-center"), username="open311-app")
    ApiClient.objects.create(name="测试应用", key_prefix=KEY[:10], key_hash=hash_key(KEY), acting_user=user)
    return KEY


def http(live_server, method: str, path: str, data: dict | None = None, lang: str = "zh-hans"):
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(live_server.url + path, data=body, method=method)
    req.add_header("Accept-Language", lang)
    if body is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def post_request(live_server, key, **fields):
    data = {
        "api_key": key,
        "service_code": "020102",  # 水管爆裂
        "address_string": "北京市丰台区洋桥北里7号楼东侧",
        "description": "路面自来水管爆裂，水已漫到单元门口。",
        "first_name": "敏",
        "last_name": "王",
        "phone": "13612345678",
        "email": "wm@example.com",
    }
    data.update(fields)
    return http(live_server, "POST", "/open311/v2/requests.json", {k: v for k, v in data.items() if v is not None})


def test_a_311_app_lists_services_posts_a_request_and_tracks_it(live_server, api_key):
    # given: the app reads the service list
    status, ctype, body = http(live_server, "GET", "/open311/v2/services.json")
    assert status == 200 and ctype.startswith("application/json")
    services = {s["service_code"]: s for s in json.loads(body)}
    assert services["020102"]["service_name"] == "水管爆裂" and services["020102"]["group"] == "公共服务"
    # when: it posts a request
    status, _, body = post_request(live_server, api_key)
    # then
    assert status == 201, body
    [created] = json.loads(body)
    number = created["service_request_id"]
    assert WorkOrder.objects.filter(number=number).exists()
    call = Call.objects.get(order__number=number)
    assert call.channel == "app" and call.caller_phone == "13612345678" and call.api_client.name == "测试应用"
    # and reads it back
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{number}.json?api_key={KEY}")
    assert status == 200
    [req] = json.loads(body)
    assert req["agency_responsible"] == "丰台区水务局"
    assert req["status"] == "open" and req["service_code"] == "020102"
    assert req["expected_datetime"] and req["requested_datetime"] and req["updated_datetime"]
    # no personal data in what anybody can GET
    assert "13612345678" not in body and "王敏" not in body and "wm@example.com" not in body


def test_requests_json_filters(live_server, api_key):
    post_request(live_server, api_key)
    post_request(live_server, api_key, service_code="010303", description="楼前路灯一周不亮了，晚上很黑。")
    status, _, body = http(
        live_server, "GET", f"/open311/v2/requests.json?service_code=010303&status=open&api_key={KEY}"
    )
    rows = json.loads(body)
    assert status == 200 and [r["service_code"] for r in rows] == ["010303"]
    assert json.loads(http(live_server, "GET", f"/open311/v2/requests.json?status=closed&api_key={KEY}")[2]) == []
    far = "start_date=2001-01-01T00:00:00Z&end_date=2001-02-01T00:00:00Z"
    assert json.loads(http(live_server, "GET", f"/open311/v2/requests.json?{far}&api_key={KEY}")[2]) == []
    number = rows[0]["service_request_id"]
    one = json.loads(
        http(live_server, "GET", f"/open311/v2/requests.json?service_request_id={number}&api_key={KEY}")[2]
    )
    assert [r["service_request_id"] for r in one] == [number]


@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({"api_key": "wrong"}, 403, "api_key"),
        ({"api_key": None}, 403, "api_key"),
        ({"service_code": "999999"}, 400, "service_code"),
        ({"service_code": None}, 400, "service_code"),
        ({"address_string": "火星基地七号舱"}, 400, "address_string"),
        ({"address_string": None, "lat": "39.9", "long": "116.4"}, 400, "address_string"),
        ({"phone": "12"}, 400, "phone"),
        ({"description": "<b>x</b>" * 400}, 400, "description"),
    ],
)
def test_errors_come_in_the_spec_format_and_nothing_is_saved(live_server, api_key, fields, status, needle):
    code, _ctype, body = post_request(live_server, api_key, **fields)
    assert code == status
    errors = json.loads(body)
    assert errors[0]["code"] == status and needle in errors[0]["description"]
    assert not Call.objects.exists() and not WorkOrder.objects.exists()


def test_an_inactive_client_is_refused(live_server, api_key):
    ApiClient.objects.update(is_active=False)
    assert post_request(live_server, api_key)[0] == 403
    assert not Call.objects.exists()


def test_unknown_request_and_service_answer_404_in_the_error_format(live_server, api_key):
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/20990101000001.json?api_key={KEY}")
    assert status == 404 and json.loads(body)[0]["code"] == 404
    status, _, body = http(live_server, "GET", "/open311/v2/services/nope.json")
    assert status == 404 and json.loads(body)[0]["code"] == 404


def test_xml_is_served_too(live_server, api_key):
    status, ctype, body = http(live_server, "GET", "/open311/v2/services.xml")
    assert status == 200 and "xml" in ctype
    root = ET.fromstring(body.encode())
    assert root.tag == "services" and root.find("service/service_code") is not None
    status, _, body = post_request(live_server, api_key)
    number = json.loads(body)[0]["service_request_id"]
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{number}.xml?api_key={KEY}")
    assert ET.fromstring(body.encode()).find("request/agency_responsible").text == "丰台区水务局"


def test_errors_are_english_when_asked(live_server, api_key):
    code, _, body = post_request(live_server, "wrong-key")
    assert code == 403 and json.loads(body)[0]["description"]


def test_requests_json_pages_and_refuses_a_bad_page(live_server, api_key):
    post_request(live_server, api_key)
    assert len(json.loads(http(live_server, "GET", f"/open311/v2/requests.json?page=1&api_key={KEY}")[2])) == 1
    assert json.loads(http(live_server, "GET", f"/open311/v2/requests.json?page=2&api_key={KEY}")[2]) == []
    status, _, body = http(live_server, "GET", f"/open311/v2/requests.json?page=x&api_key={KEY}")
    assert status == 400 and json.loads(body)[0]["code"] == 400


def test_reading_requests_needs_the_apps_key_and_shows_only_its_own(live_server, api_key):
    # given: a request posted by this app, and another app with its own key
    status, _, body = post_request(live_server, api_key)
    number = json.loads(body)[0]["service_request_id"]
    other_key = "other-311-key-9876543210"
    other = UserFactory(role="agent", unit=unit("11-center"), username="other-app")
    ApiClient.objects.create(
        name="另一应用", key_prefix=other_key[:10], key_hash=hash_key(other_key), acting_user=other
    )
    # when / then: no key, a wrong key → 403 in the spec's error format
    for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{number}.json"):
        status, _, body = http(live_server, "GET", path)
        assert status == 403 and json.loads(body)[0]["code"] == 403
        assert http(live_server, "GET", path + "?api_key=wrong")[0] == 403
    # another app sees nothing of it
    assert json.loads(http(live_server, "GET", f"/open311/v2/requests.json?api_key={other_key}")[2]) == []
    status, _, _ = http(live_server, "GET", f"/open311/v2/requests/{number}.json?api_key={other_key}")
    assert status == 404
    # the app that posted it reads it back
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{number}.json?api_key={KEY}")
    assert status == 200 and json.loads(body)[0]["service_request_id"] == number
