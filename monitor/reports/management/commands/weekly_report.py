"""``manage.py weekly_report [--week 2026-W47]``: build and store one week's report."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from monitor.reports.services import report_build_weekly


class Command(BaseCommand):
    help = "Build (or rebuild) the weekly trend report of an ISO week; default: the last complete week."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week, e.g. 2026-W47 (default: last complete week, UTC)")

    def handle(self, *args, week=None, **options):
        try:
            report = report_build_weekly(week=week)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        data = report.data
        self.stdout.write(
            f"weekly report {report.week}: {data['totals']['flags']['shown']} flags, "
            f"{len(data['narratives'])} growing narratives, {len(data['places'])} places, "
            f"PDF {len(report.pdf)} bytes"
        )
