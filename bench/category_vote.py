"""How well does the detector name the category of a flag only its learned parts found?

Such a flag takes its categories from the exemplar bank (``hybrid._neighbour_categories``: a
similarity-weighted vote of the ten nearest hateful exemplars). This script measures that rule against the
earlier one (the single nearest hateful exemplar's kind, plus any kind repeated among the three nearest),
in the same run, on the committed model's own bank: each hateful exemplar is classified from the exemplars
of *other* groups only, and its own ``kind`` is the answer.

    .venv/bin/python bench/category_vote.py

Prints, per rule: how often the right kind is among those named, how many kinds are named on average, and
how often "incitement" is named for an exemplar that is not one (early-warning alerts count incitement
flags). Last line: ``RESULT vote_right=<x> nearest_right=<y> vote_false_incitement=<z>
nearest_false_incitement=<w>``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def nearest_rule(model, order: np.ndarray, severity: tuple[str, ...]) -> list[str]:
    """The earlier rule, kept here as the baseline."""
    near = [j for j in order[:10] if model.bank_labels[j] == 1]
    kinds = [model.bank_kinds[j] for j in near[:3] if model.bank_kinds[j] in severity]
    return [c for c in severity if c in (set(kinds[:1]) | {k for k in kinds if kinds.count(k) > 1})] or ["derogation"]


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")
    import django

    django.setup()
    from monitor.detection.base import SEVERITY
    from monitor.detection.hybrid import _neighbour_categories, exemplars_read, hybrid_model

    model = hybrid_model()
    if model is None:
        print("no trained model at seeds/models/hybrid-v2.npz", file=sys.stderr)
        return 1
    groups = {r["id"]: r.get("group") or r["id"] for r in exemplars_read()}
    group = np.array([groups.get(i, i) for i in model.bank_ids])
    vectors = model.bank_vectors.astype(np.float32)
    rows = [i for i, k in enumerate(model.bank_kinds) if model.bank_labels[i] == 1 and k in SEVERITY]
    tally = {name: [0, 0, 0] for name in ("vote", "nearest")}  # right, kinds named, false incitement
    for i in rows:
        sims = vectors @ vectors[i]
        sims[group == group[i]] = -9.0  # never its own group
        order = np.argsort(-sims)
        gold = model.bank_kinds[i]
        for name, named in (("vote", _neighbour_categories(model, order, sims)),
                            ("nearest", nearest_rule(model, order, SEVERITY))):
            tally[name][0] += gold in named
            tally[name][1] += len(named)
            tally[name][2] += "incitement" in named and gold != "incitement"
    n = len(rows)
    for name, (right, named, false_inc) in tally.items():
        print(f"{name:8s} right kind named {right / n:.3f}  kinds named {named / n:.2f}  "
              f"incitement named wrongly {false_inc / n:.3f}  ({n} hateful exemplars)")
    v, b = tally["vote"], tally["nearest"]
    print(f"RESULT vote_right={v[0] / n:.3f} nearest_right={b[0] / n:.3f} "
          f"vote_false_incitement={v[2] / n:.3f} nearest_false_incitement={b[2] / n:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
