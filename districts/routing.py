"""Route a free-text address to the street/township offices that may own it.

`route_address("丰台区洋桥北里12号楼")` finds every official name (district, street/township,
community/village, by full name and by core name) and every alias in the text and ranks the
street-level divisions they point to. It never guesses between places that share a name: a bare
"马家堡" returns both 丰台's 马家堡街道 and the 顺义 township that has a 马家堡村.

Matching
- Keys are the full name, the core name (天竺地区 → 天竺) and the core with each suffix of its own
  kind (天竺镇, 天竺乡, 天竺街道 … → 天竺地区; 洋桥北里社区居委会 → 洋桥北里社区). So names that drifted
  (天竺镇 / 天竺地区, 南苑乡 / 南苑街道) and names said without a suffix ("丰台西罗园") all match.
- Keys shorter than 2 characters are never matched (张镇's core "张" would hit every 张).
- Only the longest match counts where matches nest: "洋桥北里" hides "北里", "丰台区" hides the
  丰台街道 reading of "丰台", "马家堡东里" hides "马家堡".
- Two-character community/village cores are noisy. Bare ones, and a bare name that is also a
  district's name (丰台, 海淀, 怀柔 …), are *weak* evidence: a candidate with weak evidence only is
  dropped as soon as strong evidence matched elsewhere in the text (in "天竺镇府前街", 平谷's 府前社区
  goes), but kept when the strong match is on the same words ("东升": 海淀's 东升地区, then 密云's
  东升居委会). Generic ones (北里, 东区, 二街, 南庄: a direction or numeral plus a place word) are not
  even that unless they carry their suffix (北里社区) or lie in the district the caller named
  ("昌平区西营" is 昌平's 西营村; "西营" alone is nothing).

Scoring (points, per piece of evidence, i.e. one match pointing at one street)
- 40 for a street, community/village or alias match, plus 4 per character beyond two (at most 40:
  longer matches beat shorter ones), plus 6 when the text carries the official suffix or the match
  is an alias (explicit: 天竺镇, 洋桥北里社区, 玉林小区), plus 2 for a street-level name so that at
  equal length the street comes first (a bare "马家堡" is more often 马家堡街道 than a village).
  Weak evidence scores 15.
- Most specific first: a community/village or alias match gets 4 more, unless the same words are
  also a street's name (a bare "马家堡" stays 马家堡街道). So in "回龙观龙泽苑" the community 龙泽苑
  (→ 龙泽园街道) outranks the street name 回龙观 that merely starts the longer word.
- A street's score is its best evidence plus half of its second-best evidence from another part of
  the text (at most 20): a street and a community that agree ("西罗园街道洋桥北里") reinforce each
  other. When they disagree, both streets are returned and the explicit, longer one ranks first.
- `district_code` keeps only that district's streets. A district named in the text (丰台区, 丰台)
  keeps only its streets and adds 10 — unless none of the candidates is in it, in which case the
  text's district is probably a slip: nothing is filtered and the reason says so.
Ties are broken by street code.

The index lives in memory, one per process, built on first use (~7,900 divisions, a dict of about
39,000 keys, ~0.1 s). It is rebuilt when Alias or Division rows are saved or deleted in this process
(signals) and, for changes made by other processes or by bulk loads, when a cheap fingerprint of both
tables (counts, max ids, sums of name lengths, first/last code points and parents) changes; the
fingerprint (two aggregate queries, ~3 ms on SQLite) is checked at most every STAMP_CHECK_SECONDS.
Aliases carry updated_at, so any alias edit in another process changes the fingerprint; a division
renamed in place without changing its length or first character (the loader's bulk update) is
caught by the unconditional rebuild after MAX_AGE_SECONDS.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.db.models.functions import Length, Ord, Reverse
from django.db.models.signals import post_delete, post_save

from districts.models import Alias, Division

STAMP_CHECK_SECONDS = 5.0
MAX_AGE_SECONDS = 600.0
MAX_TEXT_LENGTH = 500  # longer input is cut: an address never needs more, and it bounds the scan

BASE = 40
PER_EXTRA_CHAR = 4
LENGTH_BONUS_CAP = 40
EXPLICIT_BONUS = 6
STREET_LEVEL_BONUS = 2
WEAK = 15
AGREEMENT_CAP = 20
DISTRICT_BONUS = 10
SPECIFIC_BONUS = 4

STREET_SUFFIXES = ("街道", "地区", "镇", "乡", "街道办事处", "地区办事处", "办事处", "镇政府", "乡政府")
COMMUNITY_SUFFIXES = ("社区", "社区居委会", "社区居民委员会", "居委会", "居民委员会")
VILLAGE_SUFFIXES = ("村", "村委会", "村民委员会")
DISTRICT_SUFFIXES = ("区", "县")
# A two-character community core made of one of these and one of the next is a generic address
# word (北里, 东区, 二街, 南庄), not a place anyone names on its own.
_GENERIC_FIRST = set("东西南北中前后上下左右内外一二三四五六七八九十新老大小")
_GENERIC_SECOND = set("里区街路村巷条楼院园门口庄屯营店苑城关坊")


@dataclass(frozen=True)
class Candidate:
    street_id: int
    street_code: str
    street_name: str
    district_code: str
    district_name: str
    score: int
    reason: str
    matched: str


@dataclass(frozen=True, slots=True)
class _Entry:
    source: str  # "district" | "street" | "community" | "alias"
    target_id: int  # the district for "district", otherwise the street
    label: str  # how the reason names what matched: community name, or 别名“…”（小区）→ community
    explicit: bool  # full official name, core + own suffix, or an alias
    weak: bool
    generic: bool = False  # a generic two-character core: only counts inside a named district


@dataclass(frozen=True, slots=True)
class _Street:
    id: int
    code: str
    name: str
    district_id: int | None


@dataclass(frozen=True, slots=True)
class _District:
    id: int
    code: str
    name: str


class _Index:
    def __init__(self) -> None:
        self.keys: dict[str, list[_Entry]] = {}
        self.lengths: list[int] = []  # distinct key lengths, longest first
        self.streets: dict[int, _Street] = {}
        self.districts: dict[int, _District] = {}
        self.district_by_code: dict[str, int] = {}

    def add(self, key: str, entry: _Entry) -> None:
        if len(key) < 2:
            return
        entries = self.keys.setdefault(key, [])
        # The same division reached through two keys that happen to be equal (core == full name).
        if not any(
            e.source == entry.source and e.target_id == entry.target_id and e.label == entry.label for e in entries
        ):
            entries.append(entry)

    def scan(self, text: str) -> list[tuple[int, int, list[_Entry]]]:
        """Every (start, end, entries) whose text is a key, without matches nested in longer ones."""
        hits = []
        n = len(text)
        for start in range(n - 1):
            for length in self.lengths:
                end = start + length
                if end > n:
                    continue
                entries = self.keys.get(text[start:end])
                if entries:
                    hits.append((start, end, entries))
        return [
            hit
            for hit in hits
            if not any(o[0] <= hit[0] and hit[1] <= o[1] and o[1] - o[0] > hit[1] - hit[0] for o in hits)
        ]


def _is_generic(core: str) -> bool:
    return len(core) == 2 and core[0] in _GENERIC_FIRST and core[1] in _GENERIC_SECOND


def _build() -> _Index:
    index = _Index()
    rows = list(
        Division.objects.filter(
            level__in=[Division.Level.DISTRICT, Division.Level.STREET, Division.Level.COMMUNITY]
        ).values_list("id", "code", "name", "core_name", "level", "kind", "parent_id", "district_id")
    )
    communities: dict[int, tuple[str, int]] = {}  # id → (name, street id)
    for id_, code, name, _core, level, _kind, parent_id, district_id in rows:
        if level == Division.Level.DISTRICT:
            index.districts[id_] = _District(id_, code, name)
            index.district_by_code[code] = id_
        elif level == Division.Level.STREET:
            index.streets[id_] = _Street(id_, code, name, district_id)
        else:
            communities[id_] = (name, parent_id)
    district_cores = {core for _, _, _, core, level, *_ in rows if level == Division.Level.DISTRICT}

    for id_, _code, name, core, level, kind, parent_id, _district_id in rows:
        if level == Division.Level.DISTRICT:
            entry = _Entry("district", id_, name, explicit=True, weak=False)
            index.add(name, entry)
            index.add(core, entry)
            for suffix in DISTRICT_SUFFIXES:
                index.add(core + suffix, entry)
            continue
        if level == Division.Level.STREET:
            source, street_id, suffixes = "street", id_, STREET_SUFFIXES
            bare_weak = core in district_cores
        else:
            if parent_id not in index.streets:
                continue
            source, street_id = "community", parent_id
            suffixes = VILLAGE_SUFFIXES if kind == Division.Kind.VILLAGE else COMMUNITY_SUFFIXES
            bare_weak = len(core) == 2 or core in district_cores
        index.add(name, _Entry(source, street_id, name, explicit=True, weak=False))
        if len(core) < 2:
            continue
        for suffix in suffixes:
            index.add(core + suffix, _Entry(source, street_id, name, explicit=True, weak=False))
        if core != name:
            generic = source == "community" and _is_generic(core)
            index.add(core, _Entry(source, street_id, name, explicit=False, weak=bare_weak, generic=generic))

    kind_labels = dict(Alias.Kind.choices)
    for alias_name, kind, division_id in Alias.objects.values_list("name", "kind", "division_id"):
        label = f"别名“{alias_name}”（{kind_labels.get(kind, kind)}）"
        if division_id in index.streets:
            street_id = division_id
        elif division_id in communities:
            community_name, street_id = communities[division_id]
            label = _arrow(label, community_name)
        else:
            continue  # an alias of a district or of another province's place routes nowhere
        index.add(
            unicodedata.normalize("NFKC", alias_name).replace(" ", ""),
            _Entry("alias", street_id, label, explicit=True, weak=False),
        )

    index.lengths = sorted({len(k) for k in index.keys}, reverse=True)
    return index


def _stamp() -> tuple:
    aliases = Alias.objects.aggregate(
        n=Count("id"),
        max_id=Max("id"),
        lengths=Sum(Length("name")),
        firsts=Sum(Ord("name")),
        lasts=Sum(Ord(Reverse("name"))),
        targets=Sum("division_id"),
        kinds=Sum(Ord("kind")),
        updated=Max("updated_at"),
    )
    divisions = Division.objects.aggregate(
        n=Count("id"),
        max_id=Max("id"),
        lengths=Sum(Length("name")),
        cores=Sum(Length("core_name")),
        firsts=Sum(Ord("name")),
        parents=Sum("parent_id"),
        levels=Sum("level"),
    )
    return tuple(aliases.values()) + tuple(divisions.values())


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: _Index | None = None
        self.stamp: tuple | None = None
        self.generation = 0  # bumped by invalidate(); the index remembers the one it was built at
        self.built_generation = -1
        self.built_at = 0.0
        self.checked_at = 0.0

    def get(self) -> _Index:
        now = time.monotonic()
        index = self.index
        if (
            index is not None
            and self.built_generation == self.generation
            and now - self.checked_at < STAMP_CHECK_SECONDS
            and now - self.built_at < MAX_AGE_SECONDS
        ):
            return index
        with self.lock:
            generation = self.generation
            now = time.monotonic()
            if (  # another thread checked while this one waited for the lock
                self.index is not None
                and self.built_generation == generation
                and now - self.checked_at < STAMP_CHECK_SECONDS
                and now - self.built_at < MAX_AGE_SECONDS
            ):
                return self.index
            stamp = _stamp()  # before reading the rows: a change in between only costs a rebuild
            if (
                self.index is not None
                and self.built_generation == generation
                and stamp == self.stamp
                and now - self.built_at < MAX_AGE_SECONDS
            ):
                self.checked_at = now
                return self.index
            index = _build()
            self.index, self.stamp, self.built_generation = index, stamp, generation
            self.built_at = self.checked_at = time.monotonic()
            return index


_cache = _Cache()


def invalidate() -> None:
    """Make the next lookup in this process rebuild the index."""
    _cache.generation += 1


def warm_up() -> float:
    """Build the index now (e.g. at start-up or in a benchmark); returns the seconds it took."""
    invalidate()
    started = time.perf_counter()
    _cache.get()
    return time.perf_counter() - started


def _on_change(sender, **kwargs) -> None:
    invalidate()
    # A lookup between the save and the commit may have rebuilt without the row: build again once
    # it is visible to everyone.
    transaction.on_commit(invalidate)


for _model in (Alias, Division):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"routing-{_model.__name__}-save")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"routing-{_model.__name__}-delete")


def _normalize(text: str) -> str:
    # NFKC turns full-width digits and letters into ASCII; callers type spaces anywhere.
    return "".join(unicodedata.normalize("NFKC", text or "").split())[:MAX_TEXT_LENGTH]


def _score(entry: _Entry, matched: str) -> int:
    if entry.weak:
        return WEAK
    score = BASE + min(PER_EXTRA_CHAR * (len(matched) - 2), LENGTH_BONUS_CAP)
    if entry.explicit:
        score += EXPLICIT_BONUS
    if entry.source == "street":
        score += STREET_LEVEL_BONUS
    return score


def _reason(entry: _Entry, matched: str, street: _Street) -> str:
    if entry.source == "street":
        return _arrow(f"街道名“{matched}”", street.name)
    return _arrow(entry.label, street.name)


def _arrow(left: str, right: str) -> str:
    # A full-width bracket already carries its own space.
    return f"{left}→ {right}" if left.endswith("）") else f"{left} → {right}"


@dataclass
class _Evidence:
    score: int
    span: tuple[int, int]
    matched: str
    reason: str
    weak: bool


def route_address(text: str, *, district_code: str | None = None, limit: int = 8) -> list[Candidate]:
    """Candidate streets/townships for a free-text address, best first (see the module docstring)."""
    text = _normalize(text)
    if len(text) < 2 or limit <= 0:
        return []
    index = _cache.get()

    only_district = None
    if district_code:
        only_district = index.district_by_code.get(district_code)
        if only_district is None:
            return []

    hits = index.scan(text)
    named_districts: dict[int, str] = {}  # district id → the text that named it
    for start, end, entries in hits:
        for entry in entries:
            if entry.source == "district":
                named_districts.setdefault(entry.target_id, text[start:end])
    allowed_generic = {only_district} if only_district is not None else set(named_districts)

    evidence: dict[int, dict[tuple[int, int], _Evidence]] = {}  # street → span → best evidence there
    for start, end, entries in hits:
        matched = text[start:end]
        street_named = any(e.source == "street" for e in entries)
        for entry in entries:
            if entry.source == "district":
                continue
            street = index.streets[entry.target_id]
            if entry.generic and street.district_id not in allowed_generic:
                continue
            score = _score(entry, matched)
            if entry.source in ("community", "alias") and not entry.weak and not street_named:
                score += SPECIFIC_BONUS
            found = _Evidence(score, (start, end), matched, _reason(entry, matched, street), entry.weak)
            spans = evidence.setdefault(street.id, {})
            if (start, end) not in spans or spans[(start, end)].score < found.score:
                spans[(start, end)] = found

    street_ids = list(evidence)
    district_slip = ""
    if only_district is not None:
        street_ids = [s for s in street_ids if index.streets[s].district_id == only_district]
    elif named_districts:
        inside = [s for s in street_ids if index.streets[s].district_id in named_districts]
        if inside:
            street_ids = inside
        else:
            district_slip = "、".join(named_districts.values())
    # Weak evidence elsewhere in the text is noise once something strong matched; on the very same
    # words it is the same name in another place, which the agent must see.
    strong_spans = {e.span for s in street_ids for e in evidence[s].values() if not e.weak}
    if strong_spans:
        street_ids = [s for s in street_ids if any(not e.weak or e.span in strong_spans for e in evidence[s].values())]

    candidates = []
    for street_id in street_ids:
        street = index.streets[street_id]
        ranked = sorted(evidence[street_id].values(), key=lambda e: (-e.score, e.span))
        best = ranked[0]
        score = best.score
        reasons = [best.reason]
        others = [e for e in ranked[1:] if not _overlaps(e.span, best.span)]
        if others:
            score += min(others[0].score // 2, AGREEMENT_CAP)
            reasons.append(others[0].reason)
        district = index.districts.get(street.district_id)
        if street.district_id in named_districts and only_district is None:
            score += DISTRICT_BONUS
            reasons.append(f"区名“{named_districts[street.district_id]}”")
        if district_slip:
            reasons.append(f"注意：地址写的是“{district_slip}”，此街乡不在该区")
        candidates.append(
            Candidate(
                street_id=street.id,
                street_code=street.code,
                street_name=street.name,
                district_code=district.code if district else "",
                district_name=district.name if district else "",
                score=score,
                reason="；".join(reasons),
                matched=best.matched,
            )
        )
    candidates.sort(key=lambda c: (-c.score, c.street_code))
    return candidates[:limit]


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
