"""Celery tasks: thin, over ids, idempotent. Logic lives in ``monitor.pipeline``.

Flow for new posts: ``posts_embed`` (embed queue) → ``posts_index`` (index
queue, a single consumer) → ``posts_detect`` (detect queue: detection and
claim matching). Every task is safe to run twice, so late acknowledgement is
on: a worker killed mid-batch leaves its message to be delivered again.
"""
from __future__ import annotations

import logging

from amqp.exceptions import ChannelError
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from monitor import pipeline
from monitor.embeddings import EmbeddingError
from workers.queues import Queue

logger = logging.getLogger(__name__)

RETRY = {
    "autoretry_for": (pipeline.TransientError, OperationalError, InterfaceError),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
    "acks_late": True,
    "reject_on_worker_lost": True,
}


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def enqueue_posts_process(ids: list[int]) -> None:
    """Send new post ids into the pipeline, in batches.

    Called after the storing transaction commits. If the broker is down the
    posts stay ``pending`` in the database and the stale-post sweeper sends
    them again later: nothing accepted is lost.
    """
    for chunk in _chunks(sorted(set(ids)), settings.MONITOR_PIPELINE_BATCH_SIZE):
        try:
            posts_embed_task.apply_async(args=[chunk], queue=Queue.EMBED.value)
        except Exception:  # broker unreachable: the sweeper will retry
            logger.exception("could not enqueue %d posts; they stay pending for the sweeper", len(chunk))


def _fail_permanently(ids: list[int], exc: Exception) -> None:
    logger.error("permanent failure on %d posts: %s", len(ids), exc)
    pipeline.posts_mark_failed(post_ids=ids, reason=str(exc))


@shared_task(name="vigie.posts_embed", **RETRY)
def posts_embed_task(post_ids: list[int]) -> int:
    try:
        ids = pipeline.posts_embed(post_ids=post_ids)
    except (EmbeddingError, pipeline.PermanentError) as exc:
        _fail_permanently(post_ids, exc)
        return 0
    if ids:
        posts_index_task.apply_async(args=[ids], queue=Queue.INDEX.value)
    return len(ids)


@shared_task(name="vigie.posts_index", **RETRY)
def posts_index_task(post_ids: list[int]) -> int:
    try:
        ids = pipeline.posts_index(post_ids=post_ids)
    except pipeline.PermanentError as exc:
        _fail_permanently(post_ids, exc)
        return 0
    if ids:
        posts_detect_task.apply_async(args=[ids], queue=Queue.DETECT.value)
    return len(ids)


@shared_task(name="vigie.posts_detect", **RETRY)
def posts_detect_task(post_ids: list[int]) -> int:
    try:
        return pipeline.posts_detect(post_ids=post_ids).flags_created
    except pipeline.PermanentError as exc:
        _fail_permanently(post_ids, exc)
        return 0


def pipeline_backlog() -> int:
    """Messages waiting in the pipeline's queues (0 when tasks run in-process)."""
    from workers.celery import app

    if app.conf.task_always_eager:
        return 0
    waiting = 0
    with app.connection_for_read() as connection:
        for queue in (Queue.EMBED, Queue.INDEX, Queue.DETECT):
            try:
                waiting += connection.default_channel.queue_declare(queue=queue.value, passive=True).message_count
            except ChannelError:  # never declared: nothing was ever sent to it
                continue
    return waiting


@shared_task(name="vigie.narratives_build", acks_late=True, queue=Queue.REPORTS.value)
def narratives_build_task(week: str | None = None) -> dict:
    # Idempotent: the service replaces the week's rows in one transaction and keeps ids.
    from django.utils import timezone

    from monitor.narratives.services import narratives_build
    from monitor.weeks import last_complete_week

    result = narratives_build(week=week or last_complete_week(timezone.now()))
    return {"week": result.week, "posts": result.posts, "narratives": result.narratives,
            "new": result.new, "continued": result.continued, "noise": result.noise}


@shared_task(name="vigie.posts_requeue_stale", acks_late=True)
def posts_requeue_stale_task() -> int:
    # Posts still waiting behind a long backlog are not lost: re-sending them would
    # only grow the queue and spend their attempts. Sweep when the queues are drained.
    if pipeline_backlog():
        return 0
    ids = pipeline.posts_stale_pending()
    if ids:
        enqueue_posts_process(ids)
    return len(ids)


@shared_task(name="vigie.weekly_report", acks_late=True, reject_on_worker_lost=True)
def weekly_report_task(week: str | None = None) -> dict:
    # Idempotent: the report row is unique per week and a re-run replaces it.
    from monitor.reports.services import report_build_weekly

    report = report_build_weekly(week=week)
    return {"week": report.week, "pdf_bytes": len(report.pdf)}


@shared_task(name="vigie.alerts_check", acks_late=True, reject_on_worker_lost=True)
def alerts_check_task() -> int:
    # Idempotent: alerts are unique per (community, window start); notifications
    # left pending or failed are retried by the next run.
    from monitor.reports.alerts import alerts_check

    return len(alerts_check())
