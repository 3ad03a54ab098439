"""The agent's session slides while they work (a long call must not end at a fixed time after login).

The workspace page and its keep-alive ping (sent by static/js/intake.js on typing, at most once a
minute) renew the session: Django saves a modified session with a fresh expiry of
SESSION_COOKIE_AGE from now. The page is told how long is left and warns
SESSION_EXPIRY_WARNING_SECONDS before the end; what was typed is kept in the browser meanwhile, so
even an expired session loses nothing (the draft comes back after logging in again).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline import access

SLID_AT = "_intake_slid_at"  # when the session was last renewed (epoch seconds)
MIN_INTERVAL = 60  # renew at most once a minute: one session write per agent-minute at most


def session_slide(request, *, force: bool = False) -> int:
    """Renew the session's expiry (if not renewed within the last minute) and return the seconds left."""
    now = int(time.time())
    last = request.session.get(SLID_AT)
    if force or not isinstance(last, int) or now - last >= MIN_INTERVAL:
        request.session[SLID_AT] = last = now
    return max(0, last + settings.SESSION_COOKIE_AGE - now)


def session_info(request) -> dict[str, int]:
    return {"expiresIn": session_slide(request), "warnBefore": settings.SESSION_EXPIRY_WARNING_SECONDS}


@require_POST
def keepalive(request):
    """POST /intake/keepalive/: renews the session and says how long it lasts; 401 once it has ended
    (the page then keeps the draft and asks the agent to log in again)."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": _("登录已过期，请重新登录。"), "code": "session_expired"}, status=401)
    if not access.may(request.user, access.Cap.TAKE_CALLS):
        return JsonResponse({"detail": _("您没有执行该操作的权限。"), "code": "permission_denied"}, status=403)
    return JsonResponse(session_info(request))
