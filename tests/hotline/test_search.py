"""The global search: what it finds, per role, and bad input."""

import json

import pytest
from django.urls import reverse

from hotline.intake.services import call_intake
from hotline.models import PersonalDataAccess
from hotline.search.selectors import search_orders
from tests.factories import PASSWORD
from tests.intake.conftest import intake_data
from tests.intake.test_intake_api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(agent):
    xiluoyuan = call_intake(
        acting_user=agent,
        data=intake_data(phone="13811012345", caller_name="王建国", address="丰台区洋桥北里12号楼"),
    ).order
    haidian = call_intake(
        acting_user=agent,
        data=intake_data(
            phone="13900001111",
            caller_name="赵六",
            address="海淀区学院路街道志新村小区",
            description="小区门口占道经营，夜间噪音扰民严重",
        ),
    ).order
    return xiluoyuan, haidian


def numbers(user, q):
    return [o.number for o in search_orders(user=user, raw_query=q).orders]


def test_an_agent_finds_by_number_part_phone_name_address_and_words(agent, orders):
    xiluoyuan, haidian = orders
    assert numbers(agent, xiluoyuan.number[5:11]) == [xiluoyuan.number] or xiluoyuan.number in numbers(
        agent, xiluoyuan.number[5:11]
    )
    assert numbers(agent, "1101234") == [xiluoyuan.number]  # digits from the middle of the phone
    assert numbers(agent, "138-1101-2345") == [xiluoyuan.number]
    assert numbers(agent, "王建国") == [xiluoyuan.number]
    assert numbers(agent, "洋桥") == [xiluoyuan.number]  # two characters of an address
    assert numbers(agent, "噪音扰民") == [haidian.number]  # words of the description
    assert numbers(agent, "占道 夜间") == [haidian.number]  # every word must match
    assert numbers(agent, "占道 洋桥") == []


def test_a_street_user_finds_its_own_and_nothing_of_another_unit(xiluoyuan_handler, orders):
    xiluoyuan, haidian = orders
    assert numbers(xiluoyuan_handler, "洋桥") == [xiluoyuan.number]
    assert numbers(xiluoyuan_handler, "噪音扰民") == []
    assert numbers(xiluoyuan_handler, haidian.number) == []
    assert numbers(xiluoyuan_handler, "13900001111") == []
    assert not PersonalDataAccess.objects.exists()  # nothing seen, nothing logged


def test_a_street_users_phone_search_is_logged_and_needs_seven_digits(xiluoyuan_handler, orders):
    xiluoyuan, _haidian = orders
    assert numbers(xiluoyuan_handler, "2345") == []  # a few digits: order numbers only
    assert not PersonalDataAccess.objects.exists()
    assert numbers(xiluoyuan_handler, "13811012345") == [xiluoyuan.number]
    logged = PersonalDataAccess.objects.get()
    assert (logged.user, logged.call_id, logged.field) == (xiluoyuan_handler, xiluoyuan.call_id, "caller_phone_search")


def test_the_district_sees_its_district_only(fengtai_manager, haidian_manager, orders):
    xiluoyuan, haidian = orders
    assert numbers(fengtai_manager, "小区") in ([xiluoyuan.number], [])  # 洋桥北里 has no 小区
    assert numbers(fengtai_manager, "噪音扰民") == []
    assert numbers(haidian_manager, "噪音扰民") == [haidian.number]


@pytest.mark.parametrize("role", ["agent", "city_admin", "xiluoyuan_handler", "fengtai_manager", "water_dept_handler"])
@pytest.mark.parametrize("q", ["", "洋", "x" * 5000, "   ", "%", "_%_"])
def test_bad_queries_answer_200(client, request, role, q, orders):
    user = request.getfixturevalue(role)
    assert client.login(username=user.username, password=PASSWORD)
    resp = client.post(reverse("search"), {"q": q})
    assert resp.status_code == 200
    api = client_for(user).post("/api/v1/search/", {"q": q}, format="json")
    assert api.status_code == 200


def test_percent_and_underscore_are_literal(agent, orders):
    assert numbers(agent, "%%%") == []
    assert numbers(agent, "___") == []


def test_the_page_lists_results_with_links_and_says_when_cut_off(client, agent, orders, monkeypatch):
    from hotline.search import selectors

    monkeypatch.setattr(selectors, "LIMIT", 1)
    assert client.login(username=agent.username, password=PASSWORD)
    page = client.post(reverse("search"), {"q": "电梯故障"}).content.decode()
    assert 'data-testid="search-cut-off"' in page
    assert page.count('data-testid="search-result"') == 1
    assert 'data-testid="order-link"' in page
    empty = client.post(reverse("search"), {"q": "x"}).content.decode()
    assert 'data-testid="search-message"' in empty


def test_every_page_has_the_search_box(client, xiluoyuan_handler):
    assert client.login(username=xiluoyuan_handler.username, password=PASSWORD)
    assert 'data-testid="topsearch"' in client.get(reverse("order-inbox")).content.decode()


@pytest.mark.parametrize("role", ["agent", "xiluoyuan_handler"])
@pytest.mark.parametrize("q", ["\x00\x00", "洋\x00桥"])
def test_a_nul_byte_is_refused_at_the_edge_with_a_clear_message(client, request, role, q, orders):
    # NUL bytes are refused for every endpoint by the one edge layer (hotline/web/edge.py): a 400
    # that says why, never a 5xx, and nothing searched or logged.
    user = request.getfixturevalue(role)
    assert client.login(username=user.username, password=PASSWORD)
    resp = client.post(reverse("search"), {"q": q})
    assert resp.status_code == 400 and "不允许的字符" in resp.content.decode()
    api = client_for(user).post("/api/v1/search/", {"q": q}, format="json")
    assert api.status_code == 400 and "不允许的字符" in json.dumps(api.json(), ensure_ascii=False)
    assert not PersonalDataAccess.objects.exists()
