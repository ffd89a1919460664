"""python manage.py import_claims PATH — fact-checks from ClaimReview JSON-LD or CSV into the claim bank."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitor.claims.importers import ClaimFileError
from monitor.claims.services import claims_import


class Command(BaseCommand):
    help = (
        "Import fact-checked claims from schema.org ClaimReview JSON/JSON-LD (one object, a list or @graph), "
        "JSONL, or CSV (claim, verdict, language, published_at, publisher, url, review_url, claim_author, "
        "claimed_at, source_id, invented). Safe to run again: claims are keyed by review URL."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)

    def handle(self, *args, **options):
        for path in options["paths"]:
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                result = claims_import(path=path)
            except ClaimFileError as exc:
                raise CommandError(str(exc)) from exc
            for bad in result.skipped:
                self.stderr.write(f"{path}: {bad.position}: skipped: {bad.reason}")
            self.stdout.write(f"{path}: {result.summary()}")
