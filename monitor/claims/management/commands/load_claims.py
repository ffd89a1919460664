"""python manage.py load_claims — the seed claim bank (invented Sahel examples), safe to run again."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitor.claims.importers import ClaimFileError
from monitor.claims.services import claims_import
from monitor.communities import seeds_dir


def default_path() -> Path:
    return seeds_dir() / "claims.jsonl"


class Command(BaseCommand):
    help = "Import seeds/claims.jsonl (invented example fact-checks) into the claim bank."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=None, help="ClaimReview file (default: seeds/claims.jsonl)")

    def handle(self, *args, **options):
        path = options["path"] or default_path()
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        try:
            result = claims_import(path=path)
        except ClaimFileError as exc:
            raise CommandError(str(exc)) from exc
        for bad in result.skipped:
            self.stderr.write(f"{path}: {bad.position}: skipped: {bad.reason}")
        self.stdout.write(f"claims from {path}: {result.summary()}")
