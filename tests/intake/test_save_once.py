"""Issue 21: a save that cannot misfire — one call per form however often it is sent, no silent
request type, a knowledge-base answer that saves the first time, a session that slides."""

import pytest
from django.test import Client

from hotline.intake.services import IntakeInvalid, call_intake
from hotline.models import Call, Category, KnowledgeArticle
from tests.intake.conftest import api_as as api
from tests.intake.conftest import intake_data
from tests.intake.conftest import page_as as page
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

KEY = "form-3f9a2c1d0b7e4a55"


def test_the_same_key_twice_over_the_api_makes_one_call_and_answers_the_first_result(agent):
    client = api(agent)
    first = client.post("/api/v1/intake/", intake_data(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    again = client.post("/api/v1/intake/", intake_data(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true" and not first.has_header("Idempotent-Replayed")
    assert Call.objects.count() == 1 and WorkOrder.objects.count() == 1


def test_the_key_may_travel_in_the_body_and_a_new_key_is_a_new_call(agent):
    client = api(agent)
    first = client.post("/api/v1/intake/", intake_data(idempotency_key=KEY), format="json").json()
    assert client.post("/api/v1/intake/", intake_data(idempotency_key=KEY), format="json").json() == first
    other = client.post("/api/v1/intake/", intake_data(idempotency_key=KEY + "x"), format="json").json()
    assert other["call_id"] != first["call_id"]
    assert Call.objects.count() == 2


def test_a_duplicate_link_sent_twice_counts_once(agent):
    order = call_intake(acting_user=agent, data=intake_data()).order
    data = intake_data(action="duplicate", duplicate_of=order.number, idempotency_key=KEY)
    first = api(agent).post("/api/v1/intake/", data, format="json").json()
    again = api(agent).post("/api/v1/intake/", data, format="json").json()
    assert again == first and first["order"]["number"] == order.number
    assert WorkOrder.objects.get(pk=order.pk).duplicate_count == 1


def test_keys_are_per_agent(agent, city_admin):
    api(agent).post("/api/v1/intake/", intake_data(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    api(city_admin).post("/api/v1/intake/", intake_data(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert Call.objects.count() == 2


@pytest.mark.parametrize("key", ["short", "has spaces in it", "x" * 65, "键键键键键键键键"])
def test_a_malformed_key_is_a_400_and_nothing_is_saved(agent, key):
    resp = api(agent).post("/api/v1/intake/", intake_data(idempotency_key=key), format="json")
    assert resp.status_code == 400 and "idempotency_key" in resp.json()
    assert not Call.objects.exists()


def test_a_refused_first_attempt_leaves_the_key_free(agent):
    resp = api(agent).post("/api/v1/intake/", intake_data(description="短"), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert resp.status_code == 400
    again = api(agent).post("/api/v1/intake/", intake_data(), format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    assert again.status_code == 201 and Call.objects.count() == 1


def test_the_page_renders_a_key_and_a_double_submit_makes_one_call(agent):
    client = page(agent)
    body = client.get("/intake/").content.decode()
    assert 'name="idempotency_key"' in body
    key = body.split('name="idempotency_key" id="id_idempotency_key" value="')[1].split('"')[0]
    assert len(key) >= 16
    assert key not in client.get("/intake/").content.decode()  # one key per rendered form
    first = client.post("/intake/", intake_data(idempotency_key=key))
    again = client.post("/intake/", intake_data(idempotency_key=key))
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Call.objects.count() == 1


def test_a_form_sent_back_with_errors_keeps_its_key(agent):
    resp = page(agent).post("/intake/", intake_data(idempotency_key=KEY, description="短"))
    assert resp.status_code == 400
    assert f'value="{KEY}"' in resp.content.decode()


def test_the_request_type_has_no_default(agent):
    with pytest.raises(IntakeInvalid) as refused:
        call_intake(acting_user=agent, data=intake_data(request_type=None))
    assert refused.value.errors["request_type"] == ["请选择诉求类型。"]
    assert not Call.objects.exists()
    body = page(agent).get("/intake/").content.decode()
    select = body.split('id="id_request_type"')[1].split("</select>")[0]
    assert '<option value="">' in select and "selected" not in select


def test_a_knowledge_base_answer_is_filed_under_the_articles_category(agent):
    article = KnowledgeArticle.objects.create(
        title="居住证办理", body="携带身份证到派出所申领。", category=Category.objects.get(code="100401")
    )
    result = call_intake(
        acting_user=agent,
        data=intake_data(
            request_type="consultation",
            category=None,
            address="",
            action="answer",
            article=article.pk,
            description="咨询：居住证办理",
        ),
    )
    assert result.outcome == Call.Outcome.DIRECT_ANSWER
    assert result.call.category.code == "100401" and result.call.answer == article.body


def test_the_keepalive_slides_the_session_and_says_when_it_ends(agent, settings):
    client = page(agent)
    resp = client.post("/intake/keepalive/")
    assert resp.status_code == 200
    body = resp.json()
    assert settings.SESSION_COOKIE_AGE - 5 <= body["expiresIn"] <= settings.SESSION_COOKIE_AGE
    assert body["warnBefore"] == settings.SESSION_EXPIRY_WARNING_SECONDS


def test_the_keepalive_of_an_ended_session_is_a_401():
    resp = Client().post("/intake/keepalive/")
    assert resp.status_code == 401 and resp.json()["code"] == "session_expired"


def test_only_call_takers_keep_the_workspace_alive(xiluoyuan_handler):
    assert page(xiluoyuan_handler).post("/intake/keepalive/").status_code == 403
