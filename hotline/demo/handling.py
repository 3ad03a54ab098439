"""Demo orders for the handling capability (`manage.py setup_demo`, after the demo users and calls).

Idempotent: each demo order is found by its call's description before anything is created. One
order runs on a five-minute demo tier, so leaving `make run` going shows the sweep's warning and
then the overdue mark without anyone clicking.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from districts.models import Division, Section, Unit
from hotline.models import Call, Category, User
from workorders.lifecycle import assignments, creation, handling
from workorders.lifecycle.tiers import ensure_default_tiers
from workorders.models import UrgencyTier, WorkOrder

DEMO_TIER = dict(
    code="DEMO5M",
    name="演示（5分钟时限）",
    response_limit=2,
    response_unit=UrgencyTier.Unit.MINUTES,
    resolution_limit=5,
    resolution_unit=UrgencyTier.Unit.MINUTES,
    warn_ratio="0.50",
    sort=0,  # first in lists, so "the last tier" stays the seeded 15-day one
)

# (key, street code, lead unit code, tier code, stage, phone, address, description)
ORDERS = [
    (
        "short",
        "110106003",
        "110106003",
        "DEMO5M",
        "dispatched",
        "13811110001",
        "丰台区西罗园三区8号楼",
        "【演示】消防通道被私家车堵塞，请尽快处理（5分钟时限，用于观察预警和超期）。",
    ),
    (
        "to_sign",
        "110106003",
        "110106003",
        "T7D",
        "dispatched",
        "13811110002",
        "丰台区洋桥西里",
        "【演示】小区垃圾桶满溢多日无人清运，异味严重。",
    ),
    (
        "whistle",
        "110106003",
        "110106003",
        "T24H",
        "whistled",
        "13811110003",
        "丰台区西罗园二区",
        "【演示】小区主供水管破裂，整栋楼停水，需要水务部门抢修。",
    ),
    (
        "extension",
        "110106003",
        "110106003",
        "T7D",
        "extension",
        "13811110004",
        "丰台区西罗园一区",
        "【演示】楼顶防水层老化漏雨，需要维修资金审批。",
    ),
    (
        "parked",
        "110106003",
        "110106003",
        "T15D",
        "parked",
        "13811110005",
        "丰台区马家堡西路",
        "【演示】老旧小区雨污合流管道需整体改造。",
    ),
    (
        "closed",
        "110106003",
        "110106003",
        "T7D",
        "closed",
        "13811110006",
        "丰台区西罗园四区",
        "【演示】楼道声控灯损坏，晚上出入不便。",
    ),
    (
        "return",
        "110106001",
        "110106001",
        "T7D",
        "return",
        "13811110007",
        "丰台区右安门外大街99号",
        "【演示】工地夜间施工扰民（地址实际属于西罗园街道）。",
    ),
    (
        "section",
        "110106003",
        "110106003",
        "T7D",
        "assigned_section",
        "13811110009",
        "丰台区西罗园南路12号",
        "【演示】商户占道经营，门前堆放杂物（已内部派发城管办办理）。",
    ),
    (
        "community",
        "110106003",
        "110106003",
        "T7D",
        "proposed_community",
        "13811110010",
        "丰台区洋桥北里5号楼",
        "【演示】楼道堆放杂物存在消防隐患（社区居委会已办理，拟办结待中心审核）。",
    ),
    (
        "water",
        "110106003",
        "110106-water",
        "T24H",
        "dispatched",
        "13811110008",
        "丰台区西罗园南路",
        "【演示】市政供水管网压力不足，高层住户无水。",
    ),
]


def _ensure_tiers() -> None:
    """The demo tier, and the seeded ones if a test database was flushed of them."""

    ensure_default_tiers()
    UrgencyTier.objects.get_or_create(code=DEMO_TIER["code"], defaults=DEMO_TIER)


# The category each demo order is filed under (names from the seeded catalogue).
CATEGORY_OF = {
    "short": "消防通道占用",
    "to_sign": "垃圾清运",
    "whistle": "水管爆裂",
    "extension": "房屋漏雨",
    "parked": "改造施工",
    "closed": "公共设施维修",
    "return": "夜间施工扰民",
    "section": "占道经营",
    "community": "消防安全隐患",
    "water": "水压不足",
}


def _category(name: str | None = None) -> Category:
    cat = Category.objects.filter(is_active=True, level=3, name=name).first() if name else None
    cat = cat or Category.objects.filter(is_active=True, level=3).order_by("sort", "code").first()
    if cat is None:
        cat, _ = Category.objects.get_or_create(code="DEMO-CITY", defaults={"name": "城市管理", "level": 3})
    return cat


def setup(*, now=None) -> dict[str, int]:
    now = now or timezone.now()
    created = 0
    _ensure_tiers()
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["agent", "xiluoyuan", "youanmen", "fengtai", "fengtai-water"])
    }
    if len(users) < 5:
        return {"handling_orders": 0}
    agent, street, other, manager, water = (
        users["agent"],
        users["xiluoyuan"],
        users["youanmen"],
        users["fengtai"],
        users["fengtai-water"],
    )
    tiers = {t.code: t for t in UrgencyTier.objects.all()}
    for key, street_code, lead_code, tier_code, stage, phone, address, description in ORDERS:
        if Call.objects.filter(description=description).exists():
            continue
        with transaction.atomic():
            division = Division.objects.get(code=street_code)
            # The short one starts now; the others a few hours ago so their history reads naturally.
            at = now if key == "short" else now - timedelta(hours=5)
            call = Call.objects.create(
                caller_phone=phone,
                request_type="complaint",
                address=address,
                description=description,
                street=division,
                district_id=division.district_id,
                agent=agent,
                received_at=at,
            )
            order = creation.order_create(
                call=call,
                category=_category(CATEGORY_OF.get(key)),
                tier=tiers[tier_code],
                lead_unit=Unit.objects.get(code=lead_code),
                actor=agent,
                title=description.removeprefix("【演示】")[:40],
                street=division,
                now=at,
            )
            _advance(order, stage, street=street, other=other, manager=manager, water=water, now=now)
            created += 1
    return {"handling_orders": created}


def _advance(order: WorkOrder, stage: str, *, street, other, manager, water, now) -> None:
    if stage == "dispatched":
        return
    actor = other if stage == "return" else street
    signed_at = now - timedelta(hours=4, minutes=40)
    if stage == "return":
        handling.order_request_return(
            order, actor=actor, reason_code="not_ours", reason="地址属西罗园街道辖区，请改派。", now=signed_at
        )
        return
    handling.order_sign(order, actor=actor, now=signed_at)
    handling.order_respond(
        order,
        actor=actor,
        contacted_at=signed_at + timedelta(minutes=10),
        method="phone",
        summary="已电话联系市民，说明处理安排。",
        now=signed_at + timedelta(minutes=12),
    )
    if stage == "whistled":
        handling.order_whistle(
            order,
            actor=actor,
            to_unit=Unit.objects.get(code="110106-water"),
            level="emergency",
            reason="主管线破裂，需水务局到场抢修。",
            report_by=now + timedelta(hours=2),
            now=signed_at + timedelta(minutes=20),
        )
    elif stage == "extension":
        handling.order_request_extension(
            order,
            actor=actor,
            new_deadline=handling.end_of_day(timezone.localdate(now) + timedelta(days=20)),
            reason="维修资金需业委会表决，申请延期。",
            now=signed_at + timedelta(minutes=30),
        )
    elif stage == "parked":
        handling.order_park(
            order,
            actor=actor,
            until=timezone.localdate(now) + timedelta(days=90),
            reason="纳入年度管网改造计划，挂账办理。",
            now=signed_at + timedelta(minutes=30),
        )
    elif stage in ("assigned_section", "proposed_community"):
        _assign_demo(order, stage, street=street, at=signed_at + timedelta(minutes=15), now=now)
    elif stage == "closed":
        handling.order_add_note(order, actor=actor, note="物业已更换声控灯。", now=signed_at + timedelta(hours=1))
        handling.order_close(
            order,
            actor=actor,
            result="resolved",
            result_note="楼道灯已修复，感谢您的反映。",
            action_taken="联系物业更换声控灯 6 个。",
            now=signed_at + timedelta(hours=2),
        )


def _assign_demo(order: WorkOrder, stage: str, *, street, at, now) -> None:
    """二次派单 in the demo: one order with 城管办 (internal due time tomorrow), one proposed for closing
    by a community committee and waiting for the center's review."""
    name = "城管办" if stage == "assigned_section" else "洋桥北里社区"
    section = Section.objects.filter(unit_id=order.lead_unit_id, name=name).first()
    if section is None:
        return
    member = User.objects.filter(section=section, is_active=True).order_by("pk").first()
    assignments.order_assign(
        order,
        actor=street,
        section=section,
        assignee=member,
        due_at=min(now + timedelta(days=1), order.resolution_deadline),
        note="请按职责处理并反馈。",
        now=at,
    )
    if member is None:
        return
    handling.order_add_note(order, actor=member, note="已到现场查看，约谈相关人员。", now=at + timedelta(hours=1))
    if stage == "proposed_community":
        assignments.order_propose_close(
            order,
            actor=member,
            result="resolved",
            result_note="杂物已清理，已告知居民不得再堆放。",
            action_taken="社区居委会联系物业清理楼道杂物，并张贴消防提示。",
            now=at + timedelta(hours=2),
        )
