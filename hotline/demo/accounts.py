"""Demo accounts and a small demo history, so a newcomer sees a working system after `make run`.

Idempotent: every row is looked up by a natural key before it is created, so running it twice
changes nothing.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from districts.models import CENTER_UNIT_CODE, Division, Section, Unit
from hotline.models import AdminSecondFactor, Call, Role, User


@dataclass(frozen=True)
class DemoUser:
    username: str
    last_name: str
    first_name: str
    role: str
    unit_code: str
    is_staff: bool = False
    section: str = ""  # 二次派单: member of this section/community committee (empty: the unit's center)


# Two streets of the same district (丰台区) so that scoping between neighbours can be seen.
# Demo only: the city administrator's authenticator secret (base32), printed by `make run`.
DEMO_2FA_SECRET = "JBSWY3DPEHPK3PXPHOTLINE2"

DEMO_USERS = [
    DemoUser("agent", "王", "芳", Role.AGENT, CENTER_UNIT_CODE),
    DemoUser("agent2", "李", "静", Role.AGENT, CENTER_UNIT_CODE),
    DemoUser("xiluoyuan", "张", "伟", Role.STREET, "110106003"),  # 西罗园街道
    # 西罗园街道's sections and one community committee (二次派单): the center (xiluoyuan) assigns to them.
    DemoUser("xiluoyuan-cgb", "马", "骏", Role.STREET, "110106003", section="城管办"),
    DemoUser("xiluoyuan-pab", "高", "远", Role.STREET, "110106003", section="平安办"),
    DemoUser("xiluoyuan-sq", "何", "琳", Role.STREET, "110106003", section="洋桥北里社区"),
    DemoUser("youanmen", "刘", "洋", Role.STREET, "110106001"),  # 右安门街道
    DemoUser("xueyuanlu", "陈", "晨", Role.STREET, "110108010"),  # 海淀区学院路街道
    DemoUser("fengtai-water", "赵", "磊", Role.DEPARTMENT, "110106-water"),  # 丰台区水务局
    DemoUser("fengtai", "孙", "丽", Role.DISTRICT, "110106"),  # 丰台区
    DemoUser("haidian", "周", "敏", Role.DISTRICT, "110108"),  # 海淀区
    DemoUser("city", "吴", "强", Role.CITY, CENTER_UNIT_CODE, is_staff=True),
]

# (street code, minutes ago, request type, channel, phone, name, address, description)
DEMO_CALLS = [
    (
        "110106003",
        35,
        "help",
        "phone",
        "13811012345",
        "李女士",
        "丰台区洋桥北里12号楼3单元",
        "楼道电梯停运两天，家中有八十岁老人上下楼困难，请尽快维修。",
    ),
    (
        "110106003",
        90,
        "complaint",
        "phone",
        "13901234567",
        "",
        "丰台区西罗园四区南门",
        "小区南门外早市商贩占道经营，早上六点开始噪音很大，垃圾无人清理。",
    ),
    (
        "110106003",
        60 * 26,
        "complaint",
        "wechat",
        "15210987654",
        "王先生",
        "丰台区角门东里二社区5号楼",
        "暖气不热，室温只有14度，物业说在排查但一周没有结果。",
    ),
    (
        "110106001",
        50,
        "help",
        "phone",
        "01063521234",
        "",
        "丰台区右安门外大街玉林小区",
        "小区内下水道堵塞返水，污水漫到楼门口。",
    ),
    (
        "110106001",
        60 * 5,
        "suggestion",
        "web",
        "",
        "",
        "丰台区右安门东街",
        "建议在右安门东街路口增设过街信号灯，早高峰学生过马路很危险。",
    ),
    (
        "110106001",
        60 * 30,
        "report",
        "phone",
        "13700001111",
        "",
        "丰台区开阳路开阳里一区",
        "开阳里一区有人私搭乱建，在楼顶加盖彩钢房。",
    ),
    (
        "110108010",
        20,
        "consultation",
        "phone",
        "18612345678",
        "赵先生",
        "海淀区学院路20号",
        "咨询孩子入学需要准备哪些居住证明材料。",
    ),
    (
        "110108010",
        60 * 8,
        "complaint",
        "app",
        "13522223333",
        "",
        "海淀区学院路石油大院",
        "大院内施工夜间22点后仍在作业，噪音扰民。",
    ),
]


# Internal sections (科室) of the demo street; its communities come from the division data.
DEMO_SECTIONS = {"110106003": ["城管办", "平安办", "社区办", "综合办"]}


def _demo_sections(units) -> dict[tuple[str, str], Section]:
    """The demo street's sections and every one of its communities as a committee (idempotent)."""
    for code, names in DEMO_SECTIONS.items():
        unit = units.get(code) or Unit.objects.get(code=code)
        for i, name in enumerate(names):
            Section.objects.get_or_create(unit=unit, name=name, defaults={"kind": Section.Kind.SECTION, "sort": i})
        communities = Division.objects.filter(parent_id=unit.division_id, level=Division.Level.COMMUNITY)
        for i, community in enumerate(communities.order_by("code")):
            Section.objects.get_or_create(
                unit=unit,
                name=community.name,
                defaults={"kind": Section.Kind.COMMUNITY, "division": community, "sort": i},
            )
    return {
        (s.unit.code, s.name): s for s in Section.objects.filter(unit__code__in=DEMO_SECTIONS).select_related("unit")
    }


def setup(*, now) -> dict[str, int]:
    created = {"users": 0, "calls": 0}
    with transaction.atomic():
        units = {u.code: u for u in Unit.objects.filter(code__in={d.unit_code for d in DEMO_USERS})}
        missing = {d.unit_code for d in DEMO_USERS} - set(units)
        if missing:
            raise RuntimeError(f"load divisions and departments first; missing units: {sorted(missing)}")
        sections = _demo_sections(units)
        for demo in DEMO_USERS:
            if User.objects.filter(username=demo.username).exists():
                continue
            user = User(
                username=demo.username,
                last_name=demo.last_name,
                first_name=demo.first_name,
                role=demo.role,
                unit=units[demo.unit_code],
                section=sections[(demo.unit_code, demo.section)] if demo.section else None,
                is_staff=demo.is_staff,
            )
            user.set_password(settings.DEMO_PASSWORD)
            user.full_clean()
            user.save()
            created["users"] += 1

        # The demo city administrator's authenticator, already enrolled with a published secret
        # (make run prints it) so the admin's second factor can be tried at once.

        AdminSecondFactor.objects.get_or_create(
            user=User.objects.get(username="city"),
            defaults={"secret": DEMO_2FA_SECRET, "confirmed_at": now},
        )

        agent = User.objects.get(username="agent")
        streets = {d.code: d for d in Division.objects.filter(code__in={c[0] for c in DEMO_CALLS})}
        for code, minutes_ago, rtype, channel, phone, name, address, description in DEMO_CALLS:
            street = streets[code]
            _, call_created = Call.objects.get_or_create(
                description=description,
                address=address,
                defaults=dict(
                    caller_phone=phone,
                    caller_name=name,
                    channel=channel,
                    request_type=rtype,
                    street=street,
                    district_id=street.district_id,
                    agent=agent,
                    received_at=now - timedelta(minutes=minutes_ago),
                ),
            )
            created["calls"] += call_created
    return created
