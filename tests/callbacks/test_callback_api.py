from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from tests.callbacks.conftest import close, make_order
from tests.factories import unit
from workorders.models import Callback, ExclusionRequest, OrderEvent, SelfEvaluationLink, WorkOrder

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_queue_lists_orders_awaiting_a_callback(agent, closed_order):
    overdue = make_order(agent, tier="T2H", now=timezone.now() - timedelta(days=2))
    response = api(agent).get("/api/v1/callbacks/")
    assert response.status_code == 200
    rows = response.json()["results"]
    assert [r["number"] for r in rows] == [overdue.number, closed_order.number]
    assert [r["is_overdue"] for r in rows] == [True, False]
    only_closed = api(agent).get("/api/v1/callbacks/", {"kind": "closed"}).json()["results"]
    assert [r["id"] for r in only_closed] == [closed_order.pk]


@pytest.mark.parametrize(
    "role_fixture", ["xiluoyuan_handler", "youanmen_handler", "water_dept_handler", "fengtai_manager"]
)
def test_units_and_districts_get_403_on_every_callback_endpoint(request, role_fixture, closed_order):
    client = api(request.getfixturevalue(role_fixture))
    base = f"/api/v1/callbacks/{closed_order.pk}/"
    assert client.get("/api/v1/callbacks/").status_code == 403
    assert client.get(base).status_code == 403
    assert client.post(base + "attempts/", {"result": "busy"}).status_code == 403
    answers = {"contacted": True, "solved": "resolved", "satisfaction": "satisfied"}
    assert client.post(base + "answers/", answers, format="json").status_code == 403
    assert client.post(base + "self-evaluation-links/").status_code == 403
    assert client.post(base + "send-back/", {"reason": "x"}).status_code == 403
    closed_order.refresh_from_db()
    assert closed_order.state == "closed"
    assert not Callback.objects.exists() and not SelfEvaluationLink.objects.exists()


def test_answers_twice_record_once_and_return_the_same_callback(agent, closed_order, youanmen_handler):
    # given
    client = api(agent)
    url = f"/api/v1/callbacks/{closed_order.pk}/answers/"
    body = {
        "round": 1,
        "contacted": True,
        "solved": "unresolved",
        "satisfaction": "unsatisfied",
        "comment": "没人来修",
        "redispatch_unit": unit("110106001").pk,
    }
    # when
    first = client.post(url, body, format="json")
    events = OrderEvent.objects.filter(order=closed_order).count()
    second = client.post(url, body, format="json")
    # then
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and first.json()["is_valid"] is True
    assert OrderEvent.objects.filter(order=closed_order).count() == events
    order = WorkOrder.objects.get(pk=closed_order.pk)
    assert (order.round, order.lead_unit.code, order.state) == (2, "110106001", "dispatched")
    detail = client.get(f"/api/v1/callbacks/{order.pk}/").json()
    assert detail["outcome"]["satisfaction"] == "unsatisfied" and detail["outcome"]["callback_valid"] is True
    assert [c["round"] for c in detail["callbacks"]] == [1]
    assert detail["events"][-1]["kind"] == "redispatched"


def test_bad_answers_get_a_400_in_chinese_and_change_nothing(agent, closed_order):
    response = api(agent).post(
        f"/api/v1/callbacks/{closed_order.pk}/answers/",
        {"contacted": True, "solved": "resolved", "satisfaction": "happy"},
        format="json",
    )
    assert response.status_code == 400
    assert not Callback.objects.exists()
    open_order = make_order(agent)
    response = api(agent).post(
        f"/api/v1/callbacks/{open_order.pk}/answers/",
        {"contacted": True, "solved": "resolved", "satisfaction": "satisfied"},
        format="json",
    )
    assert response.status_code == 400 and "不能回访" in response.json()["detail"]


def test_attempts_self_links_and_send_back(agent, closed_order):
    client = api(agent)
    base = f"/api/v1/callbacks/{closed_order.pk}/"
    attempt = client.post(base + "attempts/", {"result": "no_answer", "note": "响铃无人接"})
    assert attempt.status_code == 201 and attempt.json()["attempts"][0]["result"] == "no_answer"
    link = client.post(base + "self-evaluation-links/")
    assert link.status_code == 201 and "/e/" in link.json()["url"]
    sent = client.post(base + "send-back/", {"reason": "办结说明不完整"})
    assert sent.status_code == 200 and sent.json()["state"] == "signed"
    again = client.post(base + "send-back/", {"reason": "办结说明不完整"})
    assert again.status_code == 400


def test_exclusions_through_the_api_with_evidence(
    closed_order, xiluoyuan_handler, youanmen_handler, fengtai_manager, haidian_manager, city_admin
):
    # the lead street files it, with a file, as multipart
    created = api(xiluoyuan_handler).post(
        "/api/v1/exclusions/",
        {
            "order": closed_order.pk,
            "reason": "outside_duty",
            "explanation": "属于民事纠纷",
            "evidence": [SimpleUploadedFile("证明.png", PNG)],
        },
        format="multipart",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["state"] == "pending_district" and len(body["evidence"]) == 1
    pk = body["id"]
    evidence_url = body["evidence"][0]["url"]
    # a neighbour street sees nothing of it
    assert api(youanmen_handler).get(f"/api/v1/exclusions/{pk}/").status_code == 404
    assert api(youanmen_handler).get(evidence_url).status_code == 404
    assert api(fengtai_manager).get(evidence_url).status_code == 200
    # another district cannot decide; the order's district can
    assert (
        api(haidian_manager).post(f"/api/v1/exclusions/{pk}/district-decision/", {"approve": True}).status_code == 404
    )
    assert api(city_admin).post(f"/api/v1/exclusions/{pk}/district-decision/", {"approve": True}).status_code == 403
    ok = api(fengtai_manager).post(f"/api/v1/exclusions/{pk}/district-decision/", {"approve": True, "note": "属实"})
    assert ok.status_code == 200 and ok.json()["state"] == "pending_city"
    # only the city decides now
    assert api(fengtai_manager).post(f"/api/v1/exclusions/{pk}/city-decision/", {"approve": True}).status_code == 403
    done = api(city_admin).post(f"/api/v1/exclusions/{pk}/city-decision/", {"approve": True})
    assert done.status_code == 200 and done.json()["state"] == "approved" and done.json()["order_excluded"] is True
    # revoke needs a reason
    assert api(city_admin).post(f"/api/v1/exclusions/{pk}/revoke/", {"note": ""}).status_code == 400
    revoked = api(city_admin).post(f"/api/v1/exclusions/{pk}/revoke/", {"note": "复核不符合剔除条件"})
    assert revoked.json()["state"] == "revoked" and revoked.json()["order_excluded"] is False
    # visible on the order
    listed = api(fengtai_manager).get("/api/v1/exclusions/", {"order": closed_order.pk}).json()["results"]
    assert [x["id"] for x in listed] == [pk]


def test_only_the_lead_unit_files_through_the_api(closed_order, youanmen_handler, fengtai_manager, agent):
    body = {"order": closed_order.pk, "reason": "unreasonable", "explanation": "x"}
    assert api(youanmen_handler).post("/api/v1/exclusions/", body).status_code == 404  # not even visible
    assert api(fengtai_manager).post("/api/v1/exclusions/", body).status_code == 403
    assert api(agent).post("/api/v1/exclusions/", body).status_code == 403
    assert not ExclusionRequest.objects.exists()


def test_fake_evidence_gets_a_400_and_nothing_is_stored(closed_order, xiluoyuan_handler):
    response = api(xiluoyuan_handler).post(
        "/api/v1/exclusions/",
        {
            "order": closed_order.pk,
            "reason": "unreasonable",
            "explanation": "x",
            "evidence": [SimpleUploadedFile("假图片.jpg", b"<?php echo 1; ?>")],
        },
        format="multipart",
    )
    assert response.status_code == 400 and "内容与扩展名不符" in response.json()["detail"]
    assert not ExclusionRequest.objects.exists()


def test_the_schema_documents_the_callback_and_exclusion_endpoints(agent):
    response = api(agent).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/callbacks/",
        "/api/v1/callbacks/{id}/answers/",
        "/api/v1/callbacks/{id}/attempts/",
        "/api/v1/callbacks/{id}/self-evaluation-links/",
        "/api/v1/callbacks/{id}/send-back/",
        "/api/v1/exclusions/",
        "/api/v1/exclusions/{id}/district-decision/",
        "/api/v1/exclusions/{id}/city-decision/",
        "/api/v1/exclusions/{id}/revoke/",
    ):
        assert path in paths, path
    assert "multipart/form-data" in paths["/api/v1/exclusions/"]["post"]["requestBody"]["content"]


def test_a_redispatched_round_2_closed_again_is_back_in_the_api_queue(agent, closed_order):
    client = api(agent)
    client.post(
        f"/api/v1/callbacks/{closed_order.pk}/answers/",
        {"contacted": True, "solved": "partly", "satisfaction": "basic"},
        format="json",
    )
    assert closed_order.number not in {r["number"] for r in client.get("/api/v1/callbacks/").json()["results"]}
    close(WorkOrder.objects.get(pk=closed_order.pk))
    rows = client.get("/api/v1/callbacks/").json()["results"]
    assert [(r["number"], r["round"]) for r in rows] == [(closed_order.number, 2)]


def test_a_redispatch_to_a_unit_of_another_district_is_refused_and_changes_nothing(agent, closed_order):
    # given: an order of 丰台; 学院路街道 is a street of 海淀
    assert closed_order.district.name.startswith("丰台")
    other = unit("110108010")
    body = {"contacted": True, "solved": "unresolved", "satisfaction": "unsatisfied", "redispatch_unit": other.pk}
    events = OrderEvent.objects.filter(order=closed_order).count()
    # when
    response = api(agent).post(f"/api/v1/callbacks/{closed_order.pk}/answers/", body, format="json")
    # then
    assert response.status_code == 400 and response.json()["code"] == "invalid_unit"
    order = WorkOrder.objects.get(pk=closed_order.pk)
    assert (order.round, order.state, order.lead_unit_id) == (1, "closed", closed_order.lead_unit_id)
    assert not Callback.objects.filter(order=closed_order, status="valid").exists()
    assert OrderEvent.objects.filter(order=closed_order).count() == events


def test_the_page_and_the_service_refuse_the_same_redispatch(agent, closed_order, client):
    from hotline.errors import DomainError
    from workorders.lifecycle import callbacks
    from workorders.lifecycle.callbacks import Answers

    other = unit("110108010")
    with pytest.raises(DomainError):
        callbacks.callback_record(
            closed_order, actor=agent, answers=Answers(True, "unresolved", "unsatisfied"), redispatch_unit=other
        )
    client.force_login(agent)
    client.post(
        f"/callbacks/{closed_order.pk}/record/",
        {"contacted": "yes", "solved": "unresolved", "satisfaction": "unsatisfied", "redispatch_unit": other.pk},
    )
    order = WorkOrder.objects.get(pk=closed_order.pk)
    assert (order.round, order.state) == (1, "closed")
