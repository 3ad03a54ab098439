"""The edge: what every request passes before any view runs.

`EdgeValidationMiddleware` refuses input no view can handle — a NUL byte or a lone surrogate in the
path, a query parameter, a form field or a JSON body, a date-time with a time-zone offset beyond
±15:59 or a date that does not exist, a JSON integer no column holds — with one clear, translated
400: JSON for the API (`{"detail", "code"}`) and Open311 (the spec's error list), a page otherwise.
The character rules themselves live in hotline.textrules.

Numbers are refused only where they are parsed as numbers (hotline.numbers): digits in free text are
text. A view that meets a number parameter that is not one raises `numbers.NotANumber`; the API's
exception handler answers it, and for pages and Open311 this middleware does, in the same shapes. An
API object's id in the path (a DRF viewset's integer lookup) is checked here before the view runs:
"١٢٣" is no id (the ORM would read it as 123), so it is a 404 like any id that is not there; so is
an `<int:pk>` of more digits than an id column holds (the database would fail on it).

`ContentSecurityPolicyMiddleware` puts a Content-Security-Policy on every HTML page: scripts only
from our own origin (vendored files, no inline script; the pages' data travels in
`<script type="application/json">` blocks, which are data, not scripts), no plugins, no framing.
A response that sets its own policy (attachments: stricter still) keeps it.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination

from hotline import numbers, textrules

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# JSON nested deeper than this is not a request anyone means to send.
MAX_JSON_DEPTH = 32
INTEGER_TYPES = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField"}


def _bad_value(value: str) -> str | None:
    if textrules.bad_characters(value):
        return "bad_characters"
    if textrules.bad_utc_offset(value):
        return "bad_utc_offset"
    if textrules.impossible_datetime(value):
        return "bad_datetime"
    return None


def _scan_pairs(pairs) -> str | None:
    for key, values in pairs:
        for text in (key, *values):
            if problem := _bad_value(text):
                return problem
    return None


def _scan_json(value, depth: int = 0) -> str | None:
    if depth > MAX_JSON_DEPTH:
        return "too_deep"
    if isinstance(value, str):
        return _bad_value(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > numbers.ID_MAX:
        return "huge_integer"
    if isinstance(value, dict):
        for key, item in value.items():
            if problem := _bad_value(key) or _scan_json(item, depth + 1):
                return problem
    elif isinstance(value, list):
        for item in value:
            if problem := _scan_json(item, depth + 1):
                return problem
    return None


def request_problem(request) -> str | None:
    """What is wrong with this request's text, or None."""
    if problem := _bad_value(request.path_info):
        return problem
    if problem := _scan_pairs(request.GET.lists()):
        return problem
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        content_type = request.content_type or ""
        if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            # A malformed or oversized body raises here and Django answers 400 itself.
            if problem := _scan_pairs(request.POST.lists()):
                return problem
            for upload in request.FILES.values():
                if problem := _bad_value(upload.name or ""):
                    return problem
        elif content_type.endswith("json"):
            body = request.body
            if body:
                try:
                    data = json.loads(body)
                except (ValueError, RecursionError):
                    return None  # the view's parser answers malformed JSON
                return _scan_json(data)
    return None


MESSAGES = {
    "bad_characters": lambda: _("请求中含有不允许的字符（空字符或不成对的代理字符），请检查输入。"),
    "bad_utc_offset": lambda: _("时间的时区偏移无效：应在 -15:59 到 +15:59 之间，例如 2026-11-01T08:00:00+08:00。"),
    "bad_datetime": lambda: _("日期或时间不存在（例如 2 月 30 日、25 点），请检查。"),
    "huge_integer": lambda: _("数字过大：编号和数量最多 18 位。"),
    "too_deep": lambda: _("JSON 嵌套层数过多。"),
}


def bad_request(request, problem: str, message: str | None = None, *, status: int = 400) -> HttpResponse:
    message = MESSAGES[problem]() if message is None else message
    path = request.path_info
    if path.startswith("/open311/"):
        return JsonResponse(
            [{"code": status, "description": message}],
            safe=False,
            status=status,
            json_dumps_params={"ensure_ascii": False},
        )
    if path.startswith("/api/"):
        return JsonResponse(
            {"detail": message, "code": problem}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    body = render_to_string("edge_400.html", {"message": message}, request=request)
    return HttpResponse(body, status=status)


def _integer_lookup(view_func) -> str | None:
    """The URL keyword of a DRF viewset's lookup when it is an integer column, else None. A viewset
    that builds its queryset per request looks up by `pk`, and every primary key here is an integer
    (DEFAULT_AUTO_FIELD)."""
    cls = getattr(view_func, "cls", None)
    lookup = getattr(cls, "lookup_field", None)
    if lookup is None:
        return None
    queryset = getattr(cls, "queryset", None)
    if queryset is not None:
        meta = queryset.model._meta
        try:
            field = meta.pk if lookup == "pk" else meta.get_field(lookup)
        except FieldDoesNotExist:
            return None
        if field.get_internal_type() not in INTEGER_TYPES:
            return None
    elif lookup != "pk":
        return None
    return cls.lookup_url_kwarg or lookup


def _page_param(view_func) -> str | None:
    """The query parameter of a DRF list's page number (DRF would read "١٢٣" as page 123)."""
    pagination = getattr(getattr(view_func, "cls", None), "pagination_class", None)
    if pagination is None or not issubclass(pagination, PageNumberPagination):
        return None
    return pagination.page_query_param


class EdgeValidationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if any(textrules.bad_characters(k) or textrules.bad_characters(v) for k, v in request.COOKIES.items()):
            # not even the session can be looked up with such a cookie: a plain answer
            return HttpResponse(MESSAGES["bad_characters"](), status=400, content_type="text/plain; charset=utf-8")
        if problem := request_problem(request):
            return bad_request(request, problem)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        kwarg = _integer_lookup(view_func)
        too_big = any(type(v) is int and v > numbers.ID_MAX for v in view_kwargs.values())  # <int:pk> of 30 digits
        if too_big or (kwarg and kwarg in view_kwargs and numbers.parse_id(view_kwargs[kwarg]) is None):
            if not request.path_info.startswith(("/api/", "/open311/")):
                raise Http404
            return bad_request(request, NotFound.default_code, str(NotFound.default_detail), status=404)
        if (param := _page_param(view_func)) and request.GET.get(param, "last") != "last":
            try:
                numbers.page_param(request.GET[param])
            except numbers.NotANumber as exc:
                return bad_request(request, exc.code, exc.message)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, numbers.NotANumber):
            return bad_request(request, exception.code, exception.message)
        return None


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response and response.get("Content-Type", "").startswith("text/html"):
            response["Content-Security-Policy"] = csp_for(request)
        return response


def csp_for(request) -> str:
    """The page policy; when the live-update server listens on its own port (`make run`: PORT+1)
    the pages' EventSource connects there, so that origin (same host, that port) may be connected to."""
    if not settings.LIVE_PORT:
        return CSP
    host = request.get_host().rsplit(":", 1)[0] if not request.get_host().endswith("]") else request.get_host()
    return CSP.replace("connect-src 'self'", f"connect-src 'self' {host}:{settings.LIVE_PORT}")
