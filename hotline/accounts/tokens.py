"""Personal API tokens: one per user (`Authorization: Token <key>`), created and revoked by the user
on the account page (/account/token/) or with user name + password at POST /api/v1/auth/token/.

The key is shown once, when it is made: only its SHA-256 digest is stored (DRF's Token row holds the
digest in its `key` column), so neither the database nor the admin can show it again, and the
admin can revoke a key but not mint one for someone else (hotline.accounts.token_admin). Making a
new one replaces the old one; revoking deletes it (requests with it then get 401). The token endpoint goes
through the one login throttle (hotline.accounts.login), and a city administrator with an enrolled
authenticator must add the current code (`otp`), as for any of their sessions.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from hotline.accounts import twofactor
from hotline.accounts.api_auth import token_digest
from hotline.accounts.login import (
    client_ip,
    login_failure_record,
    login_failures_clear,
    login_is_throttled,
    throttled_message,
)
from hotline.errors import DomainError
from hotline.models import User


def token_create(*, user: User) -> str:
    """A new key for the user (the old one, if any, stops working). Returns the key: show it once."""
    key = secrets.token_hex(20)
    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        Token.objects.create(user=user, key=token_digest(key))
    return key


def token_revoke(*, user: User) -> bool:
    return Token.objects.filter(user=user).delete()[0] > 0


def token_of(user: User):
    return Token.objects.filter(user=user).only("created").first()


# --- the account page ---------------------------------------------------------------------------
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def token_page(request):
    new_key = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_key = token_create(user=request.user)
            messages.success(request, _("已生成新的 API 令牌。它只显示这一次，请立即复制保存；旧令牌已失效。"))
        elif action == "revoke":
            if token_revoke(user=request.user):
                messages.success(request, _("API 令牌已撤销，使用它的请求将被拒绝。"))
            return redirect("account-token")
        else:
            messages.error(request, _("未知的操作。"))
            return redirect("account-token")
    return render(request, "hotline/account_token.html", {"token": token_of(request.user), "new_key": new_key})


# --- the API endpoint ---------------------------------------------------------------------------
class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=12, required=False, help_text="city administrators with an authenticator: the current 6-digit code"
    )


@extend_schema(
    operation_id="auth_token_create",
    summary="Obtain a personal API token",
    description=(
        "Exchange user name and password for the user's API token (a new one replaces the old). Use it as "
        "`Authorization: Token <key>`. Failed attempts share the login throttle: too many answer 429. "
        "City administrators with an enrolled authenticator also send `otp`. Revoke with DELETE (authenticated)."
    ),
    request=TokenRequestSerializer,
    responses={
        201: inline_serializer("AuthToken", {"token": serializers.CharField()}),
        400: OpenApiResponse(description="invalid credentials or input"),
        429: OpenApiResponse(description="too many failed attempts"),
    },
    auth=[],
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])  # the login throttle applies instead (per user name and address)
def token_obtain(request):
    serializer = TokenRequestSerializer(data=request.data if isinstance(request.data, dict) else {})
    serializer.is_valid(raise_exception=True)
    username, password = serializer.validated_data["username"], serializer.validated_data["password"]
    ip = client_ip(request)
    if login_is_throttled(username=username, ip_address=ip):
        minutes = settings.LOGIN_FAILURE_WINDOW_MINUTES
        return Response(
            {
                "detail": throttled_message(),
                "code": "throttled",
            },
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(minutes * 60)},
        )
    user = authenticate(request._request, username=username, password=password)
    if user is None or not user.is_active:
        login_failure_record(username=username, ip_address=ip)
        return Response(
            {"detail": gettext("用户名或密码不正确。"), "code": "invalid_login"}, status=status.HTTP_400_BAD_REQUEST
        )
    if twofactor.needed_for(user):
        otp = serializer.validated_data.get("otp", "")
        try:
            # no code is no guess: the first try of a client that did not know it needs one
            ok = bool(otp) and twofactor.verify(user=user, code=otp, ip_address=ip)
        except DomainError as exc:
            throttled = exc.code == "throttled"
            return Response(
                {"detail": str(exc.message), "code": exc.code},
                status=status.HTTP_429_TOO_MANY_REQUESTS if throttled else status.HTTP_400_BAD_REQUEST,
            )
        if not ok:
            return Response(
                {"detail": gettext("请提供验证器应用中当前的 6 位验证码（otp）。"), "code": "otp_required"},
                status=status.HTTP_400_BAD_REQUEST,
            )
    login_failures_clear(username=username, ip_address=ip)
    return Response({"token": token_create(user=user)}, status=status.HTTP_201_CREATED)


@extend_schema(
    operation_id="auth_token_revoke",
    summary="Revoke the caller's API token",
    request=None,
    responses={204: OpenApiResponse(description="revoked (or there was none)")},
)
@api_view(["DELETE"])
def token_revoke_api(request):
    token_revoke(user=request.user)
    return Response(status=status.HTTP_204_NO_CONTENT)
