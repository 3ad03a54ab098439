"""Demo data for the callback stage: orders the demo agent can call back right away, one still open
past its limit, and an exclusion request waiting for the district.

Orders go through the real transitions (create → sign → respond → close) when the handling
capability provides them; otherwise the closing is written the way that transition would.
Idempotent: each demo call's description is its natural key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.files.base import ContentFile
from django.db import transaction

from districts.models import Division, Unit
from hotline.models import Call, Category, User
from workorders.lifecycle import creation, exclusions, handling
from workorders.models import UrgencyTier, WorkOrder


@dataclass(frozen=True)
class DemoOrder:
    street_code: str
    handler: str  # demo user of the street
    description: str
    address: str
    phone: str
    caller: str
    title: str
    tier: str
    age: timedelta  # dispatched this long ago
    closed: bool
    result_note: str = ""
    exclusion: str = ""  # explanation of an exclusion request the street files


DEMO_ORDERS = [
    DemoOrder(
        "110106003",
        "xiluoyuan",
        "洋桥北里8号楼楼道灯坏了半个月，晚上老人上下楼看不见。",
        "丰台区洋桥北里8号楼",
        "13811018888",
        "周女士",
        "楼道灯损坏",
        "T7D",
        timedelta(days=3),
        True,
        "已联系物业更换8号楼1-6层楼道灯，现已恢复照明。",
    ),
    DemoOrder(
        "110106001",
        "youanmen",
        "玉林小区东门垃圾桶满溢两天无人清运，气味很大。",
        "丰台区右安门外玉林小区东门",
        "13911016666",
        "",
        "垃圾清运不及时",
        "T7D",
        timedelta(days=2),
        True,
        "已协调环卫所加派清运车辆，当天清运完毕，并调整为每日两次清运。",
    ),
    DemoOrder(
        "110106003",
        "xiluoyuan",
        "西罗园三区12号楼供暖管道漏水，楼道积水结冰。",
        "丰台区西罗园三区12号楼",
        "15011012222",
        "孙先生",
        "供暖管道漏水",
        "T2H",
        timedelta(hours=30),  # its 24-hour resolution limit ran out 6 hours ago
        False,
    ),
    DemoOrder(
        "110106003",
        "xiluoyuan",
        "要求街道出资为其个人车辆更换被划伤的车漆，已多次来电。",
        "丰台区西罗园四区",
        "13700009999",
        "",
        "个人车辆赔偿诉求",
        "T7D",
        timedelta(days=4),
        True,
        "经核实属个人财产纠纷，已告知可通过公安报案或民事诉讼途径解决。",
        exclusion="诉求属个人民事纠纷，超出政府职责范围；已多次解释并告知法律途径，来电人仍反复来电。",
    ),
]

# A tiny but real PDF, so the demo evidence passes the same content checks as an upload.
DEMO_EVIDENCE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _category() -> Category:
    category = Category.objects.filter(level=3, is_active=True).order_by("sort", "code").first()
    if category is not None:
        return category
    return Category.objects.get_or_create(code="DEMO-CB", defaults={"name": "城市管理", "level": 3})[0]


def _close(order: WorkOrder, *, handler: User, spec: DemoOrder, start: datetime) -> WorkOrder:
    signed, responded, closed = start + timedelta(hours=1), start + timedelta(hours=2), start + timedelta(hours=20)
    handling.order_sign(order, actor=handler, now=signed)
    handling.order_respond(
        order,
        actor=handler,
        contacted_at=responded,
        method="phone",
        summary="已电话联系来电人，了解具体情况。",
        now=responded,
    )
    return handling.order_close(
        order,
        actor=handler,
        result="resolved",
        result_note=spec.result_note,
        action_taken="现场核实，协调相关单位处置。",
        now=closed,
    )


def setup(*, now: datetime) -> dict[str, int]:

    created = {"callback_orders": 0, "exclusion_requests": 0}
    agent = User.objects.filter(username="agent").first()
    if agent is None:
        return created
    category = _category()
    for spec in DEMO_ORDERS:
        if Call.objects.filter(description=spec.description).exists():
            continue
        handler = User.objects.get(username=spec.handler)
        street = Division.objects.get(code=spec.street_code)
        start = now - spec.age
        with transaction.atomic():
            call = Call.objects.create(
                caller_phone=spec.phone,
                caller_name=spec.caller,
                channel=Call.Channel.PHONE,
                request_type=Call.RequestType.COMPLAINT,
                address=spec.address,
                description=spec.description,
                street=street,
                district_id=street.district_id,
                agent=agent,
                received_at=start - timedelta(minutes=4),
            )
            order = creation.order_create(
                call=call,
                category=category,
                tier=UrgencyTier.objects.get(code=spec.tier),
                lead_unit=Unit.objects.get(code=spec.street_code),
                actor=agent,
                title=spec.title,
                street=street,
                now=start,
            )
            if spec.closed:
                order = _close(order, handler=handler, spec=spec, start=start)
            created["callback_orders"] += 1
            if spec.exclusion:
                exclusions.exclusion_request(
                    order,
                    actor=handler,
                    reason="outside_duty",
                    explanation=spec.exclusion,
                    files=[ContentFile(DEMO_EVIDENCE, name="来电记录及答复说明.pdf")],
                    now=now,
                )
                created["exclusion_requests"] += 1
    return created
