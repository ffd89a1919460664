"""python manage.py build_narratives [--week 2026-W47] — group a week's posts into narratives.

Without ``--week`` it builds the last complete ISO week. Safe to re-run: the
week's rows are replaced and narrative ids are kept.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from monitor.narratives.services import narratives_build
from monitor.weeks import last_complete_week


class Command(BaseCommand):
    help = "Group a week's posts into narratives (default: the last complete ISO week)."

    def add_arguments(self, parser):
        parser.add_argument("--week", default=None, help="ISO week such as 2026-W47")

    def handle(self, *args, **options):
        week = options["week"] or last_complete_week(timezone.now())
        try:
            result = narratives_build(week=week)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.week}: {result.posts} posts, {result.narratives} narratives "
            f"({result.new} new, {result.continued} continued), {result.noise} unassigned"
        )
