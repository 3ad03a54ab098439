"""Same incident? (重复诉求): the candidate finder's comparison of two calls, without the database.

A repeat is a second report of one incident — the same place, the same problem — whoever calls. So
the comparison rests on three things, never on the caller:

- **place**: the address parsed into district, compound (小区/社区/里/院 or a road and its number),
  building (号楼/栋/座) and unit (单元/门); the router's street and community when known (an alias
  places a compound in its community); coordinates within a radius when both calls carry them. A
  different district, compound, building or unit is a different place.
- **text**: similarity of the two descriptions after the address and the callers' filler words are
  taken out: character bigrams (Dice), plus the problems named (a small lexicon of what 12345 calls
  are about: lift, street light, stairwell clutter, water cut …, each with the ways callers say it),
  so that "路灯不亮" and "路灯晚上黑着" meet and "电梯坏了" and "楼道灯坏了" in one building do not.
- **category**: the same leaf, an ancestor/descendant, or a sibling under the same level-2 node
  (agents pick neighbouring leaves for one incident); a sibling needs a higher text score.

`compare()` gives the verdict and its reasons; `hotline.intake.selectors.duplicate_candidates` feeds it the
orders of the window, bench/bench_duplicates.py measures it on a labelled set. The thresholds are
declared settings (DUPLICATE_*), tuned on the benchmark's training half only.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

DISTRICTS = (
    "东城",
    "西城",
    "朝阳",
    "丰台",
    "石景山",
    "海淀",
    "门头沟",
    "房山",
    "通州",
    "顺义",
    "昌平",
    "大兴",
    "怀柔",
    "平谷",
    "密云",
    "延庆",
)
_DISTRICT_RE = re.compile("(" + "|".join(DISTRICTS) + ")区")
_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CN_NUMBER_RE = re.compile(
    r"[零〇一二两三四五六七八九十]{1,4}(?=号楼|号院|号|栋|幢|座|单元|门|区|里|层|楼|期|排|条|巷)"
)
_SPACES_RE = re.compile(r"[\s　]+")
# 3-2-501: building 3, unit 2, flat 501
_TRIPLE_RE = re.compile(r"(\d{1,3})[-－—](\d{1,2})[-－—](\d{2,4})")
# 3号楼, 3栋, D座, 3#; Beijing's three-digit building numbers are said without 号 (劲松八区805楼)
_BUILDING_RE = re.compile(r"([A-Za-z]|\d{1,3})\s*(?:号楼|栋|幢|座|#楼|#)|(\d{3})楼(?!层|下|上|道|梯)")
_UNIT_RE = re.compile(r"(\d{1,2})\s*(?:单元|门(?!口|前|外|里|脸|卫|面))")
_ROAD_RE = re.compile(r"([\u4e00-\u9fa5]{1,8}?(?:大街|大道|胡同|路|街|巷))(?:(?:甲|乙|丙)?(\d{1,4})号(?!楼))?")
_CROSSING_RE = re.compile(
    r"([\u4e00-\u9fa5]{1,8}?(?:大街|大道|路|街|环|桥))(?:和|与|跟|、|交)([\u4e00-\u9fa5]{1,8}?(?:大街|大道|路|街|环|桥))"
)
_STREET_PREFIX_RE = re.compile(r"^[\u4e00-\u9fa5]{2,5}?(?:街道|地区办事处|地区|乡|镇)")
_CITY_RE = re.compile(r"^(?:北京市|北京)")
# Where the compound's name ends: a building, a flat, or a word that says "near"/"in front of".
_PLACE_TAIL_RE = re.compile(
    r"((?:[A-Za-z]|\d+)(?:号楼|号|栋|幢|座|#|单元|门|-|层|楼)|门口|附近|旁边|对面|东侧|西侧|南侧|北侧|东门|西门|南门|北门|正门|后门|里面|院内|院里|楼下|楼道|底商|这边|那边|周边|路口|"
    r"一带|的)"
)
_COMPOUND_WORDS_RE = re.compile(r"小区|社区|居委会|家属院|宿舍")
# What a compound's name ends with (after a road's name: 广安门内大街南线阁 → 南线阁).
_COMPOUND_END_RE = re.compile(r"(?:里|园|苑|院|村|庄|城|府|公寓|大厦|座|期|区|楼|阁|湾|居|寓|坊|巷|营|屯|店|桥|号)$")


def _cn_to_int(text: str) -> int:
    if text.startswith("十"):
        text = "一" + text
    if "十" in text:
        tens, _, ones = text.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + (_CN_DIGITS.get(ones, 0) if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS.get(ch, 0)
    return value


def normalize(text: str) -> str:
    """Full-width to ASCII, spaces out, Chinese numbers before 号楼/单元/区… as digits."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _SPACES_RE.sub("", text)
    return _CN_NUMBER_RE.sub(lambda m: str(_cn_to_int(m.group(0))), text)


@dataclass(frozen=True)
class Place:
    district: str = ""
    compound: str = ""
    building: str = ""
    unit: str = ""
    road: str = ""
    road_number: str = ""
    crossing: frozenset[str] = frozenset()

    @property
    def known(self) -> bool:
        return bool(self.compound or self.road or self.crossing)


@lru_cache(maxsize=4096)
def parse_place(address: str) -> Place:
    text = normalize(address)
    district = ""
    if m := _DISTRICT_RE.search(text):
        district = m.group(1)
        text = text[: m.start()] + text[m.end() :]
    text = _CITY_RE.sub("", text)
    text = _STREET_PREFIX_RE.sub("", text)
    building = unit = ""
    if m := _TRIPLE_RE.search(text):
        building, unit = m.group(1), m.group(2)
    else:
        if m := _BUILDING_RE.search(text):
            building = (m.group(1) or m.group(2)).upper()
        if m := _UNIT_RE.search(text):
            unit = m.group(1)
    crossing: frozenset[str] = frozenset()
    if m := _CROSSING_RE.search(text):
        crossing = frozenset({m.group(1), m.group(2)})
    road = road_number = ""
    if m := _ROAD_RE.search(text):
        road, road_number = m.group(1), m.group(2) or ""
    compound = ""
    tail = _PLACE_TAIL_RE.search(text)
    head = text[: tail.start()] if tail else text
    if "号院" in text:  # 学院路30号院5号楼: the compound is the road's numbered yard
        head = text[: text.index("号院") + 2]
    if road and head.startswith(road) and "号院" not in head:
        # a road, then maybe a compound's name: 广安门内大街南线阁小区 → 南线阁
        rest = _COMPOUND_WORDS_RE.sub("", head[len(road) :]).lstrip("甲乙丙")
        head = rest if len(rest) >= 2 and _COMPOUND_END_RE.search(head) else ""
    head = _COMPOUND_WORDS_RE.sub("", head)
    if len(head) >= 2 and not crossing:
        compound = head
    return Place(district, compound, building, unit, road, road_number, crossing)


# A character that tells two compounds apart rather than a typo: 安贞里二区/三区, 龙泽苑东区/西区.
_DISTINCTIVE = set("0123456789东西南北中前后上下内外新老大小甲乙丙丁一二三四五六七八九十ABCDEFGH")


def _one_typo_apart(a: str, b: str) -> bool:
    """One character changed, added or dropped — and not a number or a direction."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
        return len(diff) == 1 and not (set(diff[0]) & _DISTINCTIVE)
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1 :] == short:
            return long_[i] not in _DISTINCTIVE
    return False


def same_name(a: str, b: str) -> bool:
    """One compound or road said two ways: equal, one the other's start or end (小区 said without its
    district part), or one typo apart."""
    if not a or not b:
        return False
    if a == b:
        return True
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if len(short) >= 3 and long_.startswith(short) and not (set(long_[len(short) :]) & _DISTINCTIVE - set("区")):
        return True
    if len(short) >= 3 and long_.endswith(short) and not (set(long_[: -len(short)]) & _DISTINCTIVE):
        return True
    return min(len(a), len(b)) >= 4 and _one_typo_apart(a, b)


# Place levels: how sure we are that two calls are about one spot.
CONFLICT, UNKNOWN, SAME_STREET, SAME_COMPOUND, SAME_SPOT = -1, 0, 1, 2, 3


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def place_level(a: Incident, b: Incident, *, radius_m: float) -> int:
    if a.coords and b.coords:
        d = _distance_m(a.coords, b.coords)
        if d <= radius_m:
            return SAME_SPOT
        if d > 3 * radius_m:
            return CONFLICT
    if a.district_code and b.district_code and a.district_code != b.district_code:
        return CONFLICT
    if a.street_code and b.street_code and a.street_code != b.street_code:
        return CONFLICT
    pa, pb = a.place, b.place
    if pa.district and pb.district and pa.district != pb.district:
        return CONFLICT
    if pa.crossing and pb.crossing:
        return SAME_SPOT if pa.crossing == pb.crossing else CONFLICT
    if pa.compound and pb.compound:
        if not same_name(pa.compound, pb.compound):
            return CONFLICT
        if pa.building and pb.building and pa.building != pb.building:
            return CONFLICT
        if pa.unit and pb.unit and pa.unit != pb.unit:
            return CONFLICT
        return SAME_SPOT if pa.building and pb.building else SAME_COMPOUND
    if pa.road and pb.road:
        if not same_name(pa.road, pb.road):
            return CONFLICT
        if pa.road_number and pb.road_number:
            return SAME_SPOT if pa.road_number == pb.road_number else CONFLICT
        return SAME_COMPOUND
    if a.community_code and b.community_code:
        return SAME_COMPOUND if a.community_code == b.community_code else CONFLICT
    if a.street_code and b.street_code:
        return SAME_STREET
    return UNKNOWN


# --- text ----------------------------------------------------------------------------------------
# The problems 12345 calls are about, each with the ways callers and agents say it. Written from the
# category tree and everyday speech, not from the benchmark's pairs.
PROBLEMS: dict[str, tuple[str, ...]] = {
    "lift": ("电梯", "直梯", "轿厢", "梯子不走", "上下楼"),
    "trapped": ("困在", "被困", "关在里面", "出不来", "困人"),
    "light": ("灯",),
    "street_light": ("路灯", "街灯", "灯杆", "马路上的灯", "路边的灯"),
    "stair_light": ("楼道灯", "楼道的灯", "声控灯", "感应灯", "楼梯灯", "楼道里的灯", "楼道黑"),
    "clutter": ("杂物", "堆物", "堆放", "堆满", "堆着", "纸箱", "旧家具", "破烂", "废品", "占用楼道", "堵楼道"),
    "rubbish": ("垃圾", "垃圾桶", "垃圾站", "清运", "没人收", "臭气", "苍蝇"),
    "water_cut": ("停水", "没水", "没有水", "断水", "不出水", "不来水", "水龙头干"),
    "pipe_burst": ("爆管", "水管爆", "水管裂", "水管破", "跑水", "冒水", "喷水", "自来水管"),
    "water_quality": ("水质", "水发黄", "水黄", "水浑", "黄水", "锈水", "水有味"),
    "water_pressure": ("水压", "水流.{0,2}小", "水.{0,2}上不去", "上不去水", "水很小"),
    "heating": ("暖气", "供暖", "不热", "室温", "温度低", "冰凉", "冻得", "太冷"),
    "leak": ("漏水", "渗水", "滴水", "洇水", "往下滴"),
    "roof_leak": ("漏雨", "房顶漏", "屋顶漏", "顶层漏"),
    "power_cut": ("停电", "没电", "断电", "跳闸", "来电了又"),
    "wiring": ("电线", "电缆", "飞线", "私拉", "乱挂", "线缆", "网线", "电线杆"),
    "ebike_charging": ("充电", "电动车", "电瓶车"),
    "gas": ("燃气", "煤气", "天然气", "燃气味", "煤气味", "漏气"),
    "noise": ("噪音", "噪声", "吵", "扰民", "动静大", "声音大", "轰隆", "睡不着"),
    "construction": ("施工", "工地", "打桩", "挖掘机", "渣土车", "电镐", "搅拌"),
    "renovation": ("装修", "砸墙", "改造"),
    "fumes": ("油烟", "烟味", "排烟", "烧烤", "呛"),
    "parking": ("停车", "乱停", "占道停", "车位", "堵门口", "挡道", "僵尸车"),
    "manhole": ("井盖", "窨井", "下水井", "井口", "井圈"),
    "sewer": ("下水道", "下水堵", "管道堵", "反味", "返味", "马桶", "地漏", "化粪池", "污水"),
    "flooding": ("积水", "水淹", "淹了", "雨后", "一下雨", "蹚水"),
    "tree": ("树", "树枝", "树木", "枝杈", "树杈", "杨树", "柳树"),
    "tree_down": ("倒了", "倒伏", "刮倒", "刮断", "折断", "砸"),
    "tree_prune": ("修剪", "剪一下", "挡.{0,2}窗", "挡光", "不见光", "太高"),
    "greenery": ("绿地", "草坪", "绿化带", "花坛"),
    "vendors": ("摆摊", "小摊", "商贩", "占道经营", "早点摊", "水果摊", "游商", "推车卖"),
    "signs": ("广告", "牌匾", "招牌", "横幅"),
    "pets": ("狗", "犬", "宠物", "猫", "遛狗"),
    "cracks": ("裂缝", "开裂", "墙皮", "脱落", "掉渣", "墙体"),
    "signal": ("信号", "没网", "网络差", "打不了电话"),
    "fire_lane": ("消防通道", "消防车道", "消防栓", "灭火器"),
    "road_damage": ("坑", "路面", "破损", "塌陷", "坑洼", "翻浆", "路不平"),
    "traffic_light": ("红绿灯", "信号灯", "交通灯"),
    "wages": ("工资", "欠薪", "工钱", "薪水"),
    "bikes": ("共享单车", "单车", "小黄车", "自行车"),
    "vermin": ("老鼠", "蟑螂", "蚊子", "虫子", "白蚁"),
    "toilet": ("厕所", "公厕", "卫生间"),
    "dust": ("扬尘", "尘土", "灰大", "土大", "苫盖"),
    "burning": ("焚烧", "烧树叶", "烧垃圾", "烧东西", "冒黑烟"),
    "security": ("翻墙", "偷", "小偷", "陌生人", "撬", "被盗", "围墙.{0,3}(豁口|缺口|倒)"),
    "illegal_building": ("私搭", "乱建", "违建", "加盖", "盖了", "搭了", "棚子", "搭建"),
    "door": ("门禁", "单元门", "防盗门", "大门坏"),
    "property_fee": ("物业费", "收费", "涨价", "乱收费"),
    "deposit": ("押金", "退租", "中介"),
    "prepaid": ("预付卡", "办卡", "充值卡", "会员卡", "跑路"),
    "food": ("食品", "过期", "变质", "吃坏", "拉肚子", "餐馆卫生", "后厨"),
    "bus": ("公交", "公交车", "班次", "司机"),
    "rental_crowd": ("群租", "隔断", "住了很多人", "住了十几个人"),
}
# Filler of spoken Chinese and of agents' summaries: carries no incident.
FILLER = (
    "你好",
    "您好",
    "喂",
    "我想反映",
    "反映一下",
    "想反映",
    "我要投诉",
    "投诉一下",
    "来电人称",
    "来电人反映",
    "市民来电反映",
    "市民反映",
    "市民称",
    "来电反映",
    "来电称",
    "诉求人",
    "希望尽快",
    "希望相关部门",
    "相关部门",
    "尽快处理",
    "尽快解决",
    "给解决一下",
    "解决一下",
    "处理一下",
    "管一管",
    "管管",
    "帮忙",
    "麻烦",
    "谢谢",
    "那个",
    "就是",
    "这个",
    "我们",
    "我家",
    "咱们",
    "现在",
    "一直",
    "已经",
    "还是",
    "号楼",
    "号院",
    "单元",
    "门口",
    "楼下",
    "楼前",
    "前面",
    "小区",
    "院里",
    "的",
    "了",
    "呢",
    "吧",
    "啊",
    "呀",
    "吗",
    "么",
    "都",
    "也",
    "又",
    "很",
    "太",
    "有",
    "在",
    "是",
)
_FILLER_RE = re.compile("|".join(sorted(map(re.escape, FILLER), key=len, reverse=True)))
_NON_LETTER_RE = re.compile(r"[\W\d_a-zA-Z]+")


_PROBLEM_RES = {name: re.compile("|".join(words)) for name, words in PROBLEMS.items()}


def problems(text: str) -> frozenset[str]:
    return frozenset(name for name, pattern in _PROBLEM_RES.items() if pattern.search(text))


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def text_core(description: str, address: str = "") -> str:
    """The description without the address, filler, digits and punctuation."""
    text = normalize(description)
    for part in {normalize(address), *_address_words(address)}:
        if len(part) >= 2:
            text = text.replace(part, " ")
    text = _FILLER_RE.sub(" ", text)
    return _NON_LETTER_RE.sub("", text)


def _address_words(address: str) -> list[str]:
    place = parse_place(address)
    words = [place.compound, place.road, *place.crossing]
    if place.district:
        words += [place.district + "区", place.district]
    return [w for w in words if w]


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def text_similarity(a: Incident, b: Incident) -> float:
    """0..1: bigram Dice of the cores; when both name problems, half of it is their overlap (cosine of
    the two sets: a caller who also mentions the puddle still reports the burst pipe), and naming
    only different problems caps it low."""
    dice = _dice(a.grams, b.grams)
    if a.problems and b.problems:
        overlap = len(a.problems & b.problems) / math.sqrt(len(a.problems) * len(b.problems))
        if not a.problems & b.problems:
            return 0.25 * dice
        return 0.5 * overlap + 0.5 * max(dice, overlap * 0.6)
    return dice


# --- categories ------------------------------------------------------------------------------------
SAME_CATEGORY, NEAR_CATEGORY, OTHER_CATEGORY, NO_CATEGORY = "same", "near", "other", "none"


# Leaves that hold many kinds of problem (物业服务质量: cleaning, guards, the manager's manners …):
# for them only the text tells two incidents apart. Any other leaf names the problem itself (停气,
# 水质问题, 电梯故障), so two calls in it share that problem as if both had said it.
BROAD_LEAVES = frozenset(
    {
        "010103",  # 物业服务质量
        "010104",  # 物业收费
        "010105",  # 公共设施维修
        "010203",  # 占用公共空间
        "060201",  # 社会生活噪声
        "100101",  # 治安隐患
        "100202",  # 消防安全隐患
        "100301",  # 邻里矛盾
        "030101",  # 商品质量
        "050301",  # 违章停车
        "010501",  # 垃圾清运
    }
)


def category_relation(a: str, b: str) -> str:
    """Category codes are the tree (01 → 0101 → 010101): the same leaf or an ancestor/descendant is
    "same"; leaves under one level-2 node are "near"; anything else "other"."""
    if not a or not b:
        return NO_CATEGORY
    if a.startswith(b) or b.startswith(a):
        return SAME_CATEGORY
    if len(a) >= 4 and len(b) >= 4 and a[:4] == b[:4]:
        return NEAR_CATEGORY
    return OTHER_CATEGORY


def categories_related(a: str, b: str) -> bool:
    """What a duplicate link may join without a stated reason (and what the finder proposes)."""
    return category_relation(a, b) in (SAME_CATEGORY, NEAR_CATEGORY, NO_CATEGORY)


# --- the verdict -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Thresholds:
    """Text similarity needed at each place level (SAME_SPOT, SAME_COMPOUND, SAME_STREET), and the
    extra needed for a neighbouring category. From settings.DUPLICATE_* (see `thresholds()`)."""

    spot: float = 0.20
    compound: float = 0.30
    street: float = 0.60
    near_category_extra: float = 0.10
    radius_m: float = 150.0

    def needed(self, level: int) -> float | None:
        return {SAME_SPOT: self.spot, SAME_COMPOUND: self.compound, SAME_STREET: self.street}.get(level)


def thresholds() -> Thresholds:
    from django.conf import settings

    return Thresholds(
        spot=settings.DUPLICATE_TEXT_SAME_SPOT,
        compound=settings.DUPLICATE_TEXT_SAME_COMPOUND,
        street=settings.DUPLICATE_TEXT_SAME_STREET,
        near_category_extra=settings.DUPLICATE_TEXT_NEAR_CATEGORY_EXTRA,
        radius_m=settings.DUPLICATE_RADIUS_METERS,
    )


@dataclass(frozen=True)
class Incident:
    """What one call (or order) says about its incident."""

    description: str
    address: str = ""
    category_code: str = ""
    district_code: str = ""
    street_code: str = ""
    community_code: str = ""
    coords: tuple[float, float] | None = None
    place: Place = field(init=False)
    core: str = field(init=False)
    grams: frozenset[str] = field(init=False)
    problems: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        place = parse_place(self.address)
        core = text_core(self.description, self.address)
        object.__setattr__(self, "place", place)
        object.__setattr__(self, "core", core)
        object.__setattr__(self, "grams", _bigrams(core))
        named = problems(normalize(self.description))
        if len(self.category_code) == 6 and self.category_code not in BROAD_LEAVES:
            named |= {"category:" + self.category_code}
        object.__setattr__(self, "problems", named)


@dataclass(frozen=True)
class Verdict:
    duplicate: bool
    score: float  # text similarity, 0..1
    place: int  # CONFLICT … SAME_SPOT
    category: str  # SAME_CATEGORY …


def compare(new: Incident, old: Incident, limits: Thresholds | None = None) -> Verdict:
    limits = limits or Thresholds()
    relation = category_relation(new.category_code, old.category_code)
    level = place_level(new, old, radius_m=limits.radius_m)
    score = text_similarity(new, old)
    needed = limits.needed(level)
    if needed is not None and relation == NEAR_CATEGORY:
        needed += limits.near_category_extra
    duplicate = needed is not None and relation != OTHER_CATEGORY and score >= needed
    return Verdict(duplicate=duplicate, score=round(score, 3), place=level, category=relation)
