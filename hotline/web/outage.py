"""What a request gets when something it needs is down, instead of an HTML 500 page.

Django calls `server_error` (handler500) for any exception no view or middleware handled, with the
exception still current. A database error (OperationalError/InterfaceError: unreachable,
restarting, connections exhausted) is an outage, not a bug: it answers 503 with Retry-After — JSON
for API clients, a plain page (no template, no database) for people. Any other error keeps the
500 (hotline.web.errors: JSON for API clients, the application's own page for people).
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

API_PREFIXES = ("/api/", "/open311/")
RETRY_AFTER_SECONDS = 30


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, (OperationalError, InterfaceError))


def wants_json(request) -> bool:
    return request.path.startswith(API_PREFIXES) or "application/json" in request.headers.get("Accept", "")


def outage_response(request) -> HttpResponse:
    message = _("服务暂时不可用，请稍后重试。")
    if wants_json(request):
        response = JsonResponse({"detail": message, "code": "service_unavailable"}, status=503)
    else:
        title = escape(_("服务暂时不可用"))
        response = HttpResponse(
            f'<!doctype html><html lang="zh-hans"><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title>'
            f"<h1>{title}</h1><p>{escape(message)}</p></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request, *args, **kwargs):
    from hotline.web import errors  # errors builds on this module

    return errors.server_error(request, *args, **kwargs)
