"""The hand-chosen place, the aliases learned from it, the city's review, the ranking fix and the
caller history by POST."""

import pytest
from django.urls import reverse

from districts import routing
from districts.alias_proposals import proposal_text
from districts.models import Alias, AliasProposal, Division
from districts.places import streets_search
from districts.routing import route_address
from hotline.intake.services import IntakeInvalid, call_intake
from hotline.models import Call
from tests.factories import PASSWORD
from tests.intake.conftest import intake_data
from tests.intake.test_intake_api import client_for
from workorders.models import WorkOrder

pytestmark = pytest.mark.django_db

UNPLACED = "朝阳区光华路9号"
JIANWAI = "110105001"  # 朝阳区 建外街道
JIANWAI_COMMUNITY = "110105001024"  # 南郎家园社区
XILUOYUAN_COMMUNITY = "110106003001"  # 西罗园第一社区 (another street)


@pytest.fixture(autouse=True)
def _fresh_routing():
    routing.invalidate()
    yield
    routing.invalidate()


def test_an_unplaceable_address_is_dispatched_to_a_hand_chosen_street(agent):
    assert route_address(UNPLACED) == []
    # when
    result = call_intake(acting_user=agent, data=intake_data(address=UNPLACED, street=JIANWAI))
    # then: dispatched to the street, and the call says who chose the place by hand
    assert result.order.lead_unit.name == "建外街道"
    call = Call.objects.get(pk=result.call.pk)
    assert call.place_chosen_by == agent
    proposal = AliasProposal.objects.get()
    assert (proposal.name, proposal.division.code, proposal.state) == ("光华路9号", JIANWAI, "proposed")


def test_a_routed_street_is_not_recorded_as_hand_chosen(agent):
    result = call_intake(acting_user=agent, data=intake_data(street="110106003"))
    assert Call.objects.get(pk=result.call.pk).place_chosen_by is None
    assert not AliasProposal.objects.exists()


def test_a_street_other_than_the_routers_is_a_correction_and_is_proposed(agent):
    # the router says 西罗园街道 for 洋桥北里; the agent knows better
    call_intake(acting_user=agent, data=intake_data(address="丰台区洋桥北里12号楼", street=JIANWAI))
    assert AliasProposal.objects.get().name == "洋桥北里12号楼"


def test_a_hand_chosen_community_of_that_street_is_recorded(agent):
    result = call_intake(
        acting_user=agent, data=intake_data(address=UNPLACED, street=JIANWAI, community=JIANWAI_COMMUNITY)
    )
    assert result.order.community.code == JIANWAI_COMMUNITY
    assert AliasProposal.objects.get().division.code == JIANWAI_COMMUNITY


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"street": "999999999"}, "street"),
        ({"street": "110105"}, "street"),  # a district is not a street
        ({"street": JIANWAI, "community": XILUOYUAN_COMMUNITY}, "community"),  # another street's
        ({"street": JIANWAI, "community": "11010500102\x00"}, "community"),
        ({"community": JIANWAI_COMMUNITY}, "community"),  # a community without its street
        ({"street": "<script>"}, "street"),
    ],
)
def test_a_bad_hand_chosen_place_is_a_field_error_and_saves_nothing(agent, overrides, field):
    calls, orders = Call.objects.count(), WorkOrder.objects.count()
    with pytest.raises(IntakeInvalid) as exc:
        call_intake(acting_user=agent, data=intake_data(address=UNPLACED, **overrides))
    assert field in exc.value.errors
    assert (Call.objects.count(), WorkOrder.objects.count(), AliasProposal.objects.count()) == (calls, orders, 0)


def test_the_api_takes_a_hand_chosen_place_and_refuses_a_wrong_one(agent):
    client = client_for(agent)
    bad = client.post(
        "/api/v1/intake/", intake_data(address=UNPLACED, street=JIANWAI, community=XILUOYUAN_COMMUNITY), format="json"
    )
    assert bad.status_code == 400 and "community" in bad.json()
    assert not Call.objects.exists()
    ok = client.post("/api/v1/intake/", intake_data(address=UNPLACED, street=JIANWAI), format="json")
    assert ok.status_code == 201, ok.content
    assert ok.json()["order"]["lead_unit"]["name"] == "建外街道"


def test_the_dispatch_preview_takes_a_hand_chosen_community(agent):
    client = client_for(agent)
    params = {"category": "010102", "street": JIANWAI, "address": UNPLACED}
    ok = client.get("/api/v1/intake/dispatch-preview/", {**params, "community": JIANWAI_COMMUNITY})
    assert ok.status_code == 200 and ok.json()["community"] == "南郎家园社区居委会"
    bad = client.get("/api/v1/intake/dispatch-preview/", {**params, "community": XILUOYUAN_COMMUNITY})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("朝阳区光华路9号", "光华路9号"),
        ("北京市 朝阳区 光华路 9 号", "光华路9号"),
        ("朝阳区", ""),
        ("12345", ""),
        ("朝阳区12号", ""),
        ("", ""),
    ],
)
def test_proposal_text(address, expected):
    assert proposal_text(address) == expected


def test_no_proposal_for_an_all_digit_text(agent):
    call_intake(acting_user=agent, data=intake_data(address="8号", street=JIANWAI))
    call_intake(acting_user=agent, data=intake_data(address="12345678", street=JIANWAI))
    assert not AliasProposal.objects.exists()


def test_a_proposal_made_twice_is_counted_once(agent):
    for _ in range(2):
        call_intake(acting_user=agent, data=intake_data(address=UNPLACED, street=JIANWAI))
    assert AliasProposal.objects.get().times == 2


def test_the_city_accepts_a_proposal_and_the_next_call_is_routed(client, agent, city_admin):
    call_intake(acting_user=agent, data=intake_data(address=UNPLACED, street=JIANWAI))
    proposal = AliasProposal.objects.get()
    assert client.login(username=city_admin.username, password=PASSWORD)
    page = client.get(reverse("alias-proposals"))
    assert page.status_code == 200 and "光华路9号" in page.content.decode()
    # when: one click
    resp = client.post(reverse("alias-proposal-decide", args=[proposal.pk, "accept"]))
    assert resp.status_code == 302
    # then: the alias exists and routes the next call with that text, without a hand-chosen place
    assert Alias.objects.get(name="光华路9号").division.code == JIANWAI
    assert [c.street_code for c in route_address("朝阳区光华路9号院")] == [JIANWAI]
    result = call_intake(acting_user=agent, data=intake_data(address="朝阳区光华路9号"))
    assert result.order.lead_unit.name == "建外街道"
    assert Call.objects.get(pk=result.call.pk).place_chosen_by is None
    proposal.refresh_from_db()
    assert (proposal.state, proposal.decided_by) == ("accepted", city_admin)
    # deciding again changes nothing
    client.post(reverse("alias-proposal-decide", args=[proposal.pk, "reject"]))
    proposal.refresh_from_db()
    assert proposal.state == "accepted" and Alias.objects.count() == 1


def test_a_rejected_proposal_makes_no_alias(client, agent, city_admin):
    call_intake(acting_user=agent, data=intake_data(address=UNPLACED, street=JIANWAI))
    proposal = AliasProposal.objects.get()
    assert client.login(username=city_admin.username, password=PASSWORD)
    client.post(reverse("alias-proposal-decide", args=[proposal.pk, "reject"]))
    proposal.refresh_from_db()
    assert proposal.state == "rejected" and not Alias.objects.exists()
    assert route_address(UNPLACED) == []


@pytest.mark.parametrize("role", ["agent", "xiluoyuan_handler", "fengtai_manager", "water_dept_handler"])
def test_only_the_city_reviews_proposals(client, request, role, agent):
    call_intake(acting_user=agent, data=intake_data(address=UNPLACED, street=JIANWAI))
    proposal = AliasProposal.objects.get()
    assert client.login(username=request.getfixturevalue(role).username, password=PASSWORD)
    assert client.get(reverse("alias-proposals")).status_code == 403
    assert client.post(reverse("alias-proposal-decide", args=[proposal.pk, "accept"])).status_code == 403
    proposal.refresh_from_db()
    assert proposal.state == "proposed" and not Alias.objects.exists()


def test_a_community_outranks_a_street_name_inside_a_longer_word():
    candidates = route_address("回龙观龙泽苑")
    assert candidates[0].street_name == "龙泽园街道"
    assert "回龙观街道" in [c.street_name for c in candidates]
    # but a bare name that is a street's own stays the street
    assert route_address("马家堡")[0].street_name == "马家堡街道"


@pytest.mark.parametrize("query", ["建外", "jianwai", "jwjd", "JianWai", "朝阳"])
def test_the_street_picker_finds_by_chinese_pinyin_and_initials(query):
    rows, _cut = streets_search(query)
    assert JIANWAI in [r["code"] for r in rows]


def test_the_places_api(agent):
    client = client_for(agent)
    streets = client.get("/api/v1/places/streets/", {"q": "xlyjd"}).json()
    assert [r["name"] for r in streets["results"]] == ["西罗园街道"]
    communities = client.get("/api/v1/places/communities/", {"street": JIANWAI}).json()["results"]
    assert JIANWAI_COMMUNITY in [c["code"] for c in communities]
    assert all(c["code"].startswith(JIANWAI) for c in communities)
    assert client.get("/api/v1/places/communities/", {"street": "x\x00"}).status_code == 400
    assert client.get("/api/v1/places/streets/", {"q": "\x00" * 500}).status_code == 400  # the edge


def test_the_workspace_page_records_a_hand_chosen_place(client, agent):
    assert client.login(username=agent.username, password=PASSWORD)
    page = client.get(reverse("intake"))
    assert 'id="place-streets"' in page.content.decode()
    resp = client.post(reverse("intake"), intake_data(address=UNPLACED, street=JIANWAI))
    assert resp.status_code == 302
    done = client.get(resp["Location"]).content.decode()
    assert 'data-testid="place-manual"' in done
    order = WorkOrder.objects.get()
    assert f'href="{reverse("order-detail", args=[order.pk])}"' in done
    bad = client.post(reverse("intake"), intake_data(address=UNPLACED, street=JIANWAI, community="110106003001"))
    assert bad.status_code == 400 and 'data-testid="error-community"' in bad.content.decode()
    assert WorkOrder.objects.count() == 1


def test_caller_history_is_post_only_so_the_number_stays_out_of_urls(agent):
    client = client_for(agent)
    call_intake(acting_user=agent, data=intake_data())
    assert client.get("/api/v1/intake/caller-history/", {"phone": "13811012345"}).status_code == 405
    resp = client.post("/api/v1/intake/caller-history/", {"phone": "13811012345"}, format="json")
    assert resp.status_code == 200 and resp.json()["calls"][0]["order_id"]
    assert client.post("/api/v1/intake/caller-history/", ["x"], format="json").status_code == 400


def test_hand_picked_street_exists():
    assert Division.objects.filter(code=JIANWAI, level=Division.Level.STREET).exists()
