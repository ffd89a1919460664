"""Read queries of reports and alerts."""
from __future__ import annotations

from django.db.models import QuerySet

from .models import Alert, WeeklyReport


def reports_list() -> QuerySet:
    """Stored reports, newest week first, without their heavy columns."""
    return WeeklyReport.objects.only("id", "week", "generated_at").order_by("-week")


def report_get(*, week: str) -> WeeklyReport | None:
    return WeeklyReport.objects.filter(week=week).first()


def alerts_list(*, status: str | None = None, limit: int = 200) -> list[Alert]:
    """Recent alerts, newest window first, with their community and deliveries."""
    alerts = Alert.objects.select_related("community", "acknowledged_by").prefetch_related("deliveries")
    if status:
        alerts = alerts.filter(status=status)
    return list(alerts.order_by("-window_start", "-id")[:limit])
