"""Demo data for call intake: knowledge-base answers, an Open311 client with a known key, and real
orders created through the intake service from the demo calls (so the demo streets' inboxes are
not empty). Idempotent: articles by title, the client by key, calls only while still pending."""

from __future__ import annotations

from django.apps import apps
from django.db import transaction

from districts.communities import clear_cache, community_for
from districts.models import Unit
from hotline import refcache
from hotline.intake.open311 import hash_key
from hotline.intake.services import call_answer, call_dispatch, call_intake
from hotline.models import ApiClient, Call, Category, KnowledgeArticle, Role, User
from hotline.seeds import fill_category_names_en, seed_categories
from workorders.lifecycle.tiers import ensure_default_tiers

DEMO_API_KEY = "demo-open311-key-hotline12345"
DEMO_API_USER = "open311-demo"

# (title, category code, keywords, body)
ARTICLES = [
    (
        "居住证办理",
        "100401",
        "居住证 暂住证 办证 积分落户",
        "在京居住满半年、符合有合法稳定就业、合法稳定住所、连续就读条件之一的，可向居住地派出所"
        "（或社区服务站）申领北京市居住证。需携带本人身份证、近期照片，以及劳动合同/营业执照、租房合同"
        "或房产证明、学籍证明之一。受理后 15 个工作日内制证，可在“北京通”App 查询进度。",
    ),
    (
        "小学入学需要准备的材料",
        "080102",
        "入学 小学 一年级 材料 学籍 居住证明",
        "本市户籍适龄儿童：户口簿、实际居住证明（房产证或租房登记）、儿童预防接种证。非本市户籍："
        "父母在京务工就业材料、实际住所居住材料、全家户口簿、在京居住证或登记卡。5 月在“北京市义务"
        "教育入学服务平台”信息采集，具体以所在区教委公布的入学政策为准。",
    ),
    (
        "供暖时间",
        "020201",
        "供暖 暖气 采暖季 室温 开始 结束",
        "北京市正常采暖期为每年 11 月 15 日至次年 3 月 15 日，遇寒潮可提前或延长供暖。采暖期内卧室、"
        "起居室室温不低于 18℃。室温不达标可先联系供热单位报修，24 小时未解决可再拨 12345 反映。",
    ),
    (
        "住房公积金提取",
        "040401",
        "公积金 提取 租房 购房 销户",
        "租房提取：无房职工每季度可提取一次，可通过“北京公积金”App 或网上业务平台办理，无需提供材料；"
        "购房提取需购房合同和付款凭证；离职后半年未就业、退休、出境定居可销户提取。到账一般为 1–3 个工作日。",
    ),
    (
        "社保卡补换",
        "090203",
        "社保卡 补办 挂失 换卡 医保卡",
        "社保卡丢失请先拨打 96102 或在“北京市社会保障卡”公众号挂失，再到任一社保卡服务网点或合作银行"
        "网点补卡，携带身份证，即时制卡网点当场可取。换卡免费，补卡工本费按规定收取。",
    ),
    (
        "异地就医备案",
        "070202",
        "异地就医 备案 医保 外地 报销",
        "参保人员可通过国家医保服务平台 App、“北京医保”公众号办理异地就医备案，长期在外地居住的"
        "填写居住地，临时外出就医的备案有效期 6 个月。备案后在外地定点医院可直接结算。",
    ),
    (
        "公租房申请条件",
        "040201",
        "公租房 保障房 申请 条件 轮候",
        "本市城镇户籍家庭：人均住房面积 15 平方米以下，3 口及以下家庭年收入 10 万元以下、4 口及以上 13 万元"
        "以下。非京籍：在京连续稳定工作一定年限并缴纳社保，本人及家庭在京无住房。向户籍或工作所在街道"
        "（乡镇）住房保障窗口申请，审核通过后轮候配租。",
    ),
    (
        "预付卡退费",
        "030102",
        "预付卡 会员卡 退费 健身 美容 跑路",
        "商家停业或不履行约定的，可要求按合同退还余额。请保留购卡凭证、合同、消费记录。协商不成可向"
        "经营场所所在区市场监管局投诉，或拨打 12315；涉嫌卷款跑路的可向公安机关报案。",
    ),
    (
        "垃圾分类怎么投放",
        "060402",
        "垃圾分类 厨余 其他垃圾 可回收物 有害垃圾",
        "北京生活垃圾分为厨余垃圾（绿桶）、可回收物（蓝桶）、有害垃圾（红桶）、其他垃圾（灰桶）。厨余垃圾"
        "需去除包装袋后投放；大件垃圾和装修垃圾请联系物业或社区预约清运。",
    ),
    (
        "新生儿落户",
        "100402",
        "落户 新生儿 户口 出生证明 报户口",
        "新生儿落户可在出生后一个月内到父或母户籍所在地派出所办理，携带出生医学证明、父母户口簿、"
        "身份证和结婚证。也可通过“北京通”App 的“出生一件事”线上办理。",
    ),
]

# description fragment of a demo call (hotline.demo.DEMO_CALLS) → (category code, ending)
DEMO_CALL_ENDINGS = [
    ("楼道电梯停运", "010102", "order"),
    ("早市商贩占道经营", "010502", "order"),
    ("暖气不热", "020201", "order"),
    ("下水道堵塞返水", "010304", "order"),
    ("增设过街信号灯", "050302", "order"),
    ("私搭乱建", "010201", "order"),
    ("入学需要准备哪些居住证明材料", "080102", "answer"),
    ("夜间22点后仍在作业", "010401", "order"),
]

# New calls through the full intake (phone, routing, catalogue), looked up by their description.
NEW_CALLS = [
    {
        "phone": "13600001234",
        "caller_name": "钱先生",
        "channel": "phone",
        "request_type": "help",
        "category": "020102",
        "address": "丰台区洋桥北里7号楼东侧",
        "description": "楼东侧路面自来水管爆裂，水漫到单元门口，已经流了半小时。",
        "action": "order",
    },
    {
        "phone": "13911112222",
        "channel": "wechat",
        "request_type": "complaint",
        "category": "010303",
        "address": "丰台区右安门外玉林小区12号楼",
        "description": "12号楼前路灯一周不亮，晚上老人出行不便。",
        "action": "order",
    },
]


def setup(*, now) -> dict[str, int]:

    created = {"kb_articles": 0, "api_clients": 0, "orders": 0, "direct_answers": 0}
    _ensure_reference_data()
    refcache.clear_all()  # the database may have been reloaded since this process cached it
    clear_cache()
    categories = {c.code: c for c in Category.objects.select_related("parent__parent", "default_tier")}
    agent = User.objects.get(username="agent")
    with transaction.atomic():
        for title, code, keywords, body in ARTICLES:
            _, made = KnowledgeArticle.objects.get_or_create(
                title=title, defaults={"body": body, "keywords": keywords, "category": categories.get(code)}
            )
            created["kb_articles"] += made

        service_user = User.objects.filter(username=DEMO_API_USER).first()
        if service_user is None:
            service_user = User(
                username=DEMO_API_USER,
                last_name="Open311",
                first_name="接入",
                role=Role.AGENT,
                unit=Unit.objects.get(code="11-center"),
            )
            service_user.set_unusable_password()
            service_user.save()
        if not ApiClient.objects.filter(key_hash=hash_key(DEMO_API_KEY)).exists():
            ApiClient.objects.create(
                name="演示 311 应用",
                key_prefix=DEMO_API_KEY[:10],
                key_hash=hash_key(DEMO_API_KEY),
                acting_user=service_user,
            )
            created["api_clients"] += 1

        for fragment, code, ending in DEMO_CALL_ENDINGS:
            call = (
                Call.objects.select_related("street__district")
                .filter(description__contains=fragment, outcome=Call.Outcome.PENDING)
                .first()
            )
            if call is None:
                continue
            category = categories[code]
            call.category, call.tier = category, category.default_tier
            if call.street_id and call.address:
                call.community = community_for(call.address, call.street_id)
            call.save(update_fields=["category", "tier", "community"])
            if ending == "order":
                call_dispatch(call=call, acting_user=agent, now=call.received_at)
                created["orders"] += 1
            else:
                article = KnowledgeArticle.objects.filter(category=category).first()
                call_answer(call=call, acting_user=agent, article=article)
                created["direct_answers"] += 1

        for data in NEW_CALLS:
            if Call.objects.filter(description=data["description"]).exists():
                continue
            call_intake(acting_user=agent, data=data, now=now)
            created["orders"] += 1
    return created


def _ensure_reference_data() -> None:
    """Tiers, categories and the dispatch catalogue come from data migrations; a database flushed
    since (transactional tests) gets them back from the same seed functions."""
    if Category.objects.filter(level=3).exists():
        return
    ensure_default_tiers()
    seed_categories(apps)
    fill_category_names_en(apps)
