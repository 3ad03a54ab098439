"""Time address routing (districts.routing.route_address) over a varied list of Beijing addresses.

Runs against whatever DATABASE_URL points at (default: the SQLite file under var/), which must hold
the divisions: `.venv/bin/python manage.py load_divisions` first.

    .venv/bin/python bench/bench_routing.py [--n 2000] [--seed 12345]
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402

from districts import routing  # noqa: E402
from districts.models import Alias, Division  # noqa: E402

COMPLAINTS = [
    "楼道灯不亮",
    "小区门口占道经营，噪音扰民",
    "暖气不热，室温只有十五度",
    "自来水停水两天了没人管",
    "物业不作为，垃圾清运不及时",
    "楼上漏水，物业推诿",
    "路面塌陷存在安全隐患",
    "夜间施工扰民",
    "共享单车乱停放堵塞消防通道",
    "电梯停运老人无法下楼",
]
NOISE = [
    "请尽快处理谢谢",
    "来电人要求回电，不愿透露姓名",
    "咨询社保卡补办流程",
    "反映公交车司机态度差",
    "我要投诉一个商家虚假宣传",
    "asdf 1234",
    "喂喂听得到吗",
    "张先生反映手机信号差",
    "１２３４５６",
    "我不知道在哪",
]


def addresses(count: int, rng: random.Random) -> list[tuple[str, str | None]]:
    """(text, code of the street it was built from, or None for noise)."""
    rows = list(
        Division.objects.filter(level=Division.Level.COMMUNITY)
        .select_related("parent", "district")
        .values_list(
            "name",
            "core_name",
            "parent__code",
            "parent__name",
            "parent__core_name",
            "district__name",
            "district__core_name",
        )
    )
    aliases = list(
        Alias.objects.select_related("division").values_list(
            "name", "division__code", "division__parent__code", "division__level"
        )
    )
    out: list[tuple[str, str | None]] = []
    while len(out) < count:
        roll = rng.random()
        if roll < 0.1:
            out.append((rng.choice(NOISE), None))
            continue
        name, core, street_code, street, street_core, district, district_core = rng.choice(rows)
        n, unit = rng.randint(1, 40), rng.randint(1, 6)
        complaint = rng.choice(COMPLAINTS)
        if aliases and roll < 0.15:
            alias, code, parent_code, level = rng.choice(aliases)
            street_of = code if level == Division.Level.STREET else parent_code
            out.append((f"{alias}{n}号楼{complaint}", street_of))
            continue
        text = rng.choice(
            [
                f"北京市{district}{street}{name}{n}号楼{unit}单元",
                f"{district}{core}{n}号楼，{complaint}",
                f"{district_core}{core}{n}号院",
                f"{street_core}{core}{n}号 {complaint}",
                f"{core}附近{complaint}",
                f"来电人称住在{district}{street_core}，{complaint}，请{street}尽快处理",
                f"{district}{street}{core}小区东门外{n}米",
            ]
        )
        out.append((text, street_code))
    return out


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="number of lookups (default 2000)")
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()

    divisions = Division.objects.count()
    if not Division.objects.filter(level=Division.Level.COMMUNITY).exists():
        sys.exit("No divisions loaded: run `.venv/bin/python manage.py load_divisions` first.")
    samples = addresses(args.n, random.Random(args.seed))

    build_seconds = routing.warm_up()
    keys = len(routing._cache.get().keys)
    started = time.perf_counter()
    routing._stamp()
    stamp_ms = (time.perf_counter() - started) * 1000

    timings, found, placed, empty_noise, noise = [], 0, 0, 0, 0
    for text, expected in samples:
        started = time.perf_counter()
        candidates = routing.route_address(text)
        timings.append((time.perf_counter() - started) * 1000)
        if expected is None:
            noise += 1
            empty_noise += not candidates
        else:
            placed += 1
            found += expected in [c.street_code for c in candidates]
    timings.sort()

    print(f"database: {connection.vendor}, {divisions} divisions, {Alias.objects.count()} aliases")
    print(f"index build: {build_seconds * 1000:.1f} ms ({keys} keys); stamp check: {stamp_ms:.2f} ms")
    print(f"lookups: {len(timings)}  total {sum(timings):.1f} ms")
    print(
        f"per lookup ms: p50 {percentile(timings, 0.50):.3f}  p95 {percentile(timings, 0.95):.3f}  "
        f"p99 {percentile(timings, 0.99):.3f}  max {timings[-1]:.3f}  mean {statistics.mean(timings):.3f}"
    )
    print(
        f"built from a place: expected street among candidates {found}/{placed} ({100 * found / max(placed, 1):.1f}%)"
    )
    print(f"pure noise: no candidate {empty_noise}/{noise}")


if __name__ == "__main__":
    main()
