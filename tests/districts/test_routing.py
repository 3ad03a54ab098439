import time

import pytest
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIRequestFactory, force_authenticate

from districts import routing
from districts.models import Alias, Division
from districts.routing import route_address
from districts.routing_api import RouteView

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_index():
    # Each test runs in a transaction that is rolled back, which sends no signal: start and end
    # every test with an index built from what the test can see.
    routing.invalidate()
    yield
    routing.invalidate()


def street(name: str, district_code: str) -> Division:
    return Division.objects.get(level=Division.Level.STREET, name=name, district__code=district_code)


def codes(candidates) -> list[str]:
    return [c.street_code for c in candidates]


def test_it_routes_a_community_address_to_its_street():
    # given: 洋桥北里社区 is a community of 丰台's 西罗园街道
    community = Division.objects.get(level=Division.Level.COMMUNITY, core_name="洋桥北里")
    assert community.parent.name == "西罗园街道" and community.district.code == "110106"
    # when
    candidates = route_address("丰台区洋桥北里12号楼")
    # then
    first = candidates[0]
    assert (first.street_code, first.street_name) == (community.parent.code, "西罗园街道")
    assert (first.district_code, first.district_name) == ("110106", "丰台区")
    assert "洋桥北里" in first.reason and first.matched == "洋桥北里"
    assert all(c.district_code == "110106" for c in candidates)


@pytest.mark.parametrize("text", ["天竺镇府前街", "天竺地区", "顺义天竺"])
def test_it_matches_a_township_whatever_its_suffix(text):
    tianzhu = street("天竺地区", "110113")

    candidates = route_address(text)

    assert candidates[0].street_code == tianzhu.code
    assert candidates[0].district_name == "顺义区"
    assert "天竺" in candidates[0].reason


def test_it_matches_a_former_township_name_to_todays_street():
    nanyuan = street("南苑街道", "110106")

    candidates = route_address("南苑乡")

    assert codes(candidates) == [nanyuan.code]
    assert candidates[0].matched == "南苑乡"


def test_it_matches_a_street_named_without_suffixes():
    xiluoyuan = street("西罗园街道", "110106")

    candidates = route_address("丰台西罗园")

    assert codes(candidates) == [xiluoyuan.code]
    assert "区名“丰台”" in candidates[0].reason


def test_it_returns_every_place_sharing_a_name_when_the_district_is_not_said():
    # given: 马家堡 is a street of 丰台 and a village of a 顺义 township
    majiabao = street("马家堡街道", "110106")
    village = Division.objects.get(level=Division.Level.COMMUNITY, core_name="马家堡", district__code="110113")
    # when
    candidates = route_address("马家堡")
    # then
    assert set(codes(candidates)) >= {majiabao.code, village.parent.code}
    by_code = {c.street_code: c for c in candidates}
    assert by_code[majiabao.code].district_name == "丰台区"
    assert by_code[village.parent.code].district_name == "顺义区"
    assert village.name in by_code[village.parent.code].reason


def test_it_keeps_only_the_given_district():
    majiabao = street("马家堡街道", "110106")

    candidates = route_address("马家堡", district_code="110106")

    assert codes(candidates) == [majiabao.code]


def test_it_keeps_only_the_district_named_in_the_text():
    majiabao = street("马家堡街道", "110106")

    assert codes(route_address("丰台区马家堡")) == [majiabao.code]
    assert all(c.district_code == "110113" for c in route_address("顺义马家堡"))


def test_it_prefers_the_longer_explicit_name():
    # 马家堡村 names the village, not 丰台's street
    village = Division.objects.get(level=Division.Level.COMMUNITY, core_name="马家堡", district__code="110113")

    candidates = route_address("马家堡村")

    assert codes(candidates)[0] == village.parent.code


def test_a_generic_two_character_name_counts_only_in_the_district_named():
    # 西营 (a direction plus 营) is a village in six districts, 昌平 among them
    xiying = Division.objects.get(level=Division.Level.COMMUNITY, core_name="西营", district__code="110114")

    assert route_address("西营29号楼") == []
    assert codes(route_address("昌平区西营29号楼")) == [xiying.parent.code]


def test_a_short_name_shared_by_a_street_and_a_community_returns_both():
    # given: 东升 is 海淀's 东升地区 and a 密云 neighbourhood committee
    donsheng = street("东升地区", "110108")
    committee = Division.objects.get(level=Division.Level.COMMUNITY, core_name="东升")
    # when
    candidates = route_address("东升")
    # then
    assert codes(candidates) == [donsheng.code, committee.parent.code]


def test_weak_matches_elsewhere_in_the_text_are_dropped():
    # 府前 is a 平谷 community; next to 天竺镇 it is just 府前街
    assert Division.objects.filter(level=Division.Level.COMMUNITY, core_name="府前").exists()

    assert codes(route_address("天竺镇府前街")) == [street("天竺地区", "110113").code]


def test_it_says_when_the_district_in_the_text_does_not_fit():
    candidates = route_address("怀柔区马家堡")

    assert {c.district_code for c in candidates} == {"110106", "110113"}
    assert all("注意：地址写的是“怀柔区”" in c.reason for c in candidates)


def test_a_street_and_a_community_that_agree_outrank_either_alone():
    together = route_address("西罗园街道洋桥北里")
    street_only = route_address("西罗园街道")
    community_only = route_address("洋桥北里")

    assert together[0].street_name == "西罗园街道"
    assert together[0].score > street_only[0].score
    assert together[0].score > community_only[0].score
    assert "洋桥北里" in together[0].reason


def test_it_uses_an_alias_created_after_the_index_was_built():
    # given: the index is built, and 玉林小区 is not an official name
    youanmen = Division.objects.get(code="110106001")
    assert youanmen.name == "右安门街道"
    assert youanmen.code not in codes(route_address("玉林小区3号楼"))
    # when
    Alias.objects.create(name="玉林小区", kind=Alias.Kind.COMPOUND, division=youanmen)
    candidates = route_address("玉林小区3号楼")
    # then
    assert candidates[0].street_code == "110106001"
    assert candidates[0].reason == "别名“玉林小区”（小区）→ 右安门街道"
    assert candidates[0].matched == "玉林小区"


def test_an_alias_of_a_community_routes_to_its_street():
    community = Division.objects.get(code="110106003005")  # 洋桥北里社区, 西罗园街道
    Alias.objects.create(name="马家堡西路洋桥小区", kind=Alias.Kind.COMPOUND, division=community)

    candidates = route_address("马家堡西路洋桥小区2号楼")

    assert candidates[0].street_code == "110106003"
    assert candidates[0].reason.startswith(f"别名“马家堡西路洋桥小区”（小区）→ {community.name} → 西罗园街道")


def test_it_forgets_a_deleted_alias():
    alias = Alias.objects.create(
        name="玉林小区", kind=Alias.Kind.COMPOUND, division_id=street("右安门街道", "110106").id
    )
    assert route_address("玉林小区")

    alias.delete()

    assert route_address("玉林小区") == []


def test_it_sees_aliases_written_without_signals_once_the_stamp_is_checked(monkeypatch):
    # given: an index built, then an alias written by another process (no signal here)
    route_address("玉林小区")
    Alias.objects.bulk_create(
        [Alias(name="玉林小区", kind=Alias.Kind.COMPOUND, division=street("右安门街道", "110106"))]
    )
    assert route_address("玉林小区") == []  # not checked yet: within STAMP_CHECK_SECONDS
    # when: the check interval has passed
    monkeypatch.setattr(routing, "STAMP_CHECK_SECONDS", 0.0)
    # then
    assert route_address("玉林小区")[0].street_name == "右安门街道"


def test_it_sees_a_same_length_rename_made_elsewhere_once_the_stamp_is_checked(monkeypatch):
    # given: an alias the index knows
    alias = Alias.objects.create(name="玉林小区", kind=Alias.Kind.COMPOUND, division=street("右安门街道", "110106"))
    assert route_address("玉林小区")[0].street_name == "右安门街道"
    # when: another process renames it keeping length, first and last character (no signal here)
    from datetime import timedelta

    from django.utils import timezone

    Alias.objects.filter(pk=alias.pk).update(name="玉泉小区", updated_at=timezone.now() + timedelta(seconds=1))
    monkeypatch.setattr(routing, "STAMP_CHECK_SECONDS", 0.0)
    # then: the old name is gone and the new one routes
    assert route_address("玉林小区") == []
    assert route_address("玉泉小区")[0].street_name == "右安门街道"


@pytest.mark.parametrize("text", ["", "   ", "啊啊啊啊", "asdf 1234 !!!", "今天天气很好请尽快处理", "北京市", "丰台区"])
def test_it_returns_nothing_for_text_without_a_place(text):
    assert route_address(text) == []


def test_it_ignores_one_character_core_names():
    # 张镇's core name is 张: a surname, not a place
    assert Division.objects.filter(level=Division.Level.STREET, name="张镇").exists()

    assert route_address("张先生反映楼道灯坏了") == []


def test_it_ignores_an_unknown_district_code():
    assert route_address("马家堡", district_code="999999") == []


def test_it_honours_the_limit():
    assert len(route_address("马家堡", limit=1)) == 1


def test_a_lookup_takes_well_under_50_ms():
    route_address("预热")
    started = time.perf_counter()
    for _ in range(100):
        route_address("北京市丰台区右安门街道玉林西里社区12号楼3单元楼道灯不亮，物业不管")
    assert (time.perf_counter() - started) / 100 < 0.05


# --- API ----------------------------------------------------------------------------------------

factory = APIRequestFactory()


def call(user, **params):
    request = factory.get("/api/v1/route/", params)
    if user is not None:
        force_authenticate(request, user=user)
    return RouteView.as_view()(request)


def test_it_answers_any_signed_in_user(agent, xiluoyuan_handler):
    for user in (agent, xiluoyuan_handler):
        response = call(user, q="丰台区洋桥北里12号楼")

        assert response.status_code == 200
        assert response.data["query"] == "丰台区洋桥北里12号楼"
        first = response.data["candidates"][0]
        assert first["street_name"] == "西罗园街道" and first["district_code"] == "110106"
        assert set(first) == {
            "street_id",
            "street_code",
            "street_name",
            "district_code",
            "district_name",
            "score",
            "reason",
            "matched",
        }


def test_it_filters_by_district(agent):
    response = call(agent, q="马家堡", district="110106")

    assert response.status_code == 200
    assert [c["district_code"] for c in response.data["candidates"]] == ["110106"]


def test_it_answers_an_empty_list_for_garbage(agent):
    response = call(agent, q="啊啊啊啊")

    assert response.status_code == 200
    assert response.data["candidates"] == []


@pytest.mark.parametrize("params", [{}, {"q": ""}, {"q": "   "}, {"q": "丰" * 201}])
def test_it_refuses_an_empty_or_too_long_query(agent, params):
    response = call(agent, **params)

    assert response.status_code == 400
    assert response.data["q"]


def test_it_says_why_in_chinese(agent):
    response = call(agent, q="")

    assert str(response.data["q"][0]) == "请输入要定位的地址。"


def test_it_refuses_an_unknown_district(agent):
    response = call(agent, q="马家堡", district="110199")

    assert response.status_code == 400
    assert response.data["district"]


def test_it_refuses_anonymous_users():
    response = call(None, q="丰台区洋桥北里12号楼")

    assert response.status_code in (401, 403)


def test_it_is_described_in_the_openapi_schema():
    generator = SchemaGenerator(patterns=[path("api/v1/route/", RouteView.as_view())])

    schema = generator.get_schema(request=None, public=True)

    operation = schema["paths"]["/api/v1/route/"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "district"}
    assert "200" in operation["responses"] and "400" in operation["responses"]
