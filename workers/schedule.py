"""The beat schedule: every periodic task, with why and when."""
from __future__ import annotations

from celery.schedules import crontab

BEAT_SCHEDULE = {
    # Safety net for "stored first, enqueued after": if the broker was down when
    # a batch was accepted, or a worker died and its message was lost, posts stay
    # pending. Every two minutes, re-enqueue those left pending for too long.
    "posts-requeue-stale": {
        "task": "vigie.posts_requeue_stale",
        "schedule": 120.0,
        "options": {"queue": "reports"},
    },
    # Weekly narratives for the week that just ended, Mondays 05:30 UTC: before the
    # weekly report at 06:00, which reads them.
    "narratives-build-weekly": {
        "task": "vigie.narratives_build",
        "schedule": crontab(minute=30, hour=5, day_of_week="mon"),
        "options": {"queue": "reports"},
    },
    # The weekly trend report of the week that just ended, Mondays 06:00 UTC, after
    # the narratives (05:30) it reads, and before leads start their week.
    "weekly-report": {
        "task": "vigie.weekly_report",
        "schedule": crontab(minute=0, hour=6, day_of_week="mon"),
        "options": {"queue": "reports"},
    },
    # Early warning: every 10 minutes, the hour just ended against each community's
    # last 7 days; retries failed notifications too.
    "alerts-check": {
        "task": "vigie.alerts_check",
        "schedule": 600.0,
        "options": {"queue": "reports"},
    },
}
