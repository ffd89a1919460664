"""Measure the near-duplicate cluster rule on labelled pairs.

For each relation in a pairs file (``spelling_variant``, ``counter_speech_quoting``, ...)
it prints the share of pairs whose near-duplicate score
``(1 - w) * cosine + w * lexical`` (``monitor.clustering``) reaches each candidate
threshold, for a few lexical weights ``w`` (``w = 0`` is cosine only), so the rule
can be chosen where copies and spelling variants merge while counter-speech
quoting a post stays apart. The configured rule is marked with ``*``.

    .venv/bin/python bench/cluster_threshold.py ../shared/eval/hatecheck_peul/pairs_fr.csv \\
        ../shared/eval/hatecheck_peul/pairs_en.csv

Last line: ``RESULT weight=<w> threshold=<t> spelling_merged=<x> counter_quoting_merged=<y>``
for the configured ``MONITOR_CLUSTER_LEXICAL_WEIGHT`` and ``MONITOR_CLUSTER_THRESHOLD``.
The pairs are for measuring only: nothing is trained or tuned on individual cases.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")

WEIGHTS = [0.0, 0.25, 0.5, 0.75]
THRESHOLDS = [0.70, 0.725, 0.75, 0.775, 0.80, 0.825, 0.85, 0.90, 0.95]
# Relations shown first; any other relation in the files follows.
ORDER = [
    "spelling_variant",
    "rephrasing_same_stance",
    "negated_positive_same_stance",
    "counter_speech_quoting",
    "counter_speech_reference",
    "negation_opposite_stance",
    "contrast_opposite_stance",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="pairs CSV files (text_a, text_b, relation)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from monitor.clustering import lexical_similarity, near_duplicate_score, text_shingles
    from monitor.embeddings import get_embedder

    cosines: dict[str, list[float]] = defaultdict(list)
    lexicals: dict[str, list[float]] = defaultdict(list)
    embedder = get_embedder()
    for path in args.paths:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        a = embedder.encode([r["text_a"] for r in rows])
        b = embedder.encode([r["text_b"] for r in rows])
        for row, s in zip(rows, np.sum(a * b, axis=1)):
            cosines[row["relation"]].append(float(s))
            lexicals[row["relation"]].append(
                lexical_similarity(text_shingles(row["text_a"]), text_shingles(row["text_b"]))
            )
    relations = [r for r in ORDER if r in cosines] + sorted(set(cosines) - set(ORDER))

    def merged(relation: str, weight: float, threshold: float) -> float:
        scores = [
            near_duplicate_score(cosine=c, lexical=lex, weight=weight)
            for c, lex in zip(cosines[relation], lexicals[relation])
        ]
        return float(np.mean(np.array(scores) >= threshold - 1e-9))

    w_conf, t_conf = settings.MONITOR_CLUSTER_LEXICAL_WEIGHT, settings.MONITOR_CLUSTER_THRESHOLD
    print(f"model: {embedder.model_id}; lexical: Dice of character 3-grams of the normalised texts")
    print("median cosine / lexical per relation:")
    for r in relations:
        print(f"  {r:30} {len(cosines[r]):4d} pairs  cosine {np.median(cosines[r]):.3f}  lexical {np.median(lexicals[r]):.3f}")
    print("share of pairs merged (score >= threshold):")
    print(f"{'w':>5} {'thr':>6}  " + " ".join(f"{r[:12]:>12}" for r in relations))
    for w in sorted(set(WEIGHTS) | {w_conf}):
        for t in sorted(set(THRESHOLDS) | {t_conf}):
            mark = "*" if (w, t) == (w_conf, t_conf) else " "
            print(f"{w:5.2f} {t:6.3f}{mark} " + " ".join(f"{merged(r, w, t):12.2f}" for r in relations))
    spelling = merged("spelling_variant", w_conf, t_conf) if "spelling_variant" in cosines else 0.0
    quoting = merged("counter_speech_quoting", w_conf, t_conf) if "counter_speech_quoting" in cosines else 0.0
    print(
        f"RESULT weight={w_conf:.2f} threshold={t_conf:.3f} "
        f"spelling_merged={spelling:.3f} counter_quoting_merged={quoting:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
