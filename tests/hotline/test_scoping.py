"""Each role against each page and endpoint that shows calls: streets see only their own street."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from hotline.models import PersonalDataAccess
from tests.factories import CallFactory, division

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls():
    return {
        "xiluoyuan": CallFactory(street=division("110106003"), caller_phone="13811012345", description="西罗园的诉求"),
        "youanmen": CallFactory(street=division("110106001"), caller_phone="13900001111", description="右安门的诉求"),
        "xueyuanlu": CallFactory(street=division("110108010"), caller_phone="13700002222", description="学院路的诉求"),
    }


def _api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _listed(user):
    resp = _api(user).get("/api/v1/calls/")
    assert resp.status_code == 200
    return {row["description"] for row in resp.json()["results"]}


def test_a_street_lists_only_its_own_calls(calls, xiluoyuan_handler):
    assert _listed(xiluoyuan_handler) == {"西罗园的诉求"}


def test_a_street_cannot_open_a_neighbouring_streets_call(calls, xiluoyuan_handler):
    resp = _api(xiluoyuan_handler).get(f"/api/v1/calls/{calls['youanmen'].pk}/")
    assert resp.status_code == 404


def test_a_street_page_shows_only_its_own_calls(client, calls, xiluoyuan_handler):
    client.force_login(xiluoyuan_handler)
    body = client.get(reverse("call-list")).content.decode()
    assert "西罗园的诉求" in body
    assert "右安门的诉求" not in body and "学院路的诉求" not in body


def test_a_street_home_page_counts_only_its_own_calls(client, calls, xiluoyuan_handler):
    client.force_login(xiluoyuan_handler)
    resp = client.get(reverse("home"))
    assert resp.context["today_calls"] == 1
    assert "右安门的诉求" not in resp.content.decode()


def test_a_district_sees_its_streets_and_not_another_district(calls, fengtai_manager, haidian_manager):
    assert _listed(fengtai_manager) == {"西罗园的诉求", "右安门的诉求"}
    assert _listed(haidian_manager) == {"学院路的诉求"}


def test_agents_and_the_city_see_every_call(calls, agent, city_admin):
    everything = {"西罗园的诉求", "右安门的诉求", "学院路的诉求"}
    assert _listed(agent) == everything
    assert _listed(city_admin) == everything


def test_a_department_has_no_call_list(client, calls, water_dept_handler):
    assert _api(water_dept_handler).get("/api/v1/calls/").status_code == 403
    client.force_login(water_dept_handler)
    assert client.get(reverse("call-list")).status_code == 403


def test_anonymous_users_get_nothing(client, calls):
    assert APIClient().get("/api/v1/calls/").status_code in (401, 403)
    resp = client.get(reverse("call-list"))
    assert resp.status_code == 302 and resp.url.startswith(reverse("login"))


# --- the caller's phone -------------------------------------------------------------------------
def test_agents_see_the_number_in_full(calls, agent):
    row = _api(agent).get(f"/api/v1/calls/{calls['xiluoyuan'].pk}/").json()
    assert row["caller_phone"] == "13811012345"


@pytest.mark.parametrize("who", ["xiluoyuan_handler", "fengtai_manager", "city_admin"])
def test_other_roles_see_the_number_masked(request, calls, who):
    user = request.getfixturevalue(who)
    row = _api(user).get(f"/api/v1/calls/{calls['xiluoyuan'].pk}/").json()
    assert row["caller_phone"] == "138****2345"


def test_a_masked_page_never_contains_the_full_number(client, calls, fengtai_manager):
    client.force_login(fengtai_manager)
    body = client.get(reverse("call-list")).content.decode()
    assert "138****2345" in body and "13811012345" not in body


def test_revealing_a_number_is_recorded(client, calls, xiluoyuan_handler):
    # given
    client.force_login(xiluoyuan_handler)
    # when
    resp = client.post(reverse("call-reveal-phone", args=[calls["xiluoyuan"].pk]))
    # then
    assert resp.json() == {"phone": "13811012345"}
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.call, log.field, log.via) == (xiluoyuan_handler, calls["xiluoyuan"], "caller_phone", "page")


def test_revealing_through_the_api_is_recorded(calls, fengtai_manager):
    resp = _api(fengtai_manager).post(f"/api/v1/calls/{calls['youanmen'].pk}/reveal-phone/")
    assert resp.status_code == 200 and resp.json()["phone"] == "13900001111"
    assert PersonalDataAccess.objects.filter(user=fengtai_manager, via="api").count() == 1


def test_a_street_cannot_reveal_a_neighbours_caller(client, calls, xiluoyuan_handler):
    client.force_login(xiluoyuan_handler)
    resp = client.post(reverse("call-reveal-phone", args=[calls["youanmen"].pk]))
    assert resp.status_code == 404
    api_resp = _api(xiluoyuan_handler).post(f"/api/v1/calls/{calls['youanmen'].pk}/reveal-phone/")
    assert api_resp.status_code == 404
    assert not PersonalDataAccess.objects.exists()


def test_reveal_needs_post(client, calls, xiluoyuan_handler):
    client.force_login(xiluoyuan_handler)
    assert client.get(reverse("call-reveal-phone", args=[calls["xiluoyuan"].pk])).status_code == 405
    assert not PersonalDataAccess.objects.exists()


def test_a_department_may_reveal_the_caller_of_an_order_it_handles_and_no_other(water_dept_handler, agent):
    from hotline import access
    from hotline import privacy as services
    from hotline.errors import AccessDenied
    from hotline.models import Category
    from tests.factories import unit
    from workorders.lifecycle import creation as transitions
    from workorders.models import UrgencyTier

    # given: a burst main dispatched to 丰台区水务局, and an unrelated call in the same street
    mine = CallFactory(street=division("110106003"), caller_phone="13612345678")
    other = CallFactory(street=division("110106003"), caller_phone="13687654321")
    category = Category.objects.create(code="T-WATER", name="水管爆裂", level=3)
    transitions.order_create(
        call=mine,
        category=category,
        tier=UrgencyTier.objects.get(code="T24H"),
        lead_unit=unit("110106-water"),
        actor=agent,
        title="水管爆裂",
        street=division("110106003"),
    )
    # when / then
    assert set(access.visible_calls(water_dept_handler)) == {mine}
    assert services.call_reveal_phone(call=mine, acting_user=water_dept_handler, via="page") == "13612345678"
    with pytest.raises(AccessDenied):
        services.call_reveal_phone(call=other, acting_user=water_dept_handler, via="page")
    assert PersonalDataAccess.objects.filter(user=water_dept_handler).count() == 1


@pytest.mark.parametrize("who", ["xiluoyuan_handler", "water_dept_handler", "fengtai_manager", "haidian_manager"])
def test_the_inbox_halves_together_are_exactly_what_the_user_may_see(request, agent, who):
    from hotline import access
    from hotline.models import Category
    from tests.factories import unit
    from workorders.lifecycle import creation as transitions
    from workorders.models import UrgencyTier

    # given: orders led by 西罗园 (one co-handled by the water bureau), by the water bureau, and in 海淀
    category = Category.objects.create(code="T-HALVES", name="水管爆裂", level=3)
    tier = UrgencyTier.objects.get(code="T24H")
    for lead, street_code, co in [
        ("110106003", "110106003", ["110106-water"]),
        ("110106-water", "110106001", []),
        ("110108010", "110108010", []),
    ]:
        transitions.order_create(
            call=CallFactory(street=division(street_code)),
            category=category,
            tier=tier,
            lead_unit=unit(lead),
            actor=agent,
            title="t",
            street=division(street_code),
            co_units=[unit(c) for c in co],
        )
    user = request.getfixturevalue(who)
    # when
    halves = set(access.led_orders(user)) | set(access.assisting_orders(user))
    # then
    assert halves == set(access.visible_orders(user))
    assert halves  # every one of these users has something
