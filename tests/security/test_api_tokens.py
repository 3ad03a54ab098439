"""Personal API tokens are stored as digests: shown once to their owner, never readable again, and the
admin may revoke one but not make one for someone else. Open311 keys: the same (hashed, prefix only)."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from rest_framework.authtoken.models import Token

from hotline.accounts.tokens import token_create
from hotline.models import ApiClient
from tests.factories import login_to_admin

pytestmark = pytest.mark.django_db


def _me(client, key):
    return client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def _everything_stored(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")
        return repr(cursor.fetchall())


def test_it_stores_only_a_digest_of_the_key(client, agent):
    key = token_create(user=agent)
    assert key not in _everything_stored(Token._meta.db_table)
    assert _me(client, key).json()["username"] == agent.username


def test_the_account_page_shows_the_key_once_and_never_again(client, agent):
    client.force_login(agent)
    created = client.post("/account/token/", {"action": "create"}).content.decode()
    key = created.split('data-testid="new-token">')[1].split("<")[0]
    later = client.get("/account/token/").content.decode()
    assert key not in later and key[:6] not in later and "已有令牌" in later
    client.logout()
    assert _me(client, key).status_code == 200


def test_the_admin_lists_who_has_a_token_but_not_the_keys(client, city_admin, agent):
    key = token_create(user=agent)
    digest = Token.objects.get(user=agent).key
    login_to_admin(client, city_admin)
    listing = client.get(reverse("admin:authtoken_tokenproxy_changelist")).content.decode()
    assert agent.username in listing
    assert key not in listing and digest not in listing
    detail = client.get(reverse("admin:authtoken_tokenproxy_change", args=[agent.pk])).content.decode()
    assert agent.username in detail and key not in detail  # (the digest opens nothing)


def test_the_admin_cannot_make_a_token_for_someone_else(client, city_admin, agent):
    login_to_admin(client, city_admin)
    assert client.get(reverse("admin:authtoken_tokenproxy_add")).status_code == 403
    response = client.post(reverse("admin:authtoken_tokenproxy_add"), {"user": agent.pk})
    # then: refused, and no key exists for the agent
    assert response.status_code == 403
    assert not Token.objects.filter(user=agent).exists()


def test_the_admin_revokes_a_token(client, city_admin, agent):
    key = token_create(user=agent)
    login_to_admin(client, city_admin)
    response = client.post(reverse("admin:authtoken_tokenproxy_delete", args=[agent.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not Token.objects.filter(user=agent).exists()
    client.logout()
    assert _me(client, key).status_code in (401, 403)


def test_a_key_made_before_hashing_keeps_working_after_the_migration(client, agent):
    # given: a key stored in clear, as DRF stored it before
    old_key = Token.objects.create(user=agent).key
    # when
    importlib.import_module("hotline.migrations.0014_hash_api_tokens").hash_keys(apps, None)
    # then: the same key still authenticates; the row no longer holds it
    assert old_key not in _everything_stored(Token._meta.db_table)
    assert _me(client, old_key).json()["username"] == agent.username


def test_a_wrong_or_absurdly_long_key_is_refused(client, agent):
    token_create(user=agent)
    assert _me(client, "0" * 40).status_code in (401, 403)
    assert _me(client, "a" * 5000).status_code in (401, 403)


def test_open311_keys_are_hashed_and_shown_once_in_the_admin(client, city_admin, agent):
    login_to_admin(client, city_admin)
    form = {"name": "街道 App", "acting_user": agent.pk, "is_active": "on"}
    response = client.post(reverse("admin:hotline_apiclient_add"), form, follow=True)
    key = next(str(m) for m in response.context["messages"]).rsplit("：", 1)[1]
    client_row = ApiClient.objects.get(name="街道 App")
    assert key not in _everything_stored(ApiClient._meta.db_table)
    page = client.get(reverse("admin:hotline_apiclient_change", args=[client_row.pk])).content.decode()
    assert key not in page and client_row.key_prefix in page
