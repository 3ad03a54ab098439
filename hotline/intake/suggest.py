"""Category suggestions (分类推荐) from the description the agent is typing.

Learned from the center's own history: the final category of past orders (WorkOrder.category, which
a correction changes) against their calls' descriptions, as a multinomial naive Bayes over character
1- and 2-grams (Chinese needs no word segmentation for this, and nothing is downloaded). On top, the
keywords the center maintains per category in the admin (Category.keywords) and the category's own
name: a description containing one is strong evidence. The request type (投诉/求助/咨询 …) is
suggested the same way when the history makes it evident (one type holds most of the probability).

The model is built per process from the newest TRAIN_ORDERS orders on first use and rebuilt after
TTL_SECONDS; `train()` and `Model.rank()` are also what bench/bench_category.py measures.
"""

from __future__ import annotations

import math
import re
import threading
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models.signals import post_save

from hotline.models import Category
from workorders.models import WorkOrder

TRAIN_ORDERS = 100_000
TTL_SECONDS = 3600.0
ALPHA = 0.1
KEYWORD_BONUS = 6.0  # in log-probability units: a keyword hit outweighs a few ambiguous n-grams
NAME_BONUS = 4.0
EVIDENT_TYPE = 0.7
NAME_WEIGHT = 30
MAX_TEXT = 500
_SPLIT = re.compile(r"[\s,，、;；]+")
_NOISE = re.compile(r"[\s\d\W_]+")


def grams(text: str) -> list[str]:
    """Character 1- and 2-grams of the text's letters (digits, spaces and punctuation dropped)."""
    text = _NOISE.sub(" ", unicodedata.normalize("NFKC", text or "")[:MAX_TEXT]).lower()
    out = []
    for piece in text.split():
        out.extend(piece)
        out.extend(piece[i : i + 2] for i in range(len(piece) - 1))
    return out


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    path: str
    score: float  # the share of the top candidates' probability, 0..1


class Model:
    def __init__(self) -> None:
        self.prior: dict[int, float] = {}
        self.gram_counts: dict[str, dict[int, int]] = defaultdict(dict)
        self.totals: Counter = Counter()
        self.vocabulary = 1
        self.types: dict[int, Counter] = defaultdict(Counter)  # category → request type counts
        self.keywords: list[tuple[str, int, float]] = []  # (word, category id, bonus)

    def add(self, category_id: int, text: str, request_type: str = "", *, weight: int = 1, prior: bool = True) -> None:
        if prior:
            self.prior[category_id] = self.prior.get(category_id, 0) + 1
        for g in grams(text):
            counts = self.gram_counts[g]
            counts[category_id] = counts.get(category_id, 0) + weight
            self.totals[category_id] += weight
        if request_type:
            self.types[category_id][request_type] += 1

    def finish(self, categories) -> Model:
        leaves = [c for c in categories if c.level == 3 and c.is_active]
        # The tree itself is evidence too: each leaf's path and keywords count as NAME_WEIGHT words
        # of text of that category, so a new center (or a noisy history) still gets sensible hints.
        for c in leaves:
            self.add(c.pk, f"{c.path} {c.keywords or ''}", weight=NAME_WEIGHT, prior=False)
        self.vocabulary = max(1, len(self.gram_counts))
        n = sum(self.prior.values()) or 1
        for c in leaves:  # unseen categories get a small prior, so a keyword can still find them
            self.prior[c.pk] = math.log((self.prior.get(c.pk, 0) + 1) / (n + len(leaves)))
        self.leaves = {c.pk: c for c in leaves}
        for c in leaves:
            for word in filter(None, _SPLIT.split(c.keywords or "")):
                if len(word) >= 2:
                    self.keywords.append((word.lower(), c.pk, KEYWORD_BONUS))
            if len(c.name) >= 2:
                self.keywords.append((c.name.lower(), c.pk, NAME_BONUS))
        return self

    def scores(self, text: str) -> dict[int, float]:
        gs = grams(text)
        if not gs:
            return {}
        scores = {}
        log_alpha = math.log(ALPHA)
        for cid, prior in self.prior.items():
            if cid not in self.leaves:
                continue
            scores[cid] = prior + len(gs) * (log_alpha - math.log(self.totals[cid] + ALPHA * self.vocabulary))
        for g in gs:
            for cid, count in self.gram_counts.get(g, {}).items():
                if cid in scores:
                    scores[cid] += math.log(count + ALPHA) - log_alpha
        lowered = unicodedata.normalize("NFKC", text).lower()
        hit: dict[int, float] = {}
        for word, cid, bonus in self.keywords:
            if cid in scores and word in lowered:
                hit[cid] = max(hit.get(cid, 0.0), bonus + 0.5 * len(word))
        for cid, bonus in hit.items():
            scores[cid] += bonus
        return scores

    def rank(self, text: str, k: int = 3) -> list[int]:
        scores = self.scores(text)
        return sorted(scores, key=lambda c: (-scores[c], c))[:k]

    def suggest(self, text: str, k: int = 3) -> tuple[list[Suggestion], str]:
        scores = self.scores(text)
        if not scores:
            return [], ""
        top = sorted(scores, key=lambda c: (-scores[c], c))[:k]  # as rank(), with the scores kept
        best = scores[top[0]]
        weights = {c: math.exp(scores[c] - best) for c in top}
        total = sum(weights.values())
        suggestions = [
            Suggestion(self.leaves[c].code, self.leaves[c].name, self.leaves[c].path, round(weights[c] / total, 3))
            for c in top
        ]
        return suggestions, self._request_type(top[0])

    def _request_type(self, category_id: int) -> str:
        counts = self.types.get(category_id)
        if not counts:
            return ""
        total = sum(counts.values())
        kind, n = counts.most_common(1)[0]
        return kind if n / total >= EVIDENT_TYPE else ""


def train(rows, categories) -> Model:
    """rows: (category id, description, request type) of past orders."""
    model = Model()
    for category_id, description, request_type in rows:
        model.add(category_id, description, request_type)
    return model.finish(categories)


def history_rows(limit: int = TRAIN_ORDERS):
    return (
        WorkOrder.objects.order_by("-id")
        .values_list("category_id", "call__description", "call__request_type")[:limit]
        .iterator(chunk_size=5000)
    )


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.model: Model | None = None
        self.built_at = 0.0

    def get(self) -> Model:
        """The model; a stale one is rebuilt by the one request that finds it stale while the others
        keep answering from the old model (only the very first build makes requests wait)."""
        model = self.model
        if model is not None and time.monotonic() - self.built_at <= TTL_SECONDS:
            return model
        if model is not None and not self.lock.acquire(blocking=False):
            return model  # another request is rebuilding it
        if model is None:
            self.lock.acquire()
        try:
            if self.model is None or time.monotonic() - self.built_at > TTL_SECONDS:
                categories = list(Category.objects.select_related("parent__parent"))
                self.model = train(history_rows(), categories)
                self.built_at = time.monotonic()
            return self.model
        finally:
            self.lock.release()

    def clear(self, **_kwargs) -> None:
        self.built_at = float("-inf")  # stale: rebuilt on next use, without dropping the old model


_cache = _Cache()


def suggest_categories(text: str, k: int = 3) -> tuple[list[Suggestion], str]:
    """The top k leaf categories for a description, and the request type if evident ("" if not)."""
    text = (text or "")[:MAX_TEXT]
    if len(text.strip()) < 2:
        return [], ""
    return _cache.get().suggest(text, k)


def clear_cache(**_kwargs) -> None:
    _cache.clear()


# Keywords edited in the admin count at once in this process (others: within TTL_SECONDS).
post_save.connect(clear_cache, sender=Category, dispatch_uid="suggest-category-saved")
