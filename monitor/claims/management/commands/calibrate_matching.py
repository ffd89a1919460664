"""python manage.py calibrate_matching — choose the claim-matching weight and threshold on seed examples.

Uses seeds/claims.jsonl and seeds/claims_calibration.csv (our own invented
posts: paraphrases, translations, typos, unrelated posts and debunks), never
the evaluation files. Prints the grid's best rows; the chosen values are
written by hand into ``monitor/claims/matching.py``.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from monitor.claims.evaluation import calibration_grid, calibration_margins, demo_false_matches
from monitor.communities import seeds_dir


class Command(BaseCommand):
    help = "Grid of (cosine weight, threshold) on seeds/claims_calibration.csv: recall, false alarms, debunks."

    def add_arguments(self, parser):
        parser.add_argument("--claims", type=Path, default=None)
        parser.add_argument("--cases", type=Path, default=None)
        parser.add_argument("--top", type=int, default=15)
        parser.add_argument("--posts", type=Path, default=None,
                            help="posts for the false-match rate (default: seeds/demo_posts.jsonl)")

    def handle(self, *args, **options):
        paths = {
            "claims_path": options["claims"] or seeds_dir() / "claims.jsonl",
            "cases_path": options["cases"] or seeds_dir() / "claims_calibration.csv",
        }
        self.stdout.write("widest gap between unrelated posts and paraphrases (threshold = its middle):")
        self.stdout.write(f"{'weight':>6} {'thresh':>6} {'margin':>7} {'recall':>7} {'same_lang':>9} {'cross_lang':>10}")
        for r in calibration_margins(**paths):
            same, cross = r["same_language"], r["cross_language"]
            self.stdout.write(f"{r['weight']:6.2f} {r['threshold']:6.3f} {r['margin']:7.3f} {r['recall']:7.3f} "
                              f"{same[0]:>4}/{same[1]:<4} {cross[0]:>5}/{cross[1]:<4}")
        rows = calibration_grid(**paths)
        self.stdout.write("grid, best recall - false alarms first:")
        # Youden's J (recall - false alarms), then the highest threshold among equals:
        # the margin against posts that merely share a place name.
        rows.sort(key=lambda r: (-(r["recall"] - r["false_alarm"]), -r["threshold"]))
        self.stdout.write(f"{'weight':>6} {'thresh':>6} {'recall':>7} {'false_alarm':>11} {'debunk_flagged':>14}")
        for r in rows[: options["top"]]:
            self.stdout.write(f"{r['weight']:6.2f} {r['threshold']:6.2f} {r['recall']:7.3f} {r['false_alarm']:11.3f} "
                              f"{r['debunk_flagged']:14.3f}")
        demo = demo_false_matches(claims_path=paths["claims_path"],
                                  posts_path=options["posts"] or seeds_dir() / "demo_posts.jsonl")
        self.stdout.write(f"false matches at the chosen threshold: {demo['matched']}/{demo['posts']} unrelated demo "
                          f"posts ({demo['rate']:.3f})")
        for score, claim, text in demo["examples"]:
            self.stdout.write(f"  {score:.3f} claim {claim}: {text}")
