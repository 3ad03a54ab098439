"""Open311 GeoReport v2 driven over real HTTP (urllib against the live server), as a third-party
311 app would."""

import json
import urllib.error
import urllib.parse
import urllib.request
from xml.etree import ElementTree as ET

import pytest

from hotline.intake.open311 import hash_key
from hotline.models import ApiClient, Call, Category, Open311Request
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
    public_id = created["service_request_id"]
    order = WorkOrder.objects.get(call__open311__public_id=public_id)
    assert public_id != order.number and len(public_id) >= 20  # random, not the sequential number
    call = Call.objects.get(order=order)
    assert call.channel == "app" and call.caller_phone == "13612345678" and call.api_client.name == "测试应用"
    # and reads it back with its key: the fuller view
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{public_id}.json?api_key={KEY}")
    assert status == 200
    [req] = json.loads(body)
    assert req["agency_responsible"] == "丰台区水务局"
    assert req["status"] == "open" and req["service_code"] == "020102"
    assert req["expected_datetime"] and req["requested_datetime"] and req["updated_datetime"]
    assert req["description"] == "路面自来水管爆裂，水已漫到单元门口。" and "洋桥北里" in req["address"]
    # no phone or name in what the app can GET
    assert "13612345678" not in body and "王敏" not in body and "wm@example.com" not in body
    # without a key: public-safe fields only, the place at street level
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{public_id}.json")
    [public] = json.loads(body)
    assert status == 200 and public["status"] == "open" and public["agency_responsible"] == "丰台区水务局"
    assert public["description"] is None and public["address"] == "丰台区西罗园街道"
    assert "洋桥" not in body and "13612345678" not in body and "王敏" not in body and "自来水管" not in body


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


def test_listing_needs_the_apps_key_and_another_app_gets_only_the_public_view(live_server, api_key):
    # given: a request posted by this app, and another app with its own key
    status, _, body = post_request(live_server, api_key)
    number = json.loads(body)[0]["service_request_id"]
    other_key = "other-311-key-9876543210"
    other = UserFactory(role="agent", unit=unit("11-center"), username="other-app")
    ApiClient.objects.create(
        name="另一应用", key_prefix=other_key[:10], key_hash=hash_key(other_key), acting_user=other
    )
    # when / then: listing without a key, or any read with a wrong key → 403 in the spec's format
    status, _, body = http(live_server, "GET", "/open311/v2/requests.json")
    assert status == 403 and json.loads(body)[0]["code"] == 403
    for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{number}.json"):
        assert http(live_server, "GET", path + "?api_key=wrong")[0] == 403
    # another app lists nothing of it, and reads it by id only in the public view
    assert json.loads(http(live_server, "GET", f"/open311/v2/requests.json?api_key={other_key}")[2]) == []
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{number}.json?api_key={other_key}")
    assert status == 200 and json.loads(body)[0]["description"] is None
    # the app that posted it reads it back in full
    status, _, body = http(live_server, "GET", f"/open311/v2/requests/{number}.json?api_key={KEY}")
    assert status == 200 and json.loads(body)[0]["description"]
    # the sequential order number finds nothing
    order_number = WorkOrder.objects.get().number
    assert http(live_server, "GET", f"/open311/v2/requests/{order_number}.json")[0] == 404


def test_lat_long_are_stored_and_bad_ones_refused(live_server, api_key):
    status, _, body = post_request(live_server, api_key, lat="39.861234", long="116.381234")
    assert status == 201
    o311 = Open311Request.objects.get()
    assert (str(o311.lat), str(o311.long)) == ("39.861234", "116.381234")
    for fields in (
        {"lat": "91", "long": "116"},
        {"lat": "nan", "long": "1"},
        {"lat": "39.9"},
        {"lat": "x", "long": "y"},
    ):
        code, _, body = post_request(live_server, api_key, **fields)
        assert code == 400 and "lat" in json.loads(body)[0]["description"]
    assert Open311Request.objects.count() == 1 and Call.objects.count() == 1


def test_services_json_survives_a_leaf_without_grandparent(live_server, api_key):
    parent = Category.objects.create(code="T-MID", name="孤立中类", level=2)
    Category.objects.create(code="T-LEAF", name="孤立小类", level=3, parent=parent)
    status, _, body = http(live_server, "GET", "/open311/v2/services.json")
    assert status == 200
    leaf = next(s for s in json.loads(body) if s["service_code"] == "T-LEAF")
    assert leaf["group"] == "孤立中类"


def test_reads_are_rate_limited_with_retry_after(live_server, api_key, settings):
    from django.core.cache import cache
    from rest_framework.settings import api_settings

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "open311": "3/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    api_settings.reload()
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    cache.clear()
    try:
        codes = [http(live_server, "GET", "/open311/v2/requests/nope.json")[0] for _ in range(4)]
        assert codes == [404, 404, 404, 429]
        req = urllib.request.Request(live_server.url + "/open311/v2/requests/nope.json")
        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(req, timeout=10)
        assert exc.value.code == 429 and int(exc.value.headers["Retry-After"]) > 0
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
        cache.clear()


def test_the_real_georeport_client_reads_back_status_and_agency_without_a_key(live_server, api_key):
    """PyPI `georeport` (a GeoReport v2 client) sends no key on reads: it must find what an app created."""
    from georeport import GeoReport

    # the app creates a request with its key (georeport has no create call: a plain form POST)
    status, _, body = post_request(live_server, api_key)
    assert status == 201
    public_id = json.loads(body)[0]["service_request_id"]
    client = GeoReport(live_server.url + "/open311/v2/")
    assert client.api_key is None
    assert any(s["service_code"] == "020102" for s in client.get_service_list())
    one = client.get_service_request(public_id)
    assert one["status"] == "open" and one["agency_responsible"] == "丰台区水务局"
    assert one["service_request_id"] == public_id and one["address"] == "丰台区西罗园街道"
    assert one["description"] is None
    [listed] = client.get_service_requests(service_request_id=public_id)
    assert listed["agency_responsible"] == "丰台区水务局"
    # XML too
    xml_client = GeoReport(live_server.url + "/open311/v2/", output_format="xml")
    assert xml_client.get_service_request(public_id)["agency_responsible"] == "丰台区水务局"
