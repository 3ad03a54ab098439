"""Category suggestions (hotline/intake/suggest.py): how often the right category is first, or among
the three suggested.

1. History split: orders sorted by id, the model trains on the first --train share (default 80 %) of
   the newest --orders (default 100,000) and is tested on the rest (their final category against
   their call's description).
2. Hand-written set: bench/data/category_eval.tsv — descriptions written as callers speak, none of
   them in any history — against a model trained on the same newest --orders, and against the tree
   and keywords alone (a new center without history).

Note: `generate_orders` (the 1 M benchmark data) draws the description independently of the
category, so on that database the history split can only show chance level; it measures the
method only on a real center's history (or the demo data).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hl_h11_bench .venv/bin/python bench/bench_category.py
    .venv/bin/python bench/bench_category.py       # the SQLite demo database

Read-only. Prints top-1/top-3 accuracy, the time per suggestion, and the machine load.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django  # noqa: E402

django.setup()

from hotline.intake.suggest import train  # noqa: E402
from hotline.models import Category  # noqa: E402
from workorders.models import WorkOrder  # noqa: E402


def accuracy(model, cases) -> tuple[float, float, float]:
    top1 = top3 = 0
    started = time.perf_counter()
    for category_id, text in cases:
        ranked = model.rank(text, 3)
        top1 += bool(ranked) and ranked[0] == category_id
        top3 += category_id in ranked
    per = (time.perf_counter() - started) / max(1, len(cases)) * 1000
    return top1 / max(1, len(cases)), top3 / max(1, len(cases)), per


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--train", type=float, default=0.8)
    parser.add_argument("--test-max", type=int, default=20_000)
    args = parser.parse_args()

    categories = list(Category.objects.select_related("parent__parent"))
    by_code = {c.code: c.pk for c in categories}
    started = time.perf_counter()
    rows = list(
        WorkOrder.objects.order_by("-id").values_list("category_id", "call__description", "call__request_type")[
            : args.orders
        ]
    )
    rows.reverse()  # oldest first: train on the past, test on what came after
    cut = int(len(rows) * args.train)
    model = train(rows[:cut], categories)
    built = time.perf_counter() - started
    tested = [(c, d) for c, d, _t in rows[cut:]][: args.test_max]
    t1, t3, per = accuracy(model, tested)
    load = os.getloadavg()
    print(
        f"history: {len(rows):,} orders ({WorkOrder.objects.count():,} in the database), "
        f"{len({c for c, _d, _t in rows}):,} categories used; trained on {cut:,} in {built:.1f} s"
    )
    print(f"load average (1/5/15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print(f"  history split  n={len(tested):6,}  top-1 {t1:6.1%}  top-3 {t3:6.1%}  {per:.2f} ms per suggestion")

    full = train(rows, categories)
    tree_only = train([], categories)
    cases = []
    for line in (ROOT / "bench" / "data" / "category_eval.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, text = line.split("\t", 1)
            if code in by_code:
                cases.append((by_code[code], text))
    t1, t3, per = accuracy(full, cases)
    print(
        f"  hand-written   n={len(cases):6,}  top-1 {t1:6.1%}  top-3 {t3:6.1%}  {per:.2f} ms per suggestion"
        "  (tree + keywords + history)"
    )
    t1, t3, per = accuracy(tree_only, cases)
    print(
        f"  hand-written   n={len(cases):6,}  top-1 {t1:6.1%}  top-3 {t3:6.1%}  {per:.2f} ms per suggestion"
        "  (tree + keywords only)"
    )
    misses = [(c, t) for c, t in cases if c not in tree_only.rank(t, 3)]
    names = {c.pk: c.name for c in categories}
    for c, t in misses[:8]:
        print(f"    missed: {t}  (want {names[c]}, got {'、'.join(names[x] for x in tree_only.rank(t, 3))})")


if __name__ == "__main__":
    main()
