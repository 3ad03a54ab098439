"""Category suggestions learned from the center's history and the admin's keywords."""

import pytest

from hotline.intake import suggest
from hotline.intake.services import call_intake
from hotline.models import Category
from tests.intake.conftest import intake_data
from tests.intake.test_intake_api import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_model():
    suggest.clear_cache()
    yield
    suggest.clear_cache()


def codes(text):
    return [s.code for s in suggest.suggest_categories(text)[0]]


def test_it_learns_the_final_categories_of_past_orders(agent):
    # given: the center files "单元门禁坏了" under 公共设施维修 (010105), words the tree does not have
    for i in range(4):
        call_intake(
            acting_user=agent,
            data=intake_data(category="010105", description=f"单元门禁坏了，刷卡进不去 {i}", phone=f"1391234567{i}"),
        )
    suggest.clear_cache()
    # then
    assert codes("我们楼的门禁又坏了")[0] == "010105"


def test_keywords_from_the_admin_count_at_once():
    assert "090101" not in codes("老板跑路了，三个月没发钱")
    category = Category.objects.get(code="090101")  # 拖欠工资
    category.keywords = "没发钱，老板跑路"
    category.save()
    assert codes("老板跑路了，三个月没发钱")[0] == "090101"


def test_three_suggestions_from_the_tree_alone():
    found = codes("小区电梯坏了，困住了人")
    assert len(found) == 3 and "010101" in found  # 电梯困人


@pytest.mark.parametrize("text", ["", "a", "   ", "1234567", "x" * 10000])
def test_odd_text_gives_no_error(agent, text):
    resp = client_for(agent).post("/api/v1/intake/category-suggestions/", {"text": text}, format="json")
    assert resp.status_code == 200


def test_a_nul_byte_is_refused_at_the_edge(agent):
    resp = client_for(agent).post("/api/v1/intake/category-suggestions/", {"text": "\x00\x00"}, format="json")
    assert resp.status_code == 400


def test_the_api_answers_agents_only(agent, xiluoyuan_handler):
    ok = client_for(agent).post("/api/v1/intake/category-suggestions/", {"text": "暖气不热，家里很冷"}, format="json")
    assert ok.status_code == 200 and len(ok.json()["suggestions"]) == 3
    assert ok.json()["suggestions"][0]["path"]
    refused = client_for(xiluoyuan_handler).post(
        "/api/v1/intake/category-suggestions/", {"text": "暖气不热"}, format="json"
    )
    assert refused.status_code == 403
