"""ISO weeks as the unit of weekly reporting ("2026-W47").

A week runs from Monday 00:00 UTC to the next Monday 00:00 UTC (half-open),
whatever the server's time zone, so a week's rows are the same on every run.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """Return the aware UTC start (Monday 00:00) and end (next Monday 00:00) of ``week``.

    Raises ``ValueError`` with the expected format when ``week`` is not an ISO
    week such as ``2026-W47`` or names a week that year does not have (W53).
    """
    match = _WEEK.match(week.strip()) if isinstance(week, str) else None
    if not match:
        raise ValueError(f"{week!r} is not an ISO week; expected YYYY-Www, e.g. 2026-W47")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        monday = date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"{week!r} is not a week of {year}: {exc}") from exc
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(days=7)


def week_of(dt: datetime) -> str:
    """The ISO week (``2026-W47``) containing ``dt``, read in UTC (a naive ``dt`` is taken as UTC)."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    year, number, _ = dt.isocalendar()
    return f"{year:04d}-W{number:02d}"


def previous_week(week: str) -> str:
    """The ISO week before ``week`` (``2026-W01`` → ``2025-W52`` or ``-W53``)."""
    start, _ = week_bounds(week)
    return week_of(start - timedelta(days=1))


def next_week(week: str) -> str:
    """The ISO week after ``week``."""
    _, end = week_bounds(week)
    return week_of(end)


def week_days(week: str) -> list[str]:
    """The seven dates of ``week`` as ``YYYY-MM-DD``, Monday first."""
    start, _ = week_bounds(week)
    return [(start + timedelta(days=d)).date().isoformat() for d in range(7)]


def last_complete_week(now: datetime) -> str:
    """The latest week that ended at or before ``now``."""
    return previous_week(week_of(now))
