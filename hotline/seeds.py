"""Reference data that the hotline app's data migrations seed, kept here so that the migrations, the demo and
the tests (a flushed database gets the same rows back) share one copy. The functions take the
migration's `apps` registry and use apps.get_model only."""

# --- the category tree and the first dispatch catalogue (migration 0005)
# (level-1 name, [(level-2 name, [(leaf name, tier code), ...]), ...]); tiers: T2H emergencies,
# T24H water/power/gas/heating, T7D general, T15D complex (the 2020 city opinion).
TREE = [
    (
        "城乡建设",
        [
            (
                "物业管理",
                [
                    ("电梯困人", "T2H"),
                    ("电梯故障", "T24H"),
                    ("物业服务质量", "T7D"),
                    ("物业收费", "T15D"),
                    ("公共设施维修", "T7D"),
                ],
            ),
            ("违法建设", [("私搭乱建", "T15D"), ("违规装修", "T7D"), ("占用公共空间", "T7D")]),
            ("市政设施", [("道路破损", "T7D"), ("井盖缺失", "T2H"), ("路灯不亮", "T7D"), ("下水道堵塞", "T24H")]),
            ("施工管理", [("夜间施工扰民", "T24H"), ("施工安全隐患", "T24H"), ("渣土遗撒", "T7D")]),
            ("市容环境", [("垃圾清运", "T7D"), ("占道经营", "T7D"), ("违规广告牌匾", "T15D"), ("公厕管理", "T7D")]),
            ("园林绿化", [("树木修剪", "T15D"), ("绿地养护", "T15D"), ("树木倒伏", "T2H")]),
        ],
    ),
    (
        "公共服务",
        [
            ("供水", [("停水", "T24H"), ("水管爆裂", "T2H"), ("水质问题", "T24H"), ("水压不足", "T24H")]),
            ("供暖", [("室温不达标", "T24H"), ("暖气漏水", "T24H"), ("停暖", "T24H"), ("供暖费", "T15D")]),
            ("供电", [("停电", "T24H"), ("电线安全隐患", "T2H")]),
            ("燃气", [("燃气泄漏", "T2H"), ("停气", "T24H"), ("燃气收费", "T15D")]),
            ("排水", [("污水外溢", "T24H"), ("雨后积水", "T24H")]),
            ("通信", [("信号差", "T15D"), ("线缆私拉乱挂", "T7D")]),
        ],
    ),
    (
        "市场管理",
        [
            ("消费维权", [("商品质量", "T7D"), ("预付卡退费", "T15D"), ("虚假宣传", "T15D"), ("价格欺诈", "T7D")]),
            ("食品安全", [("餐饮卫生", "T7D"), ("过期食品", "T7D"), ("无证经营", "T7D")]),
            ("网络交易", [("网购纠纷", "T15D"), ("外卖平台", "T7D")]),
        ],
    ),
    (
        "住房",
        [
            ("房屋安全", [("房屋漏雨", "T7D"), ("墙体开裂", "T24H")]),
            ("保障性住房", [("公租房申请", "T15D"), ("共有产权房", "T15D")]),
            ("房屋租赁", [("中介纠纷", "T15D"), ("群租房", "T7D"), ("押金退还", "T15D")]),
            ("住房公积金", [("公积金提取", "T15D"), ("公积金贷款", "T15D")]),
            ("老旧小区改造", [("加装电梯", "T15D"), ("改造施工", "T7D")]),
        ],
    ),
    (
        "交通管理",
        [
            ("公共交通", [("公交服务", "T7D"), ("地铁服务", "T7D"), ("公交线路调整", "T15D")]),
            ("出租车网约车", [("拒载绕路", "T7D"), ("网约车纠纷", "T7D")]),
            ("道路交通", [("违章停车", "T24H"), ("交通信号灯", "T24H"), ("交通拥堵", "T15D")]),
            ("共享单车", [("单车乱停放", "T7D")]),
        ],
    ),
    (
        "环境保护",
        [
            ("大气污染", [("露天焚烧", "T24H"), ("餐饮油烟", "T7D"), ("扬尘污染", "T24H")]),
            ("噪声污染", [("社会生活噪声", "T24H"), ("工业噪声", "T7D")]),
            ("水污染", [("河道污染", "T7D"), ("污水直排", "T24H")]),
            ("固体废物", [("建筑垃圾", "T7D"), ("垃圾分类", "T15D")]),
        ],
    ),
    (
        "医疗卫生",
        [
            ("医疗服务", [("就医服务", "T7D"), ("挂号预约", "T7D"), ("医疗纠纷", "T15D")]),
            ("医疗保障", [("医保报销", "T15D"), ("异地就医", "T15D")]),
            ("公共卫生", [("病媒生物", "T7D"), ("控烟", "T7D")]),
        ],
    ),
    (
        "教育",
        [
            ("入学", [("幼儿入园", "T15D"), ("小学入学", "T15D"), ("中学入学", "T15D")]),
            ("学校管理", [("校园安全", "T24H"), ("学校收费", "T15D"), ("校外培训", "T15D")]),
        ],
    ),
    (
        "劳动和社会保障",
        [
            ("劳动关系", [("拖欠工资", "T7D"), ("劳动合同", "T15D"), ("工伤认定", "T15D")]),
            ("社会保险", [("养老保险", "T15D"), ("失业保险", "T15D"), ("社保卡", "T15D")]),
            ("就业服务", [("就业登记", "T15D"), ("职业培训", "T15D")]),
        ],
    ),
    (
        "社会秩序",
        [
            ("治安", [("治安隐患", "T24H"), ("打架斗殴", "T2H")]),
            ("消防", [("消防通道占用", "T24H"), ("消防安全隐患", "T24H")]),
            ("邻里纠纷", [("邻里矛盾", "T7D"), ("宠物扰民", "T7D")]),
            ("户籍证件", [("居住证办理", "T15D"), ("户口迁移", "T15D")]),
        ],
    ),
    (
        "疫情防控",
        [
            ("防控政策", [("防控措施咨询", "T24H"), ("核酸检测", "T24H"), ("疫苗接种", "T7D")]),
            ("隔离管控", [("隔离服务保障", "T2H"), ("生活物资保障", "T24H")]),
        ],
    ),
    (
        "民政服务",
        [
            ("养老服务", [("养老机构", "T15D"), ("居家养老", "T15D")]),
            ("社会救助", [("低保申请", "T15D"), ("临时救助", "T7D")]),
            ("残疾人服务", [("残疾人补贴", "T15D")]),
        ],
    ),
    (
        "农村农业",
        [
            ("农村管理", [("宅基地", "T15D"), ("农村集体经济", "T15D")]),
        ],
    ),
]

# (category path, target, department slug, co_street, co department slugs, note)
RULES = [
    ("公共服务→供水→水管爆裂", "department", "water", True, "", "爆管由区水务局主办，属地街乡协办"),
    ("公共服务→供水", "street", "", False, "water-group", "供水问题属地主办，自来水集团协办"),
    ("公共服务→供暖", "street", "", False, "heating", "供暖问题属地主办，热力集团协办"),
    ("公共服务→供电", "department", "power", True, "", "供电问题由电力公司主办"),
    ("公共服务→燃气→燃气泄漏", "department", "gas", True, "", "燃气泄漏由燃气集团主办，属地协办"),
    ("公共服务→燃气", "street", "", False, "gas", "燃气问题属地主办，燃气集团协办"),
    ("城乡建设→违法建设", "street", "", False, "enforcement", "违建属地主办，城管执法协办"),
    ("城乡建设→市政设施→井盖缺失", "street", "", False, "city-management", "井盖缺失属地主办，城管委协办"),
    ("市场管理", "department", "market", False, "", "市场监管事项由区市场监管局主办"),
    ("交通管理→公共交通", "department", "transport", False, "", "公共交通由交通部门主办"),
    ("交通管理→出租车网约车", "department", "transport", False, "", "出租车网约车由交通部门主办"),
    ("医疗卫生", "department", "health", False, "", "医疗卫生由区卫健委主办"),
    ("教育", "department", "education", False, "", "教育事项由区教委主办"),
    ("劳动和社会保障", "department", "hrss", False, "", "劳动社保由区人社局主办"),
    ("环境保护→水污染", "department", "ecology", True, "", "水污染由区生态环境局主办，属地协办"),
    ("环境保护→噪声污染→工业噪声", "department", "ecology", False, "", "工业噪声由区生态环境局主办"),
    ("社会秩序→治安", "department", "police", True, "", "治安问题由公安分局主办，属地协办"),
    ("社会秩序→户籍证件", "department", "police", False, "", "户籍证件由公安分局主办"),
    ("住房→住房公积金", "department", "housing", False, "", "公积金事项由住建部门主办"),
    ("住房→保障性住房", "department", "housing", False, "", "保障房事项由区住建委主办"),
    ("民政服务", "department", "civil-affairs", False, "", "民政事项由区民政局主办"),
]


def seed_categories(apps, schema_editor=None):
    Category = apps.get_model("hotline", "Category")
    DispatchRule = apps.get_model("hotline", "DispatchRule")
    UrgencyTier = apps.get_model("workorders", "UrgencyTier")
    tiers = {t.code: t for t in UrgencyTier.objects.all()}
    by_path = {}
    sort = 0
    for i, (name1, level2) in enumerate(TREE, start=1):
        sort += 1
        code1 = f"{i:02d}"
        top, _ = Category.objects.get_or_create(
            code=code1, defaults=dict(name=name1, level=1, sort=sort, default_tier=tiers.get("T7D"))
        )
        by_path[name1] = top
        for j, (name2, leaves) in enumerate(level2, start=1):
            sort += 1
            code2 = f"{code1}{j:02d}"
            mid, _ = Category.objects.get_or_create(
                code=code2, defaults=dict(name=name2, level=2, parent=top, sort=sort, default_tier=tiers.get("T7D"))
            )
            by_path[f"{name1}→{name2}"] = mid
            for k, (name3, tier) in enumerate(leaves, start=1):
                sort += 1
                leaf, _ = Category.objects.get_or_create(
                    code=f"{code2}{k:02d}",
                    defaults=dict(name=name3, level=3, parent=mid, sort=sort, default_tier=tiers.get(tier)),
                )
                by_path[f"{name1}→{name2}→{name3}"] = leaf
    for path, target, slug, co_street, co_slugs, note in RULES:
        category = by_path[path]
        if DispatchRule.objects.filter(category=category, district=None, street=None).exists():
            continue
        DispatchRule.objects.create(
            category=category,
            target=target,
            department_slug=slug,
            co_street=co_street,
            co_department_slugs=co_slugs,
            note=note,
        )


# --- the categories' English names (migration 0011); only blank names are filled
CATEGORY_NAMES_EN = {
    "城乡建设": "Urban and rural construction",
    "物业管理": "Property management",
    "电梯困人": "People trapped in a lift",
    "电梯故障": "Lift breakdown",
    "物业服务质量": "Property service quality",
    "物业收费": "Property fees",
    "公共设施维修": "Repair of shared facilities",
    "违法建设": "Illegal construction",
    "私搭乱建": "Unauthorised structures",
    "违规装修": "Non-compliant renovation",
    "占用公共空间": "Occupation of public space",
    "市政设施": "Municipal facilities",
    "道路破损": "Damaged road",
    "井盖缺失": "Missing manhole cover",
    "路灯不亮": "Street light out",
    "下水道堵塞": "Blocked sewer",
    "施工管理": "Construction sites",
    "夜间施工扰民": "Night-time construction noise",
    "施工安全隐患": "Construction safety hazard",
    "渣土遗撒": "Spilled construction debris",
    "市容环境": "Cityscape and sanitation",
    "垃圾清运": "Rubbish collection",
    "占道经营": "Street vending on the road",
    "违规广告牌匾": "Illegal billboards and signs",
    "公厕管理": "Public toilets",
    "园林绿化": "Parks and greenery",
    "树木修剪": "Tree pruning",
    "绿地养护": "Green space upkeep",
    "树木倒伏": "Fallen tree",
    "公共服务": "Public utilities",
    "供水": "Water supply",
    "停水": "Water cut",
    "水管爆裂": "Burst water pipe",
    "水质问题": "Water quality",
    "水压不足": "Low water pressure",
    "供暖": "Heating",
    "室温不达标": "Room temperature too low",
    "暖气漏水": "Leaking radiator",
    "停暖": "Heating cut",
    "供暖费": "Heating fees",
    "供电": "Electricity",
    "停电": "Power cut",
    "电线安全隐患": "Unsafe wiring",
    "燃气": "Gas",
    "燃气泄漏": "Gas leak",
    "停气": "Gas cut",
    "燃气收费": "Gas fees",
    "排水": "Drainage",
    "污水外溢": "Sewage overflow",
    "雨后积水": "Flooding after rain",
    "通信": "Telecommunications",
    "信号差": "Poor signal",
    "线缆私拉乱挂": "Illegally strung cables",
    "市场管理": "Market regulation",
    "消费维权": "Consumer rights",
    "商品质量": "Product quality",
    "预付卡退费": "Prepaid card refund",
    "虚假宣传": "False advertising",
    "价格欺诈": "Price fraud",
    "食品安全": "Food safety",
    "餐饮卫生": "Restaurant hygiene",
    "过期食品": "Expired food",
    "无证经营": "Unlicensed business",
    "网络交易": "Online trade",
    "网购纠纷": "Online shopping dispute",
    "外卖平台": "Food delivery platforms",
    "住房": "Housing",
    "房屋安全": "Building safety",
    "房屋漏雨": "Leaking roof",
    "墙体开裂": "Cracked walls",
    "保障性住房": "Subsidised housing",
    "公租房申请": "Public rental housing application",
    "共有产权房": "Shared-ownership housing",
    "房屋租赁": "Renting",
    "中介纠纷": "Estate agent dispute",
    "群租房": "Overcrowded rentals",
    "押金退还": "Deposit refund",
    "住房公积金": "Housing provident fund",
    "公积金提取": "Provident fund withdrawal",
    "公积金贷款": "Provident fund loan",
    "老旧小区改造": "Old estate renovation",
    "加装电梯": "Lift retrofitting",
    "改造施工": "Renovation works",
    "交通管理": "Transport",
    "公共交通": "Public transport",
    "公交服务": "Bus service",
    "地铁服务": "Subway service",
    "公交线路调整": "Bus route changes",
    "出租车网约车": "Taxis and ride-hailing",
    "拒载绕路": "Refused fare or detour",
    "网约车纠纷": "Ride-hailing dispute",
    "道路交通": "Road traffic",
    "违章停车": "Illegal parking",
    "交通信号灯": "Traffic lights",
    "交通拥堵": "Traffic congestion",
    "共享单车": "Shared bikes",
    "单车乱停放": "Badly parked bikes",
    "环境保护": "Environmental protection",
    "大气污染": "Air pollution",
    "露天焚烧": "Open burning",
    "餐饮油烟": "Restaurant fumes",
    "扬尘污染": "Dust pollution",
    "噪声污染": "Noise pollution",
    "社会生活噪声": "Neighbourhood noise",
    "工业噪声": "Industrial noise",
    "水污染": "Water pollution",
    "河道污染": "River pollution",
    "污水直排": "Untreated sewage discharge",
    "固体废物": "Solid waste",
    "建筑垃圾": "Construction waste",
    "垃圾分类": "Waste sorting",
    "医疗卫生": "Health care",
    "医疗服务": "Medical services",
    "就医服务": "Hospital services",
    "挂号预约": "Appointment booking",
    "医疗纠纷": "Medical dispute",
    "医疗保障": "Medical insurance",
    "医保报销": "Medical insurance reimbursement",
    "异地就医": "Treatment outside Beijing",
    "公共卫生": "Public health",
    "病媒生物": "Pests and vermin",
    "控烟": "Smoking control",
    "教育": "Education",
    "入学": "School admission",
    "幼儿入园": "Kindergarten admission",
    "小学入学": "Primary school admission",
    "中学入学": "Secondary school admission",
    "学校管理": "School management",
    "校园安全": "School safety",
    "学校收费": "School fees",
    "校外培训": "Private tutoring",
    "劳动和社会保障": "Labour and social security",
    "劳动关系": "Employment relations",
    "拖欠工资": "Unpaid wages",
    "劳动合同": "Employment contract",
    "工伤认定": "Work injury recognition",
    "社会保险": "Social insurance",
    "养老保险": "Pension insurance",
    "失业保险": "Unemployment insurance",
    "社保卡": "Social security card",
    "就业服务": "Employment services",
    "就业登记": "Employment registration",
    "职业培训": "Vocational training",
    "社会秩序": "Public order",
    "治安": "Public security",
    "治安隐患": "Security hazard",
    "打架斗殴": "Fighting",
    "消防": "Fire safety",
    "消防通道占用": "Blocked fire lane",
    "消防安全隐患": "Fire hazard",
    "邻里纠纷": "Neighbour disputes",
    "邻里矛盾": "Neighbour conflict",
    "宠物扰民": "Nuisance pets",
    "户籍证件": "Household registration and IDs",
    "居住证办理": "Residence permit",
    "户口迁移": "Household registration transfer",
    "疫情防控": "Epidemic control",
    "防控政策": "Epidemic policy",
    "防控措施咨询": "Questions on epidemic measures",
    "核酸检测": "PCR testing",
    "疫苗接种": "Vaccination",
    "隔离管控": "Quarantine",
    "隔离服务保障": "Quarantine support",
    "生活物资保障": "Supplies of daily necessities",
    "民政服务": "Civil affairs",
    "养老服务": "Elderly care",
    "养老机构": "Care homes",
    "居家养老": "Home care for the elderly",
    "社会救助": "Social assistance",
    "低保申请": "Minimum living allowance application",
    "临时救助": "Emergency assistance",
    "残疾人服务": "Services for people with disabilities",
    "残疾人补贴": "Disability allowance",
    "农村农业": "Rural affairs and agriculture",
    "农村管理": "Village administration",
    "宅基地": "Rural homesteads",
    "农村集体经济": "Village collective economy",
}


def fill_category_names_en(apps, schema_editor=None):
    Category = apps.get_model("hotline", "Category")
    for name, name_en in CATEGORY_NAMES_EN.items():
        Category.objects.filter(name=name, name_en="").update(name_en=name_en)
