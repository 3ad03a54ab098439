import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_are_in_chinese_by_default(client):
    body = client.get(reverse("login")).content.decode()
    assert 'lang="zh-hans"' in body
    assert "用户名" in body and "登录" in body


def test_the_language_switch_turns_the_pages_english(client, agent):
    client.force_login(agent)
    resp = client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    assert resp.status_code == 302
    body = client.get(reverse("home")).content.decode()
    assert 'lang="en"' in body
    assert "Agent workspace" in body and "话务工作台" not in body


def test_english_error_messages_are_translated_too(client):
    client.cookies["django_language"] = "en"
    body = client.get(reverse("login")).content.decode()
    assert "Username" in body and "用户名" not in body
