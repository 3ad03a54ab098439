import csv

import pytest
from django.core.management import call_command

from districts.loader import DEFAULT_SOURCE, community_core_and_kind, load_divisions, street_core_and_kind
from districts.models import Division, Unit

pytestmark = pytest.mark.django_db


def _csv_rows(name):
    with (DEFAULT_SOURCE / name).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_it_has_all_16_districts_of_beijing():
    districts = Division.objects.filter(level=Division.Level.DISTRICT)
    assert districts.count() == 16
    assert set(districts.values_list("code", flat=True)) >= {"110101", "110105", "110106", "110108", "110119"}
    assert districts.get(code="110101").name == "东城区"
    assert districts.get(code="110119").name == "延庆区"


def test_it_has_all_343_streets_and_townships_plus_special_zones():
    streets = Division.objects.filter(level=Division.Level.STREET)
    ranked = streets.exclude(kind=Division.Kind.SPECIAL_ZONE)
    assert ranked.count() == 343
    special = set(streets.filter(kind=Division.Kind.SPECIAL_ZONE).values_list("name", flat=True))
    assert "北京经济技术开发区" in special and "大兴国际机场" in special
    assert len(special) == 6
    assert all(len(code) == 9 for code in streets.values_list("code", flat=True))


def test_it_has_every_community_and_village_with_its_12_digit_code():
    expected = {row["code"]: row["name"] for row in _csv_rows("villages.csv")}
    assert len(expected) > 7000
    loaded = dict(Division.objects.filter(level=Division.Level.COMMUNITY).values_list("code", "name"))
    assert loaded == expected
    assert not Division.objects.filter(level=Division.Level.COMMUNITY, parent__level__isnull=True).exists()
    # every community hangs under the street its code starts with, in that street's district
    sample = Division.objects.select_related("parent", "district").get(code="110106003005")
    assert sample.parent.code == "110106003" and sample.district.code == "110106"


def test_it_classifies_name_drift_suffixes():
    assert street_core_and_kind("天竺地区") == ("天竺", Division.Kind.AREA)
    assert street_core_and_kind("南苑街道") == ("南苑", Division.Kind.SUBDISTRICT)
    assert street_core_and_kind("于家务回族乡") == ("于家务", Division.Kind.TOWNSHIP)
    assert street_core_and_kind("北京经济技术开发区")[1] == Division.Kind.SPECIAL_ZONE
    assert community_core_and_kind("多福巷社区居委会") == ("多福巷", Division.Kind.COMMUNITY)
    assert community_core_and_kind("马家堡村委会") == ("马家堡", Division.Kind.VILLAGE)


def test_it_gives_every_district_and_street_an_office_unit():
    assert Unit.objects.filter(kind=Unit.Kind.DISTRICT).count() == 16
    assert Unit.objects.filter(kind=Unit.Kind.STREET).count() == 349
    xiluoyuan = Unit.objects.get(code="110106003")
    assert xiluoyuan.name == "西罗园街道" and xiluoyuan.district.code == "110106"


def test_it_has_city_and_district_departments():
    assert Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, district__isnull=True, name="北京市自来水集团").exists()
    assert Unit.objects.get(code="110106-water").name == "丰台区水务局"
    per_district = Unit.objects.filter(kind=Unit.Kind.DEPARTMENT, district__code="110108").count()
    assert per_district >= 10


def test_loading_twice_duplicates_nothing_and_changes_nothing():
    # given
    before = (Division.objects.count(), Unit.objects.count())
    # when
    report = load_divisions()
    call_command("load_divisions", verbosity=0, stdout=open("/dev/null", "w"))
    # then
    assert (report.created, report.updated, report.units_created) == (0, 0, 0)
    assert (Division.objects.count(), Unit.objects.count()) == before


def test_it_updates_a_renamed_division_and_its_unit(tmp_path):
    # given: a copy of the source where 花乡街道 is still called 花乡 (township)
    for name in ("provinces", "cities", "areas", "villages"):
        (tmp_path / f"{name}.csv").write_text((DEFAULT_SOURCE / f"{name}.csv").read_text("utf-8"), "utf-8")
    streets = (DEFAULT_SOURCE / "streets.csv").read_text("utf-8").replace('"花乡街道"', '"花乡"')
    (tmp_path / "streets.csv").write_text(streets, "utf-8")
    # when
    report = load_divisions(source=tmp_path)
    # then
    huaxiang = Division.objects.get(code="110106018")
    assert huaxiang.name == "花乡" and huaxiang.kind == Division.Kind.TOWNSHIP
    assert huaxiang.unit.name == "花乡"
    assert report.updated == 1 and report.created == 0


def test_it_loads_another_province_from_the_same_csv_layout(tmp_path):
    # given: a province in the package's layout (prefecture cities, not a municipality)
    (tmp_path / "provinces.csv").write_text('code,name\n44,"广东省"\n', "utf-8")
    (tmp_path / "cities.csv").write_text('code,name,provinceCode\n4401,"广州市",44\n', "utf-8")
    (tmp_path / "areas.csv").write_text('code,name,cityCode,provinceCode\n440103,"荔湾区",4401,44\n', "utf-8")
    (tmp_path / "streets.csv").write_text(
        'code,name,areaCode,provinceCode,cityCode\n440103001,"沙面街道",440103,44,4401\n', "utf-8"
    )
    (tmp_path / "villages.csv").write_text(
        'code,name,streetCode,provinceCode,cityCode,areaCode\n440103001001,"沙面社区居委会",440103001,44,4401,440103\n',
        "utf-8",
    )
    # when
    call_command("load_divisions", source=tmp_path, province="44", verbosity=0, stdout=open("/dev/null", "w"))
    # then
    community = Division.objects.select_related("parent__parent__parent").get(code="440103001001")
    assert community.parent.name == "沙面街道"
    assert community.parent.parent.name == "荔湾区"
    assert community.parent.parent.parent.name == "广州市"
    assert Division.objects.filter(level=Division.Level.STREET, code__startswith="11").count() == 349


def test_it_refuses_a_bad_province_code_and_writes_nothing():
    from django.core.management.base import CommandError

    before = Division.objects.count()
    with pytest.raises(CommandError):
        call_command("load_divisions", province="99", verbosity=0)
    assert Division.objects.count() == before
