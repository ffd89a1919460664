"""The Celery application. Configuration comes from Django settings (CELERY_*)."""
from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init
from kombu import Queue as KombuQueue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")

app = Celery("vigie")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure() -> None:
    from django.conf import settings

    from workers.queues import ALL_QUEUES, Queue
    from workers.schedule import BEAT_SCHEDULE

    app.conf.update(
        task_queues=[KombuQueue(name) for name in ALL_QUEUES],
        task_default_queue=Queue.DETECT.value,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": settings.CELERY_BROKER_VISIBILITY_TIMEOUT},
        beat_schedule=BEAT_SCHEDULE,
        timezone="UTC",
        enable_utc=True,
    )


_configure()
app.autodiscover_tasks(["workers"], related_name="tasks")


@worker_process_init.connect
def _warm_up(**_: object) -> None:
    """Load the embedding model once per worker process, before the first task."""
    from monitor.env import env_bool

    if not env_bool("MONITOR_WORKER_WARMUP", True):
        return
    import django

    django.setup()
    from monitor.embeddings import get_embedder

    get_embedder().encode(["warm-up"])
