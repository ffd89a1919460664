"""Measure the near-duplicate cluster threshold on labelled pairs.

For each relation in a pairs file (``spelling_variant``, ``counter_speech_quoting``, ...)
it prints the share of pairs whose cosine similarity reaches each threshold, so the
threshold can be chosen where copies and spelling variants merge while counter-speech
quoting a post stays apart.

    .venv/bin/python bench/cluster_threshold.py ../shared/eval/hatecheck_peul/pairs_fr.csv \
        ../shared/eval/hatecheck_peul/pairs_en.csv

Last line: ``RESULT threshold=<t> spelling_merged=<x> counter_quoting_merged=<y>`` for the
configured ``MONITOR_CLUSTER_THRESHOLD``.
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

THRESHOLDS = [0.70, 0.75, 0.80, 0.85, 0.88, 0.90, 0.92, 0.95]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="pairs CSV files (text_a, text_b, relation)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings

    from monitor.embeddings import get_embedder

    sims: dict[str, list[float]] = defaultdict(list)
    embedder = get_embedder()
    for path in args.paths:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        a = embedder.encode([r["text_a"] for r in rows])
        b = embedder.encode([r["text_b"] for r in rows])
        for row, s in zip(rows, np.sum(a * b, axis=1)):
            sims[row["relation"]].append(float(s))

    print(f"model: {embedder.model_id}")
    print(f"{'relation':28} {'pairs':>5} {'median':>7} " + " ".join(f"≥{t:.2f}" for t in THRESHOLDS))
    for relation, values in sorted(sims.items()):
        shares = [np.mean(np.array(values) >= t) for t in THRESHOLDS]
        print(f"{relation:28} {len(values):5d} {np.median(values):7.3f} " + " ".join(f"{s:5.2f}" for s in shares))
    t = settings.MONITOR_CLUSTER_THRESHOLD
    spelling = np.mean(np.array(sims.get("spelling_variant", [0.0])) >= t)
    quoting = np.mean(np.array(sims.get("counter_speech_quoting", [0.0])) >= t)
    print(f"RESULT threshold={t:.2f} spelling_merged={spelling:.3f} counter_quoting_merged={quoting:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
