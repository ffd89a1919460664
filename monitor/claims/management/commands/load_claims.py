"""python manage.py load_claims — the seed claim bank (invented Sahel examples), safe to run again."""
from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand

from monitor.communities import seeds_dir


def default_path() -> Path:
    return seeds_dir() / "claims.jsonl"


class Command(BaseCommand):
    help = "Import seeds/claims.jsonl (invented example fact-checks) into the claim bank."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=None, help="ClaimReview file (default: seeds/claims.jsonl)")

    def handle(self, *args, **options):
        # The same import, errors and summary as `import_claims`, on the seed file.
        call_command("import_claims", options["path"] or default_path(), stdout=self.stdout, stderr=self.stderr)
