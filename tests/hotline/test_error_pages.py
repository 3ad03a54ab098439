"""404, 403, 405, 500 and a refused CSRF check answer with the application's own pages: translated,
with a way back, no developer wording; JSON under /api/ and /open311/."""

import pytest
from django.test import Client
from django.utils import translation

from tests.factories import UserFactory, unit

pytestmark = pytest.mark.django_db

DEVELOPER_WORDING = ("DEBUG", "Traceback", "CSRF verification failed", "Forbidden (403)")


@pytest.fixture
def street(reference_data):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role="street", unit=unit("110106003")))
    return client


def english(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def page_text(response) -> str:
    text = response.content.decode()
    assert not any(word in text for word in DEVELOPER_WORDING), text
    assert 'data-testid="error-home"' in text
    return text


def test_it_answers_404_with_its_own_page_in_chinese(street):
    response = street.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in page_text(response)


def test_it_answers_404_in_english_for_an_english_user(street):
    response = english(street).get("/no-such-page/")
    assert response.status_code == 404
    text = page_text(response)
    assert "Page not found" in text and "页面不存在" not in text


def test_it_answers_404_as_json_under_the_api_and_open311(street):
    for path in ("/api/v1/no-such-thing/", "/open311/v2/no-such-thing.json"):
        response = street.get(path)
        assert response.status_code == 404 and response["Content-Type"].startswith("application/json"), path
        assert response.json()["code"] == "not_found"


def test_it_explains_an_action_url_opened_by_get_with_a_link_to_the_order(street):
    response = street.get("/orders/12345/sign/")
    assert response.status_code == 405 and "POST" in response["Allow"]
    text = page_text(response)
    assert "请在页面上操作" in text and 'href="/orders/12345/"' in text and "返回工单页面" in text


def test_it_explains_an_action_url_in_english(street):
    response = english(street).get("/orders/12345/sign/")
    assert response.status_code == 405
    text = page_text(response)
    assert "Back to the order" in text and "请在页面上操作" not in text


def test_a_refused_csrf_check_answers_with_its_own_page(reference_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role="street", unit=unit("110106003")))
    response = client.post("/orders/12345/sign/", {})
    assert response.status_code == 403
    text = page_text(response)
    assert "页面已过期" in text and 'href="/orders/12345/"' in text


def test_a_refused_csrf_check_under_the_api_is_json(reference_data):
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(role="agent", unit=unit("11-center")))
    response = client.post("/api/v1/calls/", {}, content_type="application/json")
    assert response.status_code == 403 and response["Content-Type"].startswith("application/json")


def test_a_permission_denied_answers_with_its_own_page(street):
    # the admin index is for city administrators: others get 403 through PermissionDenied here
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory

    from hotline.web import errors

    request = RequestFactory().get("/somewhere/")
    request.user = UserFactory(role="street", unit=unit("110106003"))
    response = errors.permission_denied(request, PermissionDenied())
    assert response.status_code == 403 and "没有权限" in page_text(response)


def test_a_bug_answers_500_with_its_own_page(street, settings):
    settings.ROOT_URLCONF = "tests.hotline.error_urls"
    response = street.get("/boom/")
    assert response.status_code == 500
    text = page_text(response)
    assert "出错了" in text and 'href="/"' in text


def test_a_bug_answers_500_in_english(street, settings):
    settings.ROOT_URLCONF = "tests.hotline.error_urls"
    response = english(street).get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong" in page_text(response)


def test_a_bug_under_the_api_answers_500_as_json(street, settings):
    settings.ROOT_URLCONF = "tests.hotline.error_urls"
    response = street.get("/api/v1/boom/")
    assert response.status_code == 500 and response.json()["code"] == "server_error"


@pytest.fixture(autouse=True)
def _chinese_afterwards():
    yield
    translation.activate("zh-hans")
