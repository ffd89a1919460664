"""``manage.py alerts_check [--at 2026-11-18T14:00]``: evaluate the hour ending then (default: now)."""
from __future__ import annotations

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError

from monitor.reports.alerts import alerts_check


class Command(BaseCommand):
    help = "Look for hourly spikes of incitement flags per community; create alerts and notify."

    def add_arguments(self, parser):
        parser.add_argument("--at", help="end of the hour to evaluate, ISO 8601 (UTC if no offset)")

    def handle(self, *args, at=None, **options):
        now = None
        if at:
            try:
                now = datetime.fromisoformat(at)
            except ValueError as exc:
                raise CommandError(f"--at {at!r} is not an ISO 8601 time") from exc
            if now.tzinfo is None:
                now = now.replace(tzinfo=UTC)
        created = alerts_check(now=now)
        for alert in created:
            self.stdout.write(f"alert {alert.pk}: {alert.community.name} {alert.observed} flags "
                              f"(expected {alert.expected:.2f}, p={alert.p_value:.2g})")
        self.stdout.write(f"{len(created)} new alert(s)")
