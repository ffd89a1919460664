"""The beat schedule: every periodic task, with why and when."""
from __future__ import annotations

BEAT_SCHEDULE = {
    # Safety net for "stored first, enqueued after": if the broker was down when
    # a batch was accepted, or a worker died and its message was lost, posts stay
    # pending. Every two minutes, re-enqueue those left pending for too long.
    "posts-requeue-stale": {
        "task": "vigie.posts_requeue_stale",
        "schedule": 120.0,
        "options": {"queue": "reports"},
    },
}
