"""One throttle for every login (/login/, /admin/login/, the second-factor step, API token
issuance), keyed per user name and real client address; the city's second factor for the whole app."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from hotline.accounts import twofactor
from hotline.accounts.api_auth import token_digest
from hotline.accounts.login import client_ip
from hotline.models import AdminSecondFactor, LoginFailure
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
PROXY = "10.0.0.5"


def _app_login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def _admin_login(client, username, password, **extra):
    return client.post("/admin/login/", {"username": username, "password": password, "next": "/admin/"}, **extra)


def _token(client, username, password, **extra):
    return client.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, content_type="application/json", **extra
    )


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3)
@pytest.mark.parametrize("attempt", [_admin_login, _token, _app_login])
def test_failures_anywhere_lock_every_way_in_for_that_user_and_address(client, city_admin, attempt):
    # given: wrong passwords, one through each door
    _admin_login(client, city_admin.username, "wrong")
    _token(client, city_admin.username, "wrong")
    _app_login(client, city_admin.username, "wrong")
    assert LoginFailure.objects.filter(username=city_admin.username).count() == 3
    # when: the right password, through any door
    response = attempt(client, city_admin.username, PASSWORD)
    # then: refused; no session, no token
    assert not _logged_in(client)
    assert not Token.objects.exists()
    if attempt is _token:
        assert response.status_code == 429 and int(response["Retry-After"]) > 0
    else:
        assert "登录失败次数过多" in response.content.decode()


@override_settings(LOGIN_FAILURE_LIMIT=3, TRUSTED_PROXIES=[PROXY])
def test_a_flood_from_one_address_behind_the_proxy_does_not_lock_out_others(client, city_admin):
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    for _ in range(30):
        _admin_login(client, city_admin.username, "wrong", **attacker)
    # the attacker is stopped (the pair after 3, the address after 12: no more rows after that)
    assert LoginFailure.objects.filter(ip_address="203.0.113.9").count() == 3
    assert not _logged_in(client)
    assert "登录失败次数过多" in _app_login(client, city_admin.username, PASSWORD, **attacker).content.decode()
    # the real administrator, from another address behind the same proxy, gets in
    response = _app_login(client, city_admin.username, PASSWORD, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 302 and _logged_in(client)


@override_settings(LOGIN_FAILURE_LIMIT=2)
def test_many_user_names_from_one_address_lock_that_address(client, agent):
    for n in range(8):
        _app_login(client, f"nobody{n}", "x")
    assert "登录失败次数过多" in _app_login(client, agent.username, PASSWORD).content.decode()


def test_the_client_address_comes_from_a_trusted_proxy_only(rf, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    spoof = "1.1.1.1, 203.0.113.9"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=spoof)) == "203.0.113.9"
    # two proxies: the right-most untrusted entry
    two = "1.1.1.1, 203.0.113.9, 10.0.0.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=two)) == "203.0.113.9"
    # a header sent straight to us (not from a proxy) is ignored
    assert client_ip(rf.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=spoof)) == "198.51.100.1"
    # garbage in the header stops at the last trusted hop
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="junk")) == "10.0.0.5"
    settings.TRUSTED_PROXIES = []
    assert client_ip(rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=spoof)) == "10.0.0.5"


def _enrol(user):
    return AdminSecondFactor.objects.create(user=user, secret=twofactor.new_secret(), confirmed_at=timezone.now())


def test_an_enrolled_city_administrator_passes_the_second_factor_before_any_page(client, city_admin):
    factor = _enrol(city_admin)
    assert _app_login(client, city_admin.username, PASSWORD).status_code == 302
    # every page sends to the code step, the API over the session answers 403
    response = client.get("/orders/")
    assert response.status_code == 302 and response.url.startswith("/admin/2fa/")
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"
    # the code opens the app for this session
    code = twofactor.code_at(factor.secret, twofactor.current_step())
    assert client.post("/admin/2fa/", {"code": code, "next": "/orders/"}).url == "/orders/"
    assert client.get("/orders/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_a_city_administrator_not_yet_enrolled_and_other_roles_are_not_asked(client, city_admin, agent):
    client.force_login(city_admin)
    assert client.get("/orders/").status_code == 200
    client.force_login(agent)
    _enrol(agent)  # a device on a non-city account changes nothing for the app
    assert client.get("/orders/").status_code == 200


def test_the_token_endpoint_asks_an_enrolled_city_administrator_for_the_code(client, city_admin):
    factor = _enrol(city_admin)
    response = _token(client, city_admin.username, PASSWORD)
    assert response.status_code == 400 and response.json()["code"] == "otp_required" and not Token.objects.exists()
    code = twofactor.code_at(factor.secret, twofactor.current_step())
    response = client.post(
        "/api/v1/auth/token/",
        {"username": city_admin.username, "password": PASSWORD, "otp": code},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert Token.objects.get(user=city_admin).key == token_digest(response.json()["token"])


def test_a_user_creates_sees_once_and_revokes_a_token(client, agent):
    client.force_login(agent)
    assert "还没有" in client.get("/account/token/").content.decode()
    page = client.post("/account/token/", {"action": "create"}).content.decode()
    key = page.split('data-testid="new-token">')[1].split("<")[0]
    assert Token.objects.get(user=agent).key == token_digest(key)
    again = client.get("/account/token/").content.decode()
    assert key not in again and "已有令牌" in again  # shown once; only its digest is kept
    # it works, then it is revoked
    client.logout()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    client.force_login(agent)
    client.post("/account/token/", {"action": "revoke"})
    client.logout()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code in (401, 403)
    assert not Token.objects.exists()


def test_the_token_endpoint_issues_and_the_api_revokes(client, agent):
    response = _token(client, agent.username, PASSWORD)
    assert response.status_code == 201
    key = response.json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert client.get("/api/v1/me/", **auth).json()["username"] == agent.username
    assert client.delete("/api/v1/me/token/", **auth).status_code == 204
    assert client.get("/api/v1/me/", **auth).status_code in (401, 403)
    assert _token(client, agent.username, ["x"]).status_code == 400  # a list is not a password


def test_the_api_answers_429_with_retry_after_over_the_user_rate(client, agent):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    old = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {**old, "user": "3/min"}
    cache.clear()
    try:
        client.force_login(agent)
        codes = [client.get("/api/v1/me/").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert int(client.get("/api/v1/me/")["Retry-After"]) > 0
    finally:
        SimpleRateThrottle.THROTTLE_RATES = old
        cache.clear()
