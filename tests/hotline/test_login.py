import pytest
from django.test import override_settings
from django.urls import reverse

from hotline.models import LoginFailure
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_it_logs_in_and_lands_on_the_home_page(client, agent):
    resp = _login(client, agent.username, PASSWORD)
    assert resp.status_code == 302 and resp.url == reverse("home")


def test_a_wrong_password_is_refused_in_chinese(client, agent):
    resp = _login(client, agent.username, "wrong")
    assert resp.status_code == 200
    assert "请输入一个正确的" in resp.content.decode()  # Django's zh-hans message
    assert LoginFailure.objects.filter(username=agent.username).count() == 1


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_it_throttles_after_repeated_failures_even_with_the_right_password(client, agent):
    # given
    for _ in range(3):
        _login(client, agent.username, "wrong")
    # when
    resp = _login(client, agent.username, PASSWORD)
    # then
    assert resp.status_code == 200
    assert "登录失败次数过多" in resp.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_throttling_one_user_does_not_lock_out_another(client, agent, city_admin):
    for _ in range(3):
        _login(client, agent.username, "wrong")
    assert _login(client, city_admin.username, PASSWORD).status_code == 302


def test_a_successful_login_forgives_earlier_failures(client, agent):
    _login(client, agent.username, "wrong")
    _login(client, agent.username, PASSWORD)
    assert not LoginFailure.objects.filter(username=agent.username).exists()


def test_logout_needs_post_and_ends_the_session(client, agent):
    client.force_login(agent)
    resp = client.post(reverse("logout"))
    assert resp.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_old_failed_logins_are_pruned_and_recent_ones_kept():
    from datetime import timedelta

    from django.utils import timezone

    from hotline.accounts.login import login_failures_prune

    # given
    old = LoginFailure.objects.create(username="a", ip_address="10.0.0.1")
    LoginFailure.objects.filter(pk=old.pk).update(at=timezone.now() - timedelta(days=8))
    recent = LoginFailure.objects.create(username="b", ip_address="10.0.0.1")
    # when
    deleted = login_failures_prune(older_than_days=7)
    # then
    assert deleted == 1
    assert list(LoginFailure.objects.values_list("pk", flat=True)) == [recent.pk]
    assert login_failures_prune(older_than_days=7) == 0
