import pytest
from rest_framework.test import APIClient

from hotline.intake.services import call_intake
from hotline.models import Call, KnowledgeArticle
from tests.factories import CallFactory
from tests.intake.conftest import intake_data
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

ROLES = ["agent", "city_admin", "xiluoyuan_handler", "fengtai_manager", "water_dept_handler"]
MAY_TAKE = {"agent", "city_admin"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", ROLES)
def test_only_agents_and_the_city_may_post_an_intake(request, role):
    user = request.getfixturevalue(role)
    resp = client_for(user).post("/api/v1/intake/", intake_data(), format="json")
    if role in MAY_TAKE:
        assert resp.status_code == 201, resp.content
        body = resp.json()
        assert body["outcome"] == "order" and body["order"]["lead_unit"]["code"] == "110106003"
        assert body["order"]["number"] and body["dispatch_reason"]
        assert body["community"] == "洋桥北里社区"
    else:
        assert resp.status_code == 403
        assert not Call.objects.exists() and not WorkOrder.objects.exists()


def test_an_anonymous_client_is_refused():
    resp = APIClient().post("/api/v1/intake/", intake_data(), format="json")
    assert resp.status_code in (401, 403)
    assert not Call.objects.exists()


def test_bad_input_answers_400_per_field_and_saves_nothing(agent):
    resp = client_for(agent).post(
        "/api/v1/intake/",
        intake_data(phone="999", category="0101", address="", description="x" * 2001),
        format="json",
    )
    assert resp.status_code == 400
    body = resp.json()
    assert {"phone", "category", "address", "description"} <= set(body)
    assert "号码格式不正确" in body["phone"][0]
    assert not Call.objects.exists() and not WorkOrder.objects.exists()


def test_errors_are_english_when_asked(agent):
    resp = client_for(agent).post("/api/v1/intake/", intake_data(phone="999"), format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert resp.status_code == 400
    assert resp.json()["phone"][0]  # the catalogue is merged by the lead; the message is present either way


def test_caller_history_shows_the_callers_calls_and_open_orders(agent):
    # given
    first = call_intake(acting_user=agent, data=intake_data())
    CallFactory(caller_phone="13700000000")  # someone else
    # when
    resp = client_for(agent).post("/api/v1/intake/caller-history/", {"phone": "138-1101-2345"}, format="json")
    # then
    assert resp.status_code == 200
    body = resp.json()
    assert [c["id"] for c in body["calls"]] == [first.call.pk]
    assert body["calls"][0]["order_number"] == first.order.number
    assert [o["number"] for o in body["open_orders"]] == [first.order.number]


@pytest.mark.parametrize("role", ["xiluoyuan_handler", "fengtai_manager", "water_dept_handler"])
def test_caller_history_and_duplicates_are_for_call_takers_only(request, role, agent):
    call_intake(acting_user=agent, data=intake_data())
    client = client_for(request.getfixturevalue(role))
    assert client.post("/api/v1/intake/caller-history/", {"phone": "13811012345"}, format="json").status_code == 403
    dup = client.post(
        "/api/v1/intake/duplicates/",
        {"category": "010102", "street": "110106003", "address": "洋桥北里", "description": "电梯坏了"},
        format="json",
    )
    assert dup.status_code == 403
    preview = client.get("/api/v1/intake/dispatch-preview/", {"category": "010102", "street": "110106003"})
    assert preview.status_code == 403


def _candidates(user, **body):
    resp = client_for(user).post("/api/v1/intake/duplicates/", body, format="json")
    assert resp.status_code == 200, resp.content
    return resp.json()


def test_duplicates_are_the_same_incident_at_the_same_building(agent):
    # given: the lift of building 12, and the rubbish of the same building
    first = call_intake(acting_user=agent, data=intake_data())
    call_intake(acting_user=agent, data=intake_data(category="010501", description="小区垃圾三天没人清运"))
    # when: another caller, other words, the same lift
    found = _candidates(
        agent,
        category="010102",
        street="110106003",
        address="洋桥北里12号楼",
        description="12号楼电梯又不走了，物业说在等配件",
    )
    # then
    assert [o["number"] for o in found] == [first.order.number]
    assert found[0]["place"] == "spot" and found[0]["category_relation"] == "same"
    # another building of the compound, another street: no candidate
    assert (
        _candidates(agent, category="010102", street="110106003", address="洋桥北里5号楼", description="电梯坏了") == []
    )
    assert _candidates(agent, category="010102", street="110106001", address="玉林小区", description="电梯坏了") == []


def test_dispatch_preview_names_the_lead_unit_and_the_reason(agent):
    resp = client_for(agent).get(
        "/api/v1/intake/dispatch-preview/", {"category": "020102", "street": "110106003", "address": "洋桥北里"}
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["lead_unit"]["name"] == "丰台区水务局"
    assert [u["name"] for u in body["co_units"]] == ["西罗园街道"]
    assert "水管爆裂" in body["reason"] and body["community"] == "洋桥北里社区"


def test_dispatch_preview_rejects_a_branch_category(agent):
    resp = client_for(agent).get("/api/v1/intake/dispatch-preview/", {"category": "0201", "street": "110106003"})
    assert resp.status_code == 400 and "category" in resp.json()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_category_tree(request, role):
    resp = client_for(request.getfixturevalue(role)).get("/api/v1/categories/", {"level": 3, "parent": "0201"})
    assert resp.status_code == 200
    assert [c["name"] for c in resp.json()] == ["停水", "水管爆裂", "水质问题", "水压不足"]


def test_knowledge_search_matches_chinese_and_ranks_title_hits_first(agent):
    body_hit = KnowledgeArticle.objects.create(title="积分落户", body="需先办理居住证并连续缴纳社保。", keywords="")
    title_hit = KnowledgeArticle.objects.create(title="居住证办理", body="携带身份证到派出所申领。", keywords="暂住证")
    KnowledgeArticle.objects.create(title="供暖时间", body="11月15日开始供暖。", keywords="暖气")
    KnowledgeArticle.objects.create(title="居住证旧规", body="已废止。", is_active=False)
    resp = client_for(agent).get("/api/v1/knowledge/", {"q": "居住证"})
    assert resp.status_code == 200
    assert [a["id"] for a in resp.json()] == [title_hit.pk, body_hit.pk]
    assert client_for(agent).get("/api/v1/knowledge/", {"q": "暂住证"}).json()[0]["id"] == title_hit.pk


def test_today_counter_is_scoped_like_the_call_list(agent, xiluoyuan_handler, youanmen_handler):
    call_intake(acting_user=agent, data=intake_data())
    assert client_for(agent).get("/api/v1/intake/today/").json()["calls"] == 1
    assert client_for(agent).get("/api/v1/intake/today/").json()["orders"] == 1
    assert client_for(xiluoyuan_handler).get("/api/v1/intake/today/").json()["calls"] == 1
    assert client_for(youanmen_handler).get("/api/v1/intake/today/").json()["calls"] == 0


def test_the_intake_endpoints_are_documented(city_admin):
    schema = client_for(city_admin).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in [
        "/api/v1/intake/",
        "/api/v1/intake/caller-history/",
        "/api/v1/intake/duplicates/",
        "/api/v1/intake/dispatch-preview/",
        "/api/v1/categories/",
        "/api/v1/knowledge/",
        "/api/v1/dispatch-rules/",
    ]:
        assert path in schema["paths"], path


def test_the_call_list_filters_by_outcome_and_category(agent):
    call_intake(acting_user=agent, data=intake_data())
    call_intake(
        acting_user=agent,
        data=intake_data(
            request_type="consultation", category="100401", address="", action="answer", answer="到派出所办理。"
        ),
    )
    client = client_for(agent)
    answered = client.get("/api/v1/calls/", {"outcome": "direct_answer"}).json()["results"]
    assert [c["request_type"] for c in answered] == ["consultation"]
    assert len(client.get("/api/v1/calls/", {"category": "010102"}).json()["results"]) == 1


def test_without_a_known_community_the_same_road_number_is_the_place(agent):
    address = "丰台区西罗园街道马家堡西路18号"
    first = call_intake(acting_user=agent, data=intake_data(address=address, street="110106003"))
    assert first.call.community is None
    same = _candidates(agent, category="010102", street="110106003", address=address, description="电梯停运了")
    assert [o["number"] for o in same] == [first.order.number]
    other = _candidates(
        agent, category="010102", street="110106003", address="马家堡西路28号", description="电梯停运了"
    )
    assert other == []


@pytest.mark.parametrize("body", [[1, 2], "text", 42])
def test_a_body_that_is_not_an_object_is_a_400(agent, body):
    resp = client_for(agent).post("/api/v1/intake/", body, format="json")
    assert resp.status_code == 400
    assert not Call.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_every_role_reads_the_dispatch_catalogue(request, role):
    resp = client_for(request.getfixturevalue(role)).get("/api/v1/dispatch-rules/", {"category": "020102"})
    assert resp.status_code == 200
    [rule] = resp.json()["results"]
    assert rule["target"] == "department" and rule["department_slug"] == "water" and rule["co_street"] is True
    assert rule["category_path"] == "公共服务→供水→水管爆裂"


def test_the_dispatch_catalogue_is_read_only_over_the_api(city_admin):
    resp = client_for(city_admin).post("/api/v1/dispatch-rules/", {"category": "010102"}, format="json")
    assert resp.status_code == 405


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # an order to the street
        {"category": "020102"},  # burst main: the water authority leads, the street co-handles
        {"action": "answer", "answer": "已告知物业报修电话。", "request_type": "consultation"},
    ],
)
def test_the_intake_answer_has_exactly_the_documented_shape(agent, overrides):
    from hotline.intake.api import IntakeResultSerializer

    resp = client_for(agent).post("/api/v1/intake/", intake_data(**overrides), format="json")
    assert resp.status_code == 201, resp.content
    call = Call.objects.get(pk=resp.json()["call_id"])
    order = WorkOrder.objects.filter(call=call).select_related("category", "lead_unit").first()

    class Result:  # what call_intake returned, rebuilt from the database
        pass

    result = Result()
    result.call, result.outcome, result.order = call, call.outcome, order
    from hotline.intake.dispatch import dispatch_resolve

    result.dispatch = dispatch_resolve(category=call.category, street=call.street) if order else None
    assert resp.json() == IntakeResultSerializer(result).data


def test_a_repeat_call_answer_has_the_documented_shape(agent):
    from hotline.intake.api import IntakeResultSerializer

    first = client_for(agent).post("/api/v1/intake/", intake_data(), format="json").json()
    resp = client_for(agent).post(
        "/api/v1/intake/",
        intake_data(action="duplicate", duplicate_of=first["order"]["number"], category=None, address=None),
        format="json",
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["outcome"] == "duplicate" and body["order"]["duplicate_count"] == 1
    assert body["co_units"] == [] and body["dispatch_reason"] is None
    call = Call.objects.get(pk=body["call_id"])

    class Result:
        pass

    result = Result()
    result.call, result.outcome, result.dispatch = call, call.outcome, None
    result.order = WorkOrder.objects.select_related("category", "lead_unit").get(number=first["order"]["number"])
    assert body == IntakeResultSerializer(result).data
