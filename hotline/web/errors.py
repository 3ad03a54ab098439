"""The application's own error answers: 404, 403, 405, 500 and a refused CSRF check.

People get a translated page with a way back (never Django's developer wording); API clients
(`/api/`, `/open311/`, or asking for JSON: `outage.wants_json`) get `{"detail", "code"}` JSON.
A database outage stays a 503 (hotline.web.outage). The 500 page is rendered from a template that
needs no database and no request context: whatever broke the view must not break its error page.

`MethodNotAllowedPageMiddleware` turns the empty 405 of a POST-only page URL (an order action,
a callback record, …) opened by GET — a bookmark, a reload, a pasted link — into a page that says
the action is done from the page it belongs to, with a link there.
"""

from __future__ import annotations

import sys

from django.http import HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from hotline.web import outage


def _json(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"detail": message, "code": code}, status=status, json_dumps_params={"ensure_ascii": False})


def page(request, status: int, title: str, message: str, *, back: tuple[str, str] | None = None) -> HttpResponse:
    """The application's own error page (also for views that explain a refusal themselves)."""
    back_url, back_label = back or ("", "")
    context = {"status": status, "title": title, "message": message, "back_url": back_url, "back_label": back_label}
    return HttpResponse(loader.render_to_string("errors/error.html", context, request=request), status=status)


@requires_csrf_token
def page_not_found(request, exception=None):
    message = _("您要找的页面不存在，或者您没有查看它的权限。")
    if outage.wants_json(request):
        return _json(404, "not_found", _("未找到。"))
    return page(request, 404, _("页面不存在"), message)


@requires_csrf_token
def permission_denied(request, exception=None):
    if outage.wants_json(request):
        return _json(403, "permission_denied", _("您没有执行该操作的权限。"))
    return page(request, 403, _("没有权限"), _("您的账号没有查看这个页面或执行这个操作的权限。"))


def csrf_failure(request, reason: str = ""):
    """CSRF_FAILURE_VIEW: usually a form left open across a log-out, a log-in elsewhere or an expired
    session. Nothing was saved; the user goes back, reloads the form and sends it again."""
    message = _("页面已过期（可能在其他窗口退出或重新登录过），本次提交没有保存。请返回刷新页面后重新提交。")
    if outage.wants_json(request):
        return _json(403, "csrf_failed", message)
    back = request.path if request.method == "GET" else _page_for_action(request.path)
    return page(request, 403, _("页面已过期"), message, back=back)


def server_error(request, *args, **kwargs):
    """handler500. Rendered without a RequestContext: no database, no user, no navigation."""
    exc = sys.exc_info()[1]
    if outage.is_outage(exc):
        return outage.outage_response(request)
    if outage.wants_json(request):
        return _json(500, "server_error", _("服务器内部错误。"))
    try:
        body = loader.get_template("errors/500.html").render({"title": _("出错了")})
    except Exception:  # noqa: BLE001 — the error page itself must not fail: plain text then
        body = _("系统处理这个请求时出错了，错误已记录。请稍后重试；如果一再出现，请联系系统管理员。")
    return HttpResponse(body, status=500)


# --- 405 --------------------------------------------------------------------------------------------
def _page_for_action(path: str) -> tuple[str, str]:
    """The page an action URL belongs to: the nearest parent path that is a page (/orders/1/sign/ →
    /orders/1/), else the home page."""
    parts = [p for p in path.split("/") if p]
    while parts:
        parts.pop()
        candidate = "/" + "/".join(parts) + "/" if parts else "/"
        try:
            match = resolve(candidate)
        except Resolver404:
            continue
        if match.url_name == "order-detail":
            return candidate, _("返回工单页面")
        if candidate == "/":
            break
        return candidate, _("返回上一级页面")
    return "/", _("返回首页")


def method_not_allowed(request) -> HttpResponse:
    if outage.wants_json(request):
        return _json(405, "method_not_allowed", _("此地址不接受 %(method)s 请求。") % {"method": request.method})
    message = _("这个地址用于提交操作（例如签收、回复），要在所属页面上点击相应按钮完成，不能直接打开。")
    return page(request, 405, _("请在页面上操作"), message, back=_page_for_action(request.path))


class MethodNotAllowedPageMiddleware:
    """Replaces the empty body of a view's HttpResponseNotAllowed (require_POST and friends)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not response.content:
            allow = response["Allow"]
            response = method_not_allowed(request)
            response["Allow"] = allow
        return response
