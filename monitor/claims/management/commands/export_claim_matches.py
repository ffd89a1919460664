"""python manage.py export_claim_matches CLAIM_ID [--output FILE] — posts matched to a claim, as CSV."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitor.claims.models import Claim
from monitor.claims.selectors import claim_matches_csv


class Command(BaseCommand):
    help = "Export every post matched to a claim as CSV (formula-safe cells)."

    def add_arguments(self, parser):
        parser.add_argument("claim_id", type=int)
        parser.add_argument("--output", type=Path, default=None, help="file to write (default: stdout)")
        parser.add_argument("--asserting-only", action="store_true", help="leave out posts that debunk the claim")

    def handle(self, *args, **options):
        if not Claim.objects.filter(pk=options["claim_id"]).exists():
            raise CommandError(f"no claim {options['claim_id']}")
        text = claim_matches_csv(claim_id=options["claim_id"], include_debunks=not options["asserting_only"])
        if options["output"]:
            options["output"].write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
