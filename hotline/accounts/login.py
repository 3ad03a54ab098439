"""Logging in, and the one throttle every way of logging in shares.

`/login/`, `/admin/login/`, the admin's second-factor step and API token issuance all ask
`login_is_throttled` before checking a credential and call `login_failure_record` when it is wrong.
Failures are rows (LoginFailure), counted over LOGIN_FAILURE_WINDOW_MINUTES:

- one user name from one address: LOGIN_FAILURE_LIMIT failures lock that pair;
- one address, whatever the names: 4 × the limit lock the address;
- one user name from everywhere: beyond 10 × the limit (a spread-out guessing attack) the name is
  slowed down, never locked: each address that has already failed for it waits out the window, so
  every attacking address gets one guess instead of the limit, while an address that has not
  failed for the name — the official at their own desk — still logs in with the right password.

Nothing an attacker sends from addresses of their own locks a named official out of theirs. The
second-factor step (hotline.accounts.twofactor) is stricter: only someone who already has the
password reaches it, so its wrong codes also count per user from everywhere
(`second_factor_is_throttled`: 2 × the limit lock the step).

The address is the real client's (`client_ip`): behind a proxy listed in TRUSTED_PROXIES, the
right-most X-Forwarded-For entry that is not itself a trusted proxy; a header sent straight to us is
ignored.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from functools import cache

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hotline.models import LoginFailure

ADDRESS_FACTOR = 4
USER_FACTOR = 10
SECOND_FACTOR_FACTOR = 2


# --- the real client address --------------------------------------------------------------------
@cache
def _trusted_networks(spec: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(item, strict=False) for item in spec)


def _parse_ip(value: str):
    value = (value or "").strip()
    if value.startswith("[") and "]" in value:  # [::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 1.2.3.4:5678
        value = value.split(":", 1)[0]
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def _is_trusted(addr, networks) -> bool:
    return any(addr in net for net in networks)


def client_ip(request) -> str | None:
    """The client's address. REMOTE_ADDR, unless it is a trusted proxy (settings.TRUSTED_PROXIES,
    addresses or networks): then X-Forwarded-For read from the right, skipping trusted proxies; the
    first other entry is the client (entries left of it were written by the client and prove
    nothing). A malformed entry ends the walk at the last trusted hop."""
    remote = _parse_ip(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    networks = _trusted_networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _is_trusted(remote, networks):
        return str(remote)
    client = remote
    for entry in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        addr = _parse_ip(entry)
        if addr is None:
            break
        client = addr
        if not _is_trusted(addr, networks):
            break
    return str(client)


# --- the throttle -------------------------------------------------------------------------------
def _recent_failures():
    since = timezone.now() - timedelta(minutes=settings.LOGIN_FAILURE_WINDOW_MINUTES)
    return LoginFailure.objects.filter(at__gte=since)


def login_is_throttled(*, username: str, ip_address: str | None) -> bool:
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = _recent_failures()
    by_name = recent.filter(username__iexact=username)
    from_here = by_name.filter(ip_address=ip_address).count()
    if from_here >= limit:
        return True
    if ip_address and recent.filter(ip_address=ip_address).count() >= limit * ADDRESS_FACTOR:
        return True
    # the name is under attack from many addresses: slow those down, not the name
    return from_here > 0 and by_name.count() >= limit * USER_FACTOR


def second_factor_is_throttled(*, username: str, ip_address: str | None) -> bool:
    """The code step: the login rules, and SECOND_FACTOR_FACTOR × the limit wrong codes for the user
    from anywhere lock the step (a six-digit code must not be guessed from many addresses)."""
    if login_is_throttled(username=username, ip_address=ip_address):
        return True
    limit = settings.LOGIN_FAILURE_LIMIT * SECOND_FACTOR_FACTOR
    return _recent_failures().filter(username__iexact=username).count() >= limit


def login_failure_record(*, username: str, ip_address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], ip_address=ip_address)


def login_failures_clear(*, username: str, ip_address: str | None = None) -> None:
    """A successful login forgives that user's earlier failures from the same address (not other
    addresses' failures: a guesser elsewhere keeps his count)."""
    LoginFailure.objects.filter(username__iexact=username, ip_address=ip_address).delete()


def throttled_message() -> str:
    return gettext("登录失败次数过多，请 %(minutes)s 分钟后再试。") % {"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES}


def login_failures_prune(*, older_than_days: int = 7, batch: int = 5000) -> int:
    """Delete failed-login rows older than the given age, in batches. Safe to run twice."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted = 0
    while True:
        ids = list(LoginFailure.objects.filter(at__lt=cutoff).values_list("id", flat=True)[:batch])
        if not ids:
            return deleted
        deleted += LoginFailure.objects.filter(id__in=ids).delete()[0]


# --- the login forms: the app's and the admin's ------------------------------------------------
class ThrottleMixin:
    """For AuthenticationForm and its subclasses: refuse while throttled, count failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        ip = client_ip(self.request) if self.request else None
        if username and login_is_throttled(username=username, ip_address=ip):
            raise forms.ValidationError(
                _("登录失败次数过多，请 %(minutes)s 分钟后再试。"),
                code="throttled",
                params={"minutes": settings.LOGIN_FAILURE_WINDOW_MINUTES},
            )
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            # a wrong password counts; "this account may not use the admin" after a right one does not
            if username and self.get_user() is None:
                login_failure_record(username=username, ip_address=ip)
            raise
        login_failures_clear(username=username, ip_address=ip)
        return cleaned


class ThrottledLoginForm(ThrottleMixin, AuthenticationForm):
    pass


class ThrottledAdminLoginForm(ThrottleMixin, AdminAuthenticationForm):
    pass
