"""Write operations of the weekly report: build it and store it (one row per week)."""
from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from monitor.weeks import last_complete_week, week_bounds

from .data import report_data_build
from .models import WeeklyReport
from .render import report_csv, report_pdf


def report_build_weekly(*, week: str | None = None, now: datetime | None = None) -> WeeklyReport:
    """Compute, render and store the report of ``week`` (default: the last complete week).

    Re-running a week replaces its row (the unique ``week`` makes it
    idempotent). Raises ``ValueError`` for a malformed week.
    """
    now = now or timezone.now()
    week = week or last_complete_week(now)
    week_bounds(week)  # a clear ValueError before any work
    data = report_data_build(week=week, now=now)
    report, _ = WeeklyReport.objects.update_or_create(
        week=week,
        defaults={"generated_at": now, "data": data, "pdf": report_pdf(data), "csv": report_csv(data)},
    )
    return report
