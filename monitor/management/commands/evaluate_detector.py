"""python manage.py evaluate_detector PATH.csv|PATH.jsonl — accuracy of the detector on HateCheck-style cases
or on labelled posts (``seeds/demo_posts.jsonl``)."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from monitor.detection.evaluate import (
    EvaluationFileError,
    cases_read,
    evaluation_lines,
    evaluation_run,
)


class Command(BaseCommand):
    help = (
        "Run the detector on a CSV with test_case, label_gold (hateful|non-hateful) and functionality "
        "columns; print accuracy, precision/recall/F1 of the hateful class, accuracy per functionality "
        "and the worst errors. The last line is RESULT accuracy=<x> f1_hateful=<y>."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the CSV file of cases, or labelled posts in .jsonl (text, demo_label)")
        parser.add_argument("--worst", type=int, default=20, help="how many of the worst errors to list (default 20)")
        parser.add_argument("--threshold", type=float, default=None, help="default: MONITOR_DETECTION_THRESHOLD")
        parser.add_argument("--split", default=None,
                            help="only the rows whose split column has this value (e.g. holdout)")

    def handle(self, *args, path: str, worst: int, threshold: float | None, split: str | None, **options):
        try:
            cases = cases_read(path, split=split)
        except EvaluationFileError as exc:
            raise CommandError(str(exc)) from None
        evaluation = evaluation_run(cases=cases, threshold=threshold)
        for line in evaluation_lines(evaluation, worst=max(0, worst)):
            self.stdout.write(line)
