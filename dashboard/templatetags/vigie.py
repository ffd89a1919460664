"""Template helpers for the dashboard (read-only: nothing here writes)."""
from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()

# After this long, the header suggests a break.
BREAK_AFTER_MINUTES = 120


@register.simple_tag(takes_context=True)
def work_started(context) -> datetime | None:
    """When this session's work began: noted at login, else the user's last login."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return None
    stamp = request.session.get("vigie_work_started")
    if stamp:
        try:
            return datetime.fromisoformat(stamp)
        except ValueError:
            pass
    return request.user.last_login


@register.filter
def minutes_since(value: datetime | None) -> int:
    """Whole minutes from ``value`` to now (0 for None or the future)."""
    if value is None:
        return 0
    return max(int((timezone.now() - value).total_seconds() // 60), 0)


@register.filter
def hours_minutes(minutes: int) -> str:
    """``125`` → ``2 h 05``; under an hour ``45 min``."""
    minutes = int(minutes or 0)
    return f"{minutes // 60} h {minutes % 60:02d}" if minutes >= 60 else f"{minutes} min"


@register.filter
def needs_break(minutes: int) -> bool:
    return int(minutes or 0) >= BREAK_AFTER_MINUTES
