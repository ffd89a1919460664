"""python manage.py train_detector --mlma-dir ../shared/eval/mlma — retrain seeds/models/hybrid-v2.npz."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitor.detection.hybrid import exemplars_path, model_path


class Command(BaseCommand):
    help = (
        "Train the hybrid detector's learned parts on seeds/exemplars.jsonl and, when given, the MLMA "
        "tweets (never on an evaluation set), and write the model used by detection."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mlma-dir", default=None, help="folder with MLMA's fr_dataset.csv and en_dataset.csv")
        parser.add_argument("--exemplars", default=None, help="default: seeds/exemplars.jsonl")
        parser.add_argument("--output", default=None, help="default: seeds/models/hybrid-v2.npz")
        parser.add_argument("--with-reviews", action="store_true",
                            help="add reviewers' confirmed and dismissed flags as exemplars")

    def handle(self, *args, mlma_dir, exemplars, output, with_reviews, **options):
        from monitor.detection.training import detector_train

        exemplars_file = Path(exemplars) if exemplars else exemplars_path()
        if not exemplars_file.is_file():
            raise CommandError(f"no exemplars file at {exemplars_file}")
        if mlma_dir:
            for lang in ("fr", "en"):
                if not (Path(mlma_dir) / f"{lang}_dataset.csv").is_file():
                    raise CommandError(f"{mlma_dir}: {lang}_dataset.csv is missing")
        out = Path(output) if output else model_path()
        report = detector_train(
            mlma_dir=Path(mlma_dir) if mlma_dir else None, out_path=out, exemplars_file=exemplars_file,
            with_reviews=with_reviews, log=lambda s: self.stderr.write(s),
        )
        self.stdout.write(json.dumps(report, indent=2))
        self.stdout.write(f"wrote {out}")
