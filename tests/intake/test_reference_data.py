import pytest
from django.urls import reverse

from hotline.intake.dispatch import dispatch_resolve
from hotline.intake.open311 import client_for_key
from hotline.models import ApiClient, Category, DispatchRule
from tests.factories import division, login_to_admin, unit

pytestmark = pytest.mark.django_db


def test_the_category_tree_has_three_levels_and_every_leaf_a_default_tier():
    leaves = Category.objects.filter(level=3)
    assert 60 <= leaves.count() <= 120
    assert not leaves.filter(default_tier__isnull=True).exists()
    assert not leaves.filter(parent__level__in=[1, 3]).exists()
    pipe = Category.objects.select_related("parent__parent").get(name="水管爆裂")
    assert pipe.path == "公共服务→供水→水管爆裂" and pipe.default_tier.code == "T2H"
    tops = set(Category.objects.filter(level=1).values_list("name", flat=True))
    assert {"城乡建设", "公共服务", "市场管理", "住房", "交通管理", "环境保护", "医疗卫生", "教育"} <= tops
    assert {"劳动和社会保障", "社会秩序", "疫情防控"} <= tops


def test_a_rule_saved_in_the_admin_takes_effect_at_once_in_this_process():
    # given: the catalogue is cached after a first resolution
    category = Category.objects.select_related("parent__parent").get(code="010102")
    street = division("110106003")
    assert dispatch_resolve(category=category, street=street).lead_unit.code == "110106003"
    # when
    DispatchRule.objects.create(
        category=category.parent, district=division("110106"), target="department", department_slug="housing"
    )
    # then
    assert dispatch_resolve(category=category, street=street).lead_unit.code == "110106-housing"
    # and elsewhere the city-wide default still holds
    assert dispatch_resolve(category=category, street=division("110108010")).lead_unit.code == "110108010"


def test_a_department_missing_in_the_district_falls_back_to_the_city_level_one():
    category = Category.objects.select_related("parent__parent").get(code="020302")  # 电线安全隐患 → power
    dispatch = dispatch_resolve(category=category, street=division("110106003"))
    assert dispatch.lead_unit.code == "11-power"
    assert [u.code for u in dispatch.co_units] == ["110106003"]


@pytest.mark.parametrize(
    "url",
    [
        "admin:hotline_category_changelist",
        "admin:hotline_dispatchrule_changelist",
        "admin:hotline_knowledgearticle_changelist",
        "admin:hotline_apiclient_changelist",
        "admin:hotline_dispatchrule_add",
    ],
)
def test_the_city_maintains_the_intake_reference_data_in_the_admin(client, city_admin, url):
    login_to_admin(client, city_admin)
    assert client.get(reverse(url)).status_code == 200


def test_an_agent_cannot_enter_the_admin(client, agent):
    client.force_login(agent)
    assert client.get(reverse("admin:hotline_dispatchrule_changelist")).status_code == 302


def test_an_api_key_issued_in_the_admin_is_shown_once_and_stored_hashed(client, city_admin, agent):
    # given
    login_to_admin(client, city_admin)
    # when
    resp = client.post(
        reverse("admin:hotline_apiclient_add"),
        {"name": "街道随手拍", "acting_user": agent.pk, "is_active": "on"},
        follow=True,
    )
    # then
    assert resp.status_code == 200
    message = next(str(m) for m in resp.context["messages"] if "o311_" in str(m))
    key = message.split("：")[-1].strip()
    api_client = ApiClient.objects.get()
    assert key not in (api_client.key_hash, api_client.key_prefix) and key.startswith(api_client.key_prefix)
    assert client_for_key(key) == api_client
    assert client_for_key(key + "x") is None


def test_a_dispatch_rule_with_a_department_target_needs_its_kind(client, city_admin):
    login_to_admin(client, city_admin)
    category = Category.objects.get(code="010102")
    resp = client.post(
        reverse("admin:hotline_dispatchrule_add"),
        {"category": category.pk, "target": "department", "department_slug": "", "priority": 0, "is_active": "on"},
    )
    assert resp.status_code == 200 and "主办为部门时必须填写部门类别" in resp.content.decode()
    assert not DispatchRule.objects.filter(category=category).exists()
    assert unit("110106-water")  # reference data untouched
