"""Second factor for the admin: time-based one-time codes (TOTP, RFC 6238: HMAC-SHA1, 6 digits,
30-second steps), the scheme every authenticator app speaks. Standard library only.

The admin (hotline.admin_site) lets a city administrator in only once this session has passed
`verify`; the first good code also confirms a new enrolment.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
import urllib.parse

from django.conf import settings
from django.db import transaction
from django.http import HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from hotline import access
from hotline.accounts import login as services
from hotline.errors import DomainError
from hotline.models import AdminSecondFactor, Role, User
from hotline.web import outage

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # accept the previous and the next code too (clocks drift)
SESSION_KEY = "admin_second_factor"
ISSUER = "12345 接诉即办"


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def code_at(secret: str, step: int) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def current_step(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // STEP_SECONDS)


def provisioning_uri(factor: AdminSecondFactor) -> str:
    label = urllib.parse.quote(f"{ISSUER}:{factor.user.get_username()}")
    query = urllib.parse.urlencode(
        {"secret": factor.secret, "issuer": ISSUER, "digits": DIGITS, "period": STEP_SECONDS}
    )
    return f"otpauth://totp/{label}?{query}"


def factor_for(user: User) -> AdminSecondFactor:
    """The user's second factor, created (unconfirmed, with a fresh secret) on first use."""
    factor, _created = AdminSecondFactor.objects.get_or_create(user=user, defaults={"secret": new_secret()})
    return factor


def verify(*, user: User, code: str, ip_address: str | None = None, now: float | None = None) -> bool:
    """Check a six-digit code; a good one is used up (its step and all before it) and confirms the
    enrolment. Every wrong code counts (hotline.accounts.login.second_factor_is_throttled); one that
    is not six ASCII digits ("²²²²²²", "１２３４５６") is wrong too, and says so (DomainError
    `invalid_code`)."""
    throttle_key = f"2fa:{user.get_username()}"
    if services.second_factor_is_throttled(username=throttle_key, ip_address=ip_address):
        raise DomainError(
            _("验证码错误次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            code="throttled",
        )
    code = "".join((code or "").split()).replace("-", "")  # "123 456" as some apps show it
    if not (len(code) == DIGITS and code.isascii() and code.isdigit()):
        services.login_failure_record(username=throttle_key, ip_address=ip_address)
        raise DomainError(_("验证码是 6 位数字（0–9），请输入验证器应用中当前显示的数字。"), code="invalid_code")
    step = current_step(now)
    with transaction.atomic():
        factor = AdminSecondFactor.objects.select_for_update().filter(user=user).first()
        matched = None
        if factor is not None:
            for candidate in range(step - DRIFT_STEPS, step + DRIFT_STEPS + 1):
                if candidate > factor.last_step and hmac.compare_digest(code_at(factor.secret, candidate), code):
                    matched = candidate
                    break
        if matched is None:
            services.login_failure_record(username=throttle_key, ip_address=ip_address)
            return False
        factor.last_step = matched
        fields = ["last_step"]
        if factor.confirmed_at is None:
            factor.confirmed_at = timezone.now()
            fields.append("confirmed_at")
        factor.save(update_fields=fields)
    services.login_failures_clear(username=throttle_key, ip_address=ip_address)
    return True


def required() -> bool:
    return settings.ADMIN_2FA_REQUIRED


def passed(request) -> bool:
    """Has this session passed the second factor (for the user now logged in)?"""
    return not required() or request.session.get(SESSION_KEY) == request.user.pk


def needed_for(user) -> bool:
    """City administrators see and rule on the whole city's data, phones included: once one has
    enrolled an authenticator (the admin enrols it on first entry), every session of theirs passes the
    second factor before using any page of the app, not only the admin. Other roles, and a city
    account not yet enrolled, log in with the password alone."""
    return (
        required()
        and access.role_of(user) == Role.CITY
        and AdminSecondFactor.objects.filter(user=user, confirmed_at__isnull=False).exists()
    )


# Paths a session that still owes the second factor may use: the step itself (under /admin/),
# logging in and out, the language switch, static files, health.
# The live stream (/live/) is open too: it carries no data, only "something changed" for topics
# chosen from the session, and every page it makes re-read is gated here. Checking it here would
# load the user from the database in the stream's thread and hold that connection for as long as the
# stream is open (1,500 open browsers took every connection of the server).
_OPEN_PREFIXES = ("/admin/", "/login/", "/logout/", "/i18n/", "/static/", "/healthz", "/live/")


class SecondFactorMiddleware:
    """Sends a city administrator's session that has not passed the second factor to the code step
    (pages) or answers 403 (the API over a session cookie; token requests carry no session)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(_OPEN_PREFIXES):  # before the (lazy) user is looked up
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and request.session.get(SESSION_KEY) != user.pk
            and needed_for(user)
        ):
            if outage.wants_json(request):
                return JsonResponse(
                    {"detail": _("请先完成二次验证（验证器应用中的 6 位数字）。"), "code": "second_factor_required"},
                    status=403,
                    json_dumps_params={"ensure_ascii": False},
                )
            target = reverse("admin:second_factor")
            return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
