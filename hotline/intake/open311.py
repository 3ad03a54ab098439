"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2/) under /open311/v2/.

Third-party 311 apps list our services (service_code = a leaf category's code), submit requests
(POST, form-encoded, with an api_key issued in the admin) that go through the same intake function
as the agent's form (address_string → routing → dispatch catalogue; lat/long stored when sent), and
track them by the service_request_id they were given: a random public id (Open311Request), never the
sequential order number, so nobody can enumerate the city's requests.

Reads: with the submitting app's key, the fuller view of its own requests (description, address,
coordinates); without a key (the spec's clients send one only when creating), or with another app's,
a request asked for by its id shows only public-safe fields — service, status and status notes, the
agency responsible, requested/updated/expected times and the place at street level — never the
description, address, name or phone (北京市接诉即办工作条例 protects the caller's privacy). Listing
without ids needs a key and lists that app's own requests. Every endpoint is rate-limited per key
(per address without one): 429 with Retry-After.
JSON and XML; errors in the spec's format: [{"code": 400, "description": "..."}].
"""

from __future__ import annotations

import hashlib
import math
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from xml.etree import ElementTree as ET

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from hotline import numbers
from hotline.accounts.throttles import open311_wait
from hotline.errors import AccessDenied, DomainError
from hotline.intake.services import Action, IntakeInvalid, call_intake
from hotline.models import ApiClient, Call, Category, Open311Request
from workorders.models import OPEN_STATES, OrderEvent, WorkOrder

JURISDICTION = "beijing.12345"
MAX_RESULTS = 200  # per page; `page=2,3…` (a common GeoReport extension) for more
DEFAULT_WINDOW_DAYS = 90
# Our intake field → the Open311 parameter the client sent it as, for error messages.
FIELD_NAMES = {
    "category": "service_code",
    "address": "address_string",
    "street": "address_string",
    "description": "description",
    "phone": "phone",
    "caller_name": "first_name",
}


# --- API keys -------------------------------------------------------------------------------
def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "o311_" + secrets.token_urlsafe(24)


def new_public_id() -> str:
    """A request's id for Open311 apps: 128 random bits, not derivable from the order number."""
    return secrets.token_urlsafe(16)


def client_for_key(key: str) -> ApiClient | None:
    if not key or len(key) > 200:
        return None
    client = (
        ApiClient.objects.select_related("acting_user__unit").filter(key_hash=hash_key(key), is_active=True).first()
    )
    now = timezone.now()
    if client is not None and (client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1)):
        # "last used" to the minute is enough: a polling app does not write a row on every GET.
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
    return client


# --- rendering ------------------------------------------------------------------------------
def _xml(root_tag: str, item_tag: str, rows: list[dict]) -> HttpResponse:
    root = ET.Element(root_tag)
    for row in rows:
        item = ET.SubElement(root, item_tag)
        for key, value in row.items():
            child = ET.SubElement(item, key)
            if isinstance(value, bool):
                child.text = "true" if value else "false"
            elif value is not None:
                child.text = str(value)
    body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
    return body


def _respond(fmt: str, rows: list[dict], *, root: str, item: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, rows), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(rows, safe=False, status=status, json_dumps_params={"ensure_ascii": False})


def _error(fmt: str, status: int, description: str) -> HttpResponse:
    rows = [{"code": status, "description": str(description)}]
    if fmt not in ("json", "xml"):
        fmt = "json"
    return _respond(fmt, rows, root="errors", item="error", status=status)


def _bad_format(fmt: str) -> HttpResponse | None:
    if fmt not in ("json", "xml"):
        return _error("json", 404, _("不支持的格式“%(fmt)s”，请使用 json 或 xml。") % {"fmt": fmt[:10]})
    return None


def _iso(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- discovery and services -----------------------------------------------------------------
@require_http_methods(["GET"])
def discovery(request, fmt: str):
    if bad := _bad_format(fmt):
        return bad
    base = request.build_absolute_uri("/open311/v2/")
    body = {
        "changeset": "2026-11-22T00:00:00+08:00",
        "contact": _("北京市民热线服务中心 12345"),
        "key_service": _("API 密钥由市民热线服务中心在系统管理中签发。"),
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-22T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    if fmt == "xml":
        return _respond(
            "xml", [{"contact": body["contact"], "key_service": body["key_service"]}], root="discovery", item="info"
        )
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _leaves():
    return Category.objects.filter(level=3, is_active=True).select_related("parent__parent").order_by("sort", "code")


def _ancestors(category) -> list[str]:
    """Names above a leaf, top first; a leaf whose tree is incomplete has fewer (never an error)."""
    names, node = [], category.parent
    while node is not None and len(names) < 5:
        names.insert(0, node.name)
        node = node.parent
    return names


@require_http_methods(["GET"])
def services(request, fmt: str):
    if bad := _bad_format(fmt):
        return bad
    rows = [
        {
            "service_code": c.code,
            "service_name": c.name,
            "description": " › ".join([*ancestors, c.name]),
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join(ancestors),
            "group": ancestors[0] if ancestors else c.name,
        }
        for c in _leaves()
        for ancestors in [_ancestors(c)]
    ]
    return _respond(fmt, rows, root="services", item="service")


@require_http_methods(["GET"])
def service_definition(request, code: str, fmt: str):
    if bad := _bad_format(fmt):
        return bad
    if not _leaves().filter(code=code).exists():
        return _error(fmt, 404, _("没有编码为“%(code)s”的服务。") % {"code": code[:20]})
    if fmt == "xml":
        root = ET.Element("service_definition")
        ET.SubElement(root, "service_code").text = code
        ET.SubElement(root, "attributes")
        body = b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")
        return HttpResponse(body, content_type="text/xml; charset=utf-8")
    return JsonResponse({"service_code": code, "attributes": []})


# --- requests -------------------------------------------------------------------------------
def _orders():

    last_event = OrderEvent.objects.filter(order_id=OuterRef("pk")).order_by("-at", "-id").values("at")[:1]
    return (
        WorkOrder.objects.filter(call__open311__isnull=False)
        .select_related("category", "lead_unit", "call__open311", "street", "district")
        .annotate(updated=Subquery(last_event))
    )


def _request_row(order, *, full: bool) -> dict:
    """One request as Open311 shows it: `full` for the app that submitted it, public-safe otherwise."""
    is_open = order.state in OPEN_STATES
    o311 = order.call.open311
    place = "".join(d.name for d in (order.district, order.street) if d is not None) or None
    return {
        "service_request_id": o311.public_id,
        "status": "open" if is_open else "closed",
        "status_notes": order.get_state_display()
        if is_open
        else (order.get_result_display() or order.get_state_display()),
        "service_name": order.category.name,
        "service_code": order.category.code,
        "description": order.call.description if full else None,
        "agency_responsible": order.lead_unit.name,
        "service_notice": None,
        "requested_datetime": _iso(order.call.received_at),
        "updated_datetime": _iso(order.updated or order.dispatched_at),
        "expected_datetime": _iso(order.resolution_deadline),
        # without the app's key: the street (街乡镇) at most, never the house
        "address": order.address if full else place,
        "address_id": None,
        "zipcode": None,
        "lat": float(o311.lat) if full and o311.lat is not None else None,
        "long": float(o311.long) if full and o311.long is not None else None,
        "media_url": None,
    }


def _key_and_limit(request, fmt: str, key: str):
    """(client or None, error response or None): an unknown key is refused; every caller is
    rate-limited (per key, or per address without one)."""
    client = client_for_key(key) if key else None
    if key and client is None:
        return None, _error(fmt, 403, _("api_key 无效或已停用。"))
    if (wait := open311_wait(request, client)) is not None:
        response = _error(fmt, 429, _("请求过于频繁，请 %(s)s 秒后再试。") % {"s": wait})
        response["Retry-After"] = str(wait)
        return None, response
    return client, None


def _parse_when(value: str, *, end: bool = False) -> datetime | None:
    value = value.strip()
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        parsed = datetime.combine(day + timedelta(days=1) if end else day, datetime.min.time())
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


@csrf_exempt
@require_http_methods(["GET", "POST"])
def requests_view(request, fmt: str):
    if bad := _bad_format(fmt):
        return bad
    if request.method == "POST":
        return _create(request, fmt)
    params = request.GET
    client, refused = _key_and_limit(request, fmt, params.get("api_key", ""))
    if refused:
        return refused
    ids = [i.strip() for i in params.get("service_request_id", "").split(",") if i.strip()][:MAX_RESULTS]
    if ids:
        qs = _orders().filter(call__open311__public_id__in=[i[:40] for i in ids])
    elif client is None:
        message = _("不带 api_key 时请用 service_request_id 查询诉求；列出诉求需要提交它们的应用的 api_key。")
        return _error(fmt, 403, message)
    else:
        qs = _orders().filter(call__api_client=client)
        codes = [c.strip() for c in params.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__code__in=codes)
        try:
            start = _parse_when(params["start_date"]) if params.get("start_date") else None
            end = _parse_when(params["end_date"], end=True) if params.get("end_date") else None
        except ValueError:
            return _error(fmt, 400, _("start_date / end_date 应为 ISO 8601 时间，例如 2026-11-01T00:00:00+08:00。"))
        if start is None and end is None:
            start = timezone.now() - timedelta(days=DEFAULT_WINDOW_DAYS)
        if start is not None:
            qs = qs.filter(dispatched_at__gte=start)
        if end is not None:
            qs = qs.filter(dispatched_at__lt=end)
        status = params.get("status", "").strip()
        statuses = {s.strip() for s in status.split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            return _error(fmt, 400, _("status 只能是 open 或 closed。"))
        if statuses == {"open"}:
            qs = qs.filter(state__in=OPEN_STATES)
        elif statuses == {"closed"}:
            qs = qs.exclude(state__in=OPEN_STATES)
    page = numbers.ascii_int(params.get("page", "1"), low=1, high=1000)
    if page is None:
        return _error(fmt, 400, _("page 应为 1 到 1000 之间的整数。"))
    offset = (page - 1) * MAX_RESULTS
    rows = [
        _request_row(o, full=client is not None and o.call.api_client_id == client.pk)
        for o in qs.order_by("-dispatched_at", "-id")[offset : offset + MAX_RESULTS]
    ]
    return _respond(fmt, rows, root="service_requests", item="request")


@require_http_methods(["GET"])
def request_detail(request, request_id: str, fmt: str):
    if bad := _bad_format(fmt):
        return bad
    client, refused = _key_and_limit(request, fmt, request.GET.get("api_key", ""))
    if refused:
        return refused
    order = _orders().filter(call__open311__public_id=request_id[:40]).first()
    if order is None:
        return _error(fmt, 404, _("没有编号为“%(id)s”的诉求。") % {"id": request_id[:40]})
    full = client is not None and order.call.api_client_id == client.pk
    return _respond(fmt, [_request_row(order, full=full)], root="service_requests", item="request")


def _coordinate(value: str, limit: int) -> Decimal | None:
    value = (value or "").strip()
    if not value:
        return None
    number = float(value)  # ValueError for text
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise ValueError(value)
    return Decimal(str(round(number, 6)))


def _create(request, fmt: str) -> HttpResponse:
    data = request.POST
    client = client_for_key(data.get("api_key") or request.GET.get("api_key", ""))
    if client is None:
        return _error(fmt, 403, _("api_key 无效或未提供。"))
    if (wait := open311_wait(request, client)) is not None:
        response = _error(fmt, 429, _("请求过于频繁，请 %(s)s 秒后再试。") % {"s": wait})
        response["Retry-After"] = str(wait)
        return response
    try:
        lat, long = _coordinate(data.get("lat", ""), 90), _coordinate(data.get("long", ""), 180)
    except ValueError:
        return _error(fmt, 400, _("lat / long 应为十进制度数：纬度 -90 到 90，经度 -180 到 180。"))
    if (lat is None) != (long is None):
        return _error(fmt, 400, _("lat 和 long 须同时提供。"))
    if not data.get("address_string", "").strip():
        if data.get("lat") or data.get("long") or data.get("address_id"):
            return _error(fmt, 400, _("暂不支持按坐标定位，请提供 address_string。"))
        return _error(fmt, 400, _("address_string：请提供诉求地址。"))
    name = f"{data.get('last_name', '')}{data.get('first_name', '')}".strip()
    phone = data.get("phone", "").strip()
    intake = {
        "phone": phone,
        "no_number": "" if phone else "1",
        "caller_name": name,
        "channel": Call.Channel.APP,
        "request_type": Call.RequestType.HELP,
        "category": data.get("service_code", ""),
        "address": data.get("address_string", ""),
        "description": data.get("description", ""),
        "action": Action.ORDER,
    }
    if not intake["category"]:
        return _error(fmt, 400, _("service_code：请提供服务编码。"))
    try:
        with transaction.atomic():
            result = call_intake(acting_user=client.acting_user, data=intake, api_client=client)
            o311 = Open311Request.objects.create(
                call_id=result.order.call_id, public_id=new_public_id(), lat=lat, long=long
            )
    except IntakeInvalid as exc:
        parts = [f"{FIELD_NAMES.get(field, field)}：{'；'.join(messages)}" for field, messages in exc.errors.items()]
        return _error(fmt, 400, " ".join(parts))
    except AccessDenied:
        return _error(fmt, 403, _("该 api_key 的受理账号无权受理诉求。"))
    except DomainError as exc:
        return _error(fmt, 400, exc.message)
    order = result.order
    rows = [
        {
            "service_request_id": o311.public_id,
            "service_notice": _("已派至%(unit)s，办结时限 %(deadline)s")
            % {
                "unit": order.lead_unit.name,
                "deadline": timezone.localtime(order.resolution_deadline).strftime("%Y-%m-%d %H:%M"),
            },
            "account_id": None,
        }
    ]
    return _respond(fmt, rows, root="service_requests", item="request", status=201)
