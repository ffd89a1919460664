"""python manage.py evaluate_matching PAIRS.csv — claim-matching rates on a pairs file.

Each row's ``text_a`` plays the fact-checked claim and ``text_b`` the post.
"Matched" means what ``posts_match_claims`` would flag: the score reaches the
threshold AND the post repeats the claim (no debunk, negation or quotation).
The last line is machine-readable:
``RESULT same_stance_match=<x> counter_quoting_match=<y>``.
"""
from __future__ import annotations

import math
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitor.claims import matching
from monitor.claims.evaluation import (
    COUNTER_QUOTING,
    NEGATION,
    SAME_STANCE,
    by_relation,
    pair_outcomes,
    pairs_read,
    rate,
)


def _fmt(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.3f}"


class Command(BaseCommand):
    help = "Match rate per relation on a pairs CSV (text_a = claim, text_b = post) at the chosen threshold."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--threshold", type=float, default=None,
                            help=f"score threshold (default {matching.MATCH_THRESHOLD}, the calibrated one)")

    def handle(self, *args, **options):
        try:
            rows = pairs_read(options["path"])
        except (OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        threshold = matching.MATCH_THRESHOLD if options["threshold"] is None else options["threshold"]
        outcomes = pair_outcomes(rows, threshold=threshold)
        self.stdout.write(f"{options['path']}: {len(outcomes)} pairs, threshold {threshold}, "
                          f"weight {matching.COSINE_WEIGHT} (cosine) / {1 - matching.COSINE_WEIGHT:.2f} (lexical)")
        self.stdout.write(f"{'relation':32} {'pairs':>5} {'similar':>8} {'matched':>8}")
        for relation, group in by_relation(outcomes).items():
            similar = sum(o.similar for o in group) / len(group)
            matched = sum(o.matched for o in group) / len(group)
            self.stdout.write(f"{relation:32} {len(group):5d} {similar:8.3f} {matched:8.3f}")
        same, n_same = rate(outcomes, SAME_STANCE)
        quoting, n_quoting = rate(outcomes, COUNTER_QUOTING)
        self.stdout.write(f"same stance ({' + '.join(SAME_STANCE)}): {_fmt(same)} matched of {n_same} (target >= 0.90)")
        self.stdout.write(f"counter-speech quoting: {_fmt(quoting)} matched of {n_quoting} (target <= 0.10)")
        negation, n_negation = rate(outcomes, NEGATION)
        self.stdout.write(f"negation, opposite stance: {_fmt(negation)} matched of {n_negation} (flagged as asserting)")
        self.stdout.write(f"RESULT same_stance_match={_fmt(same)} counter_quoting_match={_fmt(quoting)} "
                          f"negation_match={_fmt(negation)}")
