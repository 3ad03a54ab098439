"""Failed logins lock a (user, address) pair and slow a user name down; they never lock a named
official out of an address the attacker does not control. The second-factor step counts every
wrong code, including ones that are not six ASCII digits, and never answers 500."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from hotline.accounts import twofactor
from hotline.models import AdminSecondFactor, LoginFailure
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ATTACKERS = [f"203.0.113.{n}" for n in range(1, 11)]
OFFICE = "198.51.100.7"


def _login(client, username, password, address):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def _spread_attack(username):
    for address in ATTACKERS:
        for _ in range(5):
            LoginFailure.objects.create(username=username, ip_address=address)


def test_ten_addresses_cannot_lock_an_official_out_of_their_own(client, city_admin):
    # given: five wrong passwords from each of ten addresses
    _spread_attack(city_admin.username)
    # when: the official, from the office, with the right password
    response = _login(client, city_admin.username, PASSWORD, OFFICE)
    # then: in
    assert response.status_code == 302 and _logged_in(client)


def test_each_attacking_address_stays_locked_for_that_user(client, city_admin):
    _spread_attack(city_admin.username)
    response = _login(client, city_admin.username, PASSWORD, ATTACKERS[0])
    assert "登录失败次数过多" in response.content.decode() and not _logged_in(client)


def test_under_a_spread_attack_a_new_address_gets_one_guess_not_five(client, city_admin):
    _spread_attack(city_admin.username)
    newcomer = "192.0.2.50"
    # the first wrong password is checked and counted
    _login(client, city_admin.username, "wrong", newcomer)
    assert LoginFailure.objects.filter(ip_address=newcomer).count() == 1
    # the next try from there waits out the window, even with the right password, and is not counted
    response = _login(client, city_admin.username, PASSWORD, newcomer)
    assert "登录失败次数过多" in response.content.decode() and not _logged_in(client)
    assert LoginFailure.objects.filter(ip_address=newcomer).count() == 1


def test_without_an_attack_an_address_keeps_its_five_tries(client, agent):
    for _ in range(4):
        _login(client, agent.username, "wrong", OFFICE)
    assert _login(client, agent.username, PASSWORD, OFFICE).status_code == 302


# --- the second factor ------------------------------------------------------------------------------
@pytest.fixture
def enrolled(client, city_admin):
    factor = AdminSecondFactor.objects.create(
        user=city_admin, secret=twofactor.new_secret(), confirmed_at=timezone.now()
    )
    client.force_login(city_admin)
    return factor


def _code(client, code, address="192.0.2.1"):
    return client.post("/admin/2fa/", {"code": code, "next": "/orders/"}, REMOTE_ADDR=address)


def _code_failures(user) -> int:
    return LoginFailure.objects.filter(username=f"2fa:{user.username}").count()


@pytest.mark.parametrize("code", ["²²²²²²", "１２３４５６", "١٢٣٤٥٦", "12345a", "1234567890123"])
def test_a_code_that_is_not_six_digits_is_a_counted_wrong_code(client, enrolled, city_admin, code):
    response = _code(client, code)
    assert response.status_code == 200
    assert "验证码是 6 位数字" in response.content.decode()
    assert _code_failures(city_admin) == 1
    assert twofactor.SESSION_KEY not in client.session


def test_the_token_endpoint_counts_a_unicode_digit_code(enrolled, city_admin):
    response = Client().post(
        "/api/v1/auth/token/",
        {"username": city_admin.username, "password": PASSWORD, "otp": "²²²²²²"},
        content_type="application/json",
    )
    assert response.status_code == 400 and response.json()["code"] == "invalid_code"
    assert _code_failures(city_admin) == 1


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_wrong_codes_from_many_addresses_lock_the_code_step(client, enrolled, city_admin):
    # given: six wrong codes, each from another address (2 × the limit)
    for n in range(6):
        _code(client, "000000", address=f"192.0.2.{n + 1}")
    # when: the right code, from yet another address
    right = twofactor.code_at(enrolled.secret, twofactor.current_step())
    response = _code(client, right, address="192.0.2.99")
    # then: refused, the session not elevated
    assert "验证码错误次数过多" in response.content.decode()
    assert twofactor.SESSION_KEY not in client.session


def test_a_spaced_code_is_accepted(client, enrolled):
    right = twofactor.code_at(enrolled.secret, twofactor.current_step())
    response = _code(client, f"{right[:3]} {right[3:]}")
    assert response.status_code == 302 and response.url == "/orders/"
