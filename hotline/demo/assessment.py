"""Demo history for the assessment: six months of called-back orders in every street of 丰台 and
a few streets of every other district, some open and overdue orders, a surge in progress, the
snapshots (past months frozen, this month provisional), yesterday's reports and a 每月一题 — so the
demo district manager (`fengtai`) sees rankings, trends and charts right after `make run`.

Idempotent: the orders carry numbers starting with "AS"; if any exist, the orders are not made
again (snapshots, alerts and reports are idempotent by themselves)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.db import transaction

from assessment import facts, periods, rulesets
from assessment.governance import services as governance
from assessment.models import MonthlyTopic, Snapshot
from assessment.snapshots import selectors, services
from districts.models import Division, Unit
from hotline.models import Call, Category, User
from workorders.models import OrderState, UrgencyTier, WorkOrder

MARKER = "AS"
MONTHS = 6
FENGTAI = "110106"
OTHER_STREETS_PER_DISTRICT = 3


def _categories() -> list[Category]:
    leaves = list(Category.objects.filter(level=3, is_active=True).order_by("code")[:12])
    if leaves:
        return leaves
    names = ["噪声扰民", "占道经营", "供暖问题", "电梯故障", "垃圾清运", "违章建筑", "停车管理", "下水道堵塞"]
    return [
        Category.objects.get_or_create(code=f"AS-{i:02d}", defaults={"name": n, "level": 3})[0]
        for i, n in enumerate(names)
    ]


def _streets() -> list[Unit]:
    fengtai = list(
        Unit.objects.filter(kind=Unit.Kind.STREET, district__code=FENGTAI)
        .exclude(division__kind=Division.Kind.SPECIAL_ZONE)
        .select_related("division", "district")
        .order_by("code")
    )
    others = []
    for district in Division.objects.filter(level=Division.Level.DISTRICT).exclude(code=FENGTAI).order_by("code"):
        others += list(
            Unit.objects.filter(kind=Unit.Kind.STREET, district=district)
            .exclude(division__kind=Division.Kind.SPECIAL_ZONE)
            .select_related("division", "district")
            .order_by("code")[:OTHER_STREETS_PER_DISTRICT]
        )
    return fengtai + others


def _make_orders(*, now: datetime) -> int:
    rng = random.Random(12345)
    categories = _categories()
    tier = UrgencyTier.objects.order_by("sort").last() or UrgencyTier.objects.first()
    agent = User.objects.filter(username="agent").first()
    ruleset = rulesets.ruleset_active()
    current = periods.period_of(now, ruleset.period_start_day)
    streets = _streets()
    communities: dict[int, list[int]] = {}
    for cid, parent in Division.objects.filter(
        parent_id__in=[u.division_id for u in streets], level=Division.Level.COMMUNITY
    ).values_list("id", "parent_id"):
        communities.setdefault(parent, []).append(cid)
    types = ["complaint"] * 5 + ["help"] * 3 + ["consultation", "report", "suggestion"]
    calls, orders = [], []
    seq = 0
    for unit in streets:
        # Each street has a level of its own (spread across streets, ~97% on average) and a drift.
        quality = rng.uniform(0.9, 0.995)
        drift = rng.uniform(-0.01, 0.01)
        per_month = rng.randint(14, 26) if unit.district.code == FENGTAI else rng.randint(8, 14)
        for m in range(MONTHS - 1, -1, -1):
            label = periods.shift(current, -m)
            start, end = periods.bounds(label, ruleset.period_start_day)
            end = min(end, now - timedelta(hours=2))
            if end <= start + timedelta(days=1):
                continue
            q = min(0.999, max(0.8, quality + drift * (MONTHS - m)))
            for _i in range(per_month):
                seq += 1
                callback_at = start + (end - start) * rng.random()
                dispatched = callback_at - timedelta(days=rng.uniform(1, 8))
                dispatched = dispatched.replace(hour=rng.choice([8, 9, 9, 10, 10, 11, 14, 15, 16, 19, 21]))
                responded = dispatched + timedelta(hours=rng.choice([0.3, 0.5, 1, 1.5, 3, 6, 20, 30, 80]))
                solved = "resolved" if rng.random() < q else rng.choice(["partly", "unresolved"])
                roll = rng.random()
                satisfaction = "satisfied" if roll < q - 0.02 else ("basic" if roll < q + 0.015 else "unsatisfied")
                category = rng.choice(categories)
                community = rng.choice(communities.get(unit.division_id, [None]))
                calls.append(
                    Call(
                        caller_phone=f"139{rng.randint(0, 99_999_999):08d}",
                        request_type=rng.choice(types),
                        description=f"{category.name}（演示）",
                        address=f"{unit.division.name}演示地址{seq % 97 + 1}号",
                        street_id=unit.division_id,
                        district_id=unit.district_id,
                        community_id=community,
                        category=category,
                        received_at=dispatched - timedelta(minutes=4),
                        outcome=Call.Outcome.ORDER,
                        agent=agent,
                    )
                )
                orders.append(
                    WorkOrder(
                        number=f"{MARKER}{seq:010d}",
                        category=category,
                        request_type=calls[-1].request_type,
                        tier=tier,
                        title=f"{category.name}（演示）",
                        address=calls[-1].address,
                        community_id=community,
                        street_id=unit.division_id,
                        district_id=unit.district_id,
                        lead_unit=unit,
                        state=OrderState.COMPLETED,
                        dispatched_at=dispatched,
                        signed_at=dispatched + timedelta(minutes=10),
                        responded_at=responded,
                        closed_at=callback_at - timedelta(hours=6),
                        completed_at=callback_at,
                        response_deadline=dispatched + timedelta(days=1),
                        resolution_deadline=dispatched + timedelta(days=10),
                        result=solved,
                        responded_in_time=responded <= dispatched + timedelta(days=1),
                        callback_valid=True,
                        callback_at=callback_at,
                        contacted=rng.random() < 0.985,
                        solved=solved,
                        satisfaction=satisfaction,
                        excluded=rng.random() < 0.01,
                        assessed_unit=unit,
                    )
                )
        # A few open orders this month, some past their deadline, for the load chart.
        if unit.district.code == FENGTAI:
            for _i in range(rng.randint(2, 6)):
                seq += 1
                dispatched = now - timedelta(days=rng.uniform(0.2, 12))
                category = rng.choice(categories)
                calls.append(
                    Call(
                        caller_phone=f"138{rng.randint(0, 99_999_999):08d}",
                        request_type="complaint",
                        description=f"{category.name}（演示，办理中）",
                        address=f"{unit.division.name}演示地址{seq % 97 + 1}号",
                        street_id=unit.division_id,
                        district_id=unit.district_id,
                        category=category,
                        received_at=dispatched - timedelta(minutes=4),
                        outcome=Call.Outcome.ORDER,
                        agent=agent,
                    )
                )
                orders.append(
                    WorkOrder(
                        number=f"{MARKER}{seq:010d}",
                        category=category,
                        request_type="complaint",
                        tier=tier,
                        title=f"{category.name}（演示，办理中）",
                        address=calls[-1].address,
                        street_id=unit.division_id,
                        district_id=unit.district_id,
                        lead_unit=unit,
                        state=rng.choice([OrderState.DISPATCHED, OrderState.SIGNED, OrderState.SIGNED]),
                        duplicate_count=rng.choice([0, 0, 0, 0, 2, 3, 5]),  # repeat calls linked to it
                        dispatched_at=dispatched,
                        response_deadline=dispatched + timedelta(days=1),
                        resolution_deadline=dispatched + timedelta(days=7),
                    )
                )
    Call.objects.bulk_create(calls, batch_size=1000)
    for call, order in zip(calls, orders, strict=True):
        order.call_id = call.pk
    WorkOrder.objects.bulk_create(orders, batch_size=1000)
    facts.backfill()  # the assessment facts the callback / exclusion transitions would have written
    return len(orders)


def _surge(*, now: datetime) -> int:
    """Seven calls about one problem in one community in the last 40 minutes (爆单 in progress)."""
    street = Division.objects.get(code="110106003")  # 西罗园街道
    community = Division.objects.filter(parent=street, level=Division.Level.COMMUNITY).order_by("code").first()
    category = _categories()[0]
    if Call.objects.filter(description__startswith="【演示爆单】").exists():
        return 0
    Call.objects.bulk_create(
        [
            Call(
                caller_phone=f"1360000{min(i, 3):04d}",  # the last four from one caller (a repeat caller)
                request_type="complaint",
                description=f"【演示爆单】{category.name}，第{i + 1}位来电",
                address=f"{street.name}{community.name if community else ''}",
                street=street,
                district_id=street.district_id,
                community=community,
                category=category,
                received_at=now - timedelta(minutes=40 - 5 * i),
                outcome=Call.Outcome.DUPLICATE,
            )
            for i in range(7)
        ]
    )
    return 7


def setup(*, now: datetime) -> dict[str, int]:
    created = {"assessment_orders": 0, "assessment_snapshots": 0, "surge_calls": 0, "alerts": 0, "reports": 0}
    with transaction.atomic():
        if not WorkOrder.objects.filter(number__startswith=MARKER).exists():
            created["assessment_orders"] = _make_orders(now=now)
        created["surge_calls"] = _surge(now=now)
    ruleset = rulesets.ruleset_active()
    current = periods.period_of(now, ruleset.period_start_day)
    for m in range(MONTHS - 1, 0, -1):
        label = periods.shift(current, -m)
        if not Snapshot.objects.filter(period=label, kind=Snapshot.Kind.FROZEN).exists():
            services.snapshot_freeze(period=label, now=now)
            created["assessment_snapshots"] += 1
    # This month's provisional figures (beat refreshes them daily; a second demo run leaves them).
    if selectors.published_snapshot(current) is None and services.snapshot_compute_provisional(period=current, now=now):
        created["assessment_snapshots"] += 1
    created["alerts"] = len(governance.surge_detect(now=now))
    before = governance.Report.objects.count()
    governance.reports_generate_due(now=now)
    created["reports"] = governance.Report.objects.count() - before
    city = User.objects.filter(username="city").first()
    topic_category = _categories()[1]
    if city and not MonthlyTopic.objects.filter(period=current, category=topic_category).exists():
        governance.topic_create(
            acting_user=city,
            period=current,
            category_id=topic_category.pk,
            title=f"{topic_category.name}专项治理",
            note="演示：从高频问题中选题",
        )
    assert selectors.published_snapshot(current) is not None
    return created
