"""Duplicate candidates (重复诉求): precision and recall of the finder (hotline/intake/duplicates.py)
on a labelled set of call pairs, beside today's rule as a baseline.

The set is bench/data/duplicate_pairs.tsv: hand-written pairs (same incident said differently, same
building but another problem, the same problem in another building or district, the same caller with
an unrelated problem, typos and spoken addresses). Its `split` column keeps two halves: `--tune`
searches the thresholds on the tune half only and prints the best; the report is on the test half
(with the thresholds of the settings, or those given on the command line).

    .venv/bin/python bench/bench_duplicates.py            # report on the test half
    .venv/bin/python bench/bench_duplicates.py --tune     # choose thresholds on the tune half
    .venv/bin/python bench/bench_duplicates.py --split all --errors

Baseline ("today's rule", before issue 21): a pair is a repeat when the caller is the same (the
caller has an open order) or when the category is the same and so is the place (the address's
compound, as routing's community would find it, or the same address text).

No database: the finder compares texts and codes. Prints precision, recall, F1 and the counts.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.config.settings")

import django  # noqa: E402

django.setup()

from hotline.intake.duplicates import Incident, Thresholds, compare, parse_place, thresholds  # noqa: E402

DATA = ROOT / "bench" / "data" / "duplicate_pairs.tsv"


@dataclass(frozen=True)
class Pair:
    id: int
    split: str
    label: bool
    kind: str
    same_caller: bool
    a: Incident
    b: Incident


def load(path: Path = DATA) -> list[Pair]:
    with path.open(encoding="utf-8") as f:
        lines = [line for line in f if not line.startswith("#")]
    pairs = []
    for row in csv.DictReader(lines, delimiter="\t"):
        pairs.append(
            Pair(
                id=int(row["id"]),
                split=row["split"],
                label=row["label"] == "1",
                kind=row["kind"],
                same_caller=row["same_caller"] == "1",
                a=Incident(description=row["a_text"], address=row["a_address"], category_code=row["a_category"]),
                b=Incident(description=row["b_text"], address=row["b_address"], category_code=row["b_category"]),
            )
        )
    return pairs


def baseline(pair: Pair) -> bool:
    """Today's rule: the same caller, or the same category at the same compound/address."""
    if pair.same_caller:
        return True
    if pair.a.category_code != pair.b.category_code:
        return False
    pa, pb = parse_place(pair.a.address), parse_place(pair.b.address)
    same_compound = bool(pa.compound) and pa.compound == pb.compound
    return same_compound or pair.a.address == pair.b.address


def scores(pairs: list[Pair], predict) -> dict:
    tp = sum(1 for p in pairs if p.label and predict(p))
    fp = sum(1 for p in pairs if not p.label and predict(p))
    fn = sum(1 for p in pairs if p.label and not predict(p))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def line(name: str, s: dict) -> str:
    return (
        f"{name:<28} precision {s['precision']:.3f}  recall {s['recall']:.3f}  F1 {s['f1']:.3f}"
        f"  (tp {s['tp']}, fp {s['fp']}, fn {s['fn']})"
    )


def tune(pairs: list[Pair]) -> Thresholds:
    """Grid search on the tune half: among the settings that reach precision ≥ 0.95 and recall ≥ 0.9
    there, those with the best F1 form a plateau; its middle setting is taken (not its edge, which
    would fit the tune half too closely)."""
    grid = [x / 20 for x in range(2, 19)]
    best: list[Thresholds] = []
    best_key = (-1.0, -1.0, -1.0)
    for spot, compound, street, extra in itertools.product(grid, grid, [0.6, 0.75, 0.9, 1.01], [0.0, 0.1, 0.2]):
        if compound < spot:
            continue
        limits = Thresholds(spot=spot, compound=compound, street=street, near_category_extra=extra)
        s = scores(pairs, lambda p, limits=limits: compare(p.b, p.a, limits).duplicate)
        key = (float(s["precision"] >= 0.95 and s["recall"] >= 0.9), s["f1"], s["precision"])
        if key > best_key:
            best, best_key = [limits], key
        elif key == best_key:
            best.append(limits)
    middle = sorted(best, key=lambda t: (t.spot, t.compound, t.street, t.near_category_extra))[len(best) // 2]
    spots = sorted({t.spot for t in best})
    compounds = sorted({t.compound for t in best})
    print(f"plateau: {len(best)} settings, spot {spots[0]}–{spots[-1]}, compound {compounds[0]}–{compounds[-1]}")
    return middle


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", choices=["tune", "test", "all"], default="test")
    parser.add_argument("--tune", action="store_true", help="search thresholds on the tune half")
    parser.add_argument("--spot", type=float)
    parser.add_argument("--compound", type=float)
    parser.add_argument("--street", type=float)
    parser.add_argument("--near-extra", type=float)
    parser.add_argument("--errors", action="store_true", help="list the pairs the finder gets wrong")
    args = parser.parse_args()

    pairs = load()
    if args.tune:
        half = [p for p in pairs if p.split == "tune"]
        started = time.perf_counter()
        limits = tune(half)
        print(f"tuned on {len(half)} pairs in {time.perf_counter() - started:.1f} s: {limits}")
        print(line("finder (tune half)", scores(half, lambda p: compare(p.b, p.a, limits).duplicate)))
        return
    limits = thresholds()
    limits = Thresholds(
        spot=args.spot if args.spot is not None else limits.spot,
        compound=args.compound if args.compound is not None else limits.compound,
        street=args.street if args.street is not None else limits.street,
        near_category_extra=args.near_extra if args.near_extra is not None else limits.near_category_extra,
        radius_m=limits.radius_m,
    )
    chosen = pairs if args.split == "all" else [p for p in pairs if p.split == args.split]
    positives = sum(p.label for p in chosen)
    print(f"{len(chosen)} pairs ({args.split}): {positives} same incident, {len(chosen) - positives} different")
    print(f"thresholds: {limits}")
    started = time.perf_counter()
    verdicts = {p.id: compare(p.b, p.a, limits) for p in chosen}
    per_pair_ms = (time.perf_counter() - started) / max(1, len(chosen)) * 1000
    print(line("finder", scores(chosen, lambda p: verdicts[p.id].duplicate)))
    print(line("baseline (today's rule)", scores(chosen, baseline)))
    print(f"{per_pair_ms:.3f} ms per comparison (features parsed once per call in the selector)")
    kinds = sorted({p.kind for p in chosen})
    print("\nper kind: finder / baseline, share of pairs called duplicates")
    for kind in kinds:
        group = [p for p in chosen if p.kind == kind]
        f = sum(verdicts[p.id].duplicate for p in group) / len(group)
        b = sum(baseline(p) for p in group) / len(group)
        print(f"  {kind:<28} n={len(group):<3} label={int(group[0].label)}  finder {f:.2f}  baseline {b:.2f}")
    if args.errors:
        print("\nfinder errors:")
        for p in chosen:
            v = verdicts[p.id]
            if v.duplicate != p.label:
                print(f"  #{p.id} {p.kind} label={int(p.label)} {v}")
                print(f"     {p.a.address} | {p.a.core}\n     {p.b.address} | {p.b.core}")


if __name__ == "__main__":
    main()
