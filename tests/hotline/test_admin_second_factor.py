import pytest
from django.urls import reverse

from hotline.accounts import twofactor
from hotline.models import AdminSecondFactor, LoginFailure

pytestmark = pytest.mark.django_db

SECOND_FACTOR = "/admin/2fa/"


def test_codes_match_the_rfc_6238_reference_values():
    # RFC 6238 appendix B, SHA-1, secret "12345678901234567890", last six digits
    import base64

    secret = base64.b32encode(b"12345678901234567890").decode()
    assert twofactor.code_at(secret, 59 // 30) == "287082"
    assert twofactor.code_at(secret, 1111111109 // 30) == "081804"
    assert twofactor.code_at(secret, 2000000000 // 30) == "279037"


def test_a_logged_in_city_administrator_must_pass_the_second_factor_first(client, city_admin):
    client.force_login(city_admin)
    resp = client.get(reverse("admin:hotline_dispatchrule_changelist"))
    assert resp.status_code == 302
    resp = client.get(resp.url)  # the admin login page sends a logged-in administrator on
    assert resp.status_code == 302 and resp.url.startswith(SECOND_FACTOR)
    page = client.get(resp.url).content.decode()
    factor = AdminSecondFactor.objects.get(user=city_admin)
    assert factor.confirmed_at is None  # enrolment: the secret is shown once, grouped
    assert factor.secret[:4] in page and "otpauth://totp/" in page


def test_the_first_good_code_enrols_and_opens_the_admin_for_this_session(client, city_admin):
    client.force_login(city_admin)
    client.get(SECOND_FACTOR)
    factor = AdminSecondFactor.objects.get(user=city_admin)
    step = twofactor.current_step()
    code = twofactor.code_at(factor.secret, step)
    target = reverse("admin:hotline_dispatchrule_changelist")
    resp = client.post(SECOND_FACTOR, {"code": code, "next": target})
    assert resp.status_code == 302 and resp.url == target
    assert client.get(target).status_code == 200
    factor.refresh_from_db()
    assert factor.confirmed_at is not None and factor.last_step == step  # the code's own step, used up
    # a new login (a new session) asks again
    client.logout()
    client.force_login(city_admin)
    assert client.get(target).status_code == 302


def test_a_wrong_or_replayed_code_is_refused_and_changes_nothing(client, city_admin):
    client.force_login(city_admin)
    client.get(SECOND_FACTOR)
    factor = AdminSecondFactor.objects.get(user=city_admin)
    good = twofactor.code_at(factor.secret, twofactor.current_step())
    wrong = f"{(int(good) + 1) % 1_000_000:06d}"
    page = client.post(SECOND_FACTOR, {"code": wrong}).content.decode()
    assert "验证码不正确" in page
    factor.refresh_from_db()
    assert factor.confirmed_at is None and factor.last_step == 0
    assert client.get(reverse("admin:index")).status_code == 302
    # a code already used cannot open a second session
    assert twofactor.verify(user=city_admin, code=good)
    other = client.__class__()
    other.force_login(city_admin)
    assert "验证码不正确" in other.post(SECOND_FACTOR, {"code": good}).content.decode()
    assert other.get(reverse("admin:index")).status_code == 302


def test_repeated_wrong_codes_are_throttled_like_logins(client, city_admin, settings):
    client.force_login(city_admin)
    client.get(SECOND_FACTOR)
    factor = AdminSecondFactor.objects.get(user=city_admin)
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post(SECOND_FACTOR, {"code": "000000" if factor.secret else ""})
    good = twofactor.code_at(factor.secret, twofactor.current_step())
    page = client.post(SECOND_FACTOR, {"code": good}).content.decode()
    assert "次数过多" in page
    assert client.get(reverse("admin:index")).status_code == 302
    assert LoginFailure.objects.filter(username=f"2fa:{city_admin.username}").count() >= settings.LOGIN_FAILURE_LIMIT


@pytest.mark.parametrize("who", ["agent", "xiluoyuan_handler", "fengtai_manager"])
def test_other_roles_get_no_second_factor_page_and_no_enrolment(request, client, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    resp = client.get(SECOND_FACTOR)
    assert resp.status_code == 302 and "login" in resp.url
    assert not AdminSecondFactor.objects.filter(user=user).exists()


def test_next_must_stay_on_this_site(client, city_admin):
    client.force_login(city_admin)
    client.get(SECOND_FACTOR)
    factor = AdminSecondFactor.objects.get(user=city_admin)
    code = twofactor.code_at(factor.secret, twofactor.current_step())
    resp = client.post(SECOND_FACTOR, {"code": code, "next": "https://evil.example/"})
    assert resp.status_code == 302 and resp.url == reverse("admin:index")


def test_it_can_be_switched_off_by_configuration(client, city_admin, settings):
    settings.ADMIN_2FA_REQUIRED = False
    client.force_login(city_admin)
    assert client.get(reverse("admin:index")).status_code == 200


def test_the_code_page_shows_nothing_of_the_admin(client, city_admin):
    client.force_login(city_admin)
    page = client.get(SECOND_FACTOR).content.decode()
    assert "/admin/hotline/call/" not in page and "/admin/hotline/dispatchrule/" not in page


def test_the_totp_helper_prints_only_the_current_code(db, city_admin):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from hotline.accounts import twofactor

    factor = twofactor.factor_for(city_admin)
    out = StringIO()
    call_command("totp_code", city_admin.username, stdout=out)
    printed = out.getvalue()
    assert printed.strip() == twofactor.code_at(factor.secret, twofactor.current_step()) or printed.strip() == (
        twofactor.code_at(factor.secret, twofactor.current_step() - 1)  # the step turned meanwhile
    )
    assert printed.strip().isascii() and len(printed.strip()) == 6 and printed.count("\n") == 1
    with pytest.raises(CommandError):
        call_command("totp_code", "nobody-enrolled", stdout=StringIO())


def test_the_live_stream_path_never_looks_the_user_up(rf):
    # A live stream stays open for hours; looking the user up here would hold a database connection
    # per open browser for as long (the stream checks its session itself, in its own short thread).
    from django.http import HttpResponse
    from django.utils.functional import SimpleLazyObject

    def user_lookup():
        raise AssertionError("the second-factor check loaded the user for /live/")

    middleware = twofactor.SecondFactorMiddleware(lambda request: HttpResponse("ok"))
    request = rf.get("/live/stream")
    request.user = SimpleLazyObject(user_lookup)
    assert middleware(request).status_code == 200
    # any other page still checks (and so looks the user up)
    other = rf.get("/orders/")
    other.user = SimpleLazyObject(user_lookup)
    with pytest.raises(AssertionError):
        middleware(other)
