"""End to end on the real parts: POST /api/v1/posts → Redis → a Celery worker → flags in the queue."""
from __future__ import annotations

import json

import pytest
from django.db.models import Count, Sum
from django.test import Client

from monitor.index import index_load
from monitor.models import Cluster, Embedding, Flag, Post
from tests.workers.conftest import wait_for
from workers.tasks import posts_requeue_stale_task

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HATEFUL = [
    "Les Peuls ont caché les assaillants de l'aéroport. Il faut tous les chasser de Bamako et brûler leurs villages.",
    "Ces Peuls sont des cafards, il faut les exterminer avant qu'ils nous tuent.",
    "Kill every Fulani in the city before they kill us, they are all terrorists.",
]
BENIGN = [
    "Les Aigles du Mali jouent ce soir au stade du 26 mars, venez nombreux.",
    "Ma voisine peule fait le meilleur lait caillé de tout Bamako.",
    "Coupure d'électricité à Kalaban Coura depuis ce matin, EDM ne répond pas.",
]


def _token(user) -> str:
    from monitor.roles import roles_ensure, user_set_role
    from monitor.tokens import token_create

    roles_ensure()
    user_set_role(user=user, role="ingest")
    return token_create(user=user, name="test")[1]


def _post(client: Client, token: str, posts: list[dict]):
    return client.post(
        "/api/v1/posts",
        data=json.dumps({"posts": posts}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _records(texts: list[str], *, prefix: str) -> list[dict]:
    return [
        {"platform": "x", "id": f"{prefix}{i}", "text": text, "author_id": f"u{i % 7}", "author_handle": f"user{i % 7}"}
        for i, text in enumerate(texts)
    ]


def test_posts_sent_to_the_api_reach_the_review_queue_through_a_real_worker(
    live_celery, django_user_model, reviewer
):
    service = django_user_model.objects.create_user(username="feeder", password="x" * 20)
    token = _token(service)
    worker = live_celery()
    client = Client()

    response = _post(client, token, _records(HATEFUL + BENIGN, prefix="live-"))
    assert response.status_code == 202, response.content
    assert response.json()["new"] == 6

    wait_for(
        lambda: Post.objects.filter(status=Post.Status.PROCESSED).count() == 6,
        timeout=120, what="6 processed posts", logs=live_celery.log_dir,
    )
    assert worker.poll() is None
    flagged = set(Flag.objects.values_list("post__external_id", flat=True))
    assert {"live-0", "live-1", "live-2"} <= flagged
    assert not flagged & {"live-3", "live-4", "live-5"}

    # The reviewer sees them in the queue, most urgent first.
    client.force_login(reviewer)
    page = client.get("/")
    assert page.status_code == 200
    assert "assaillants" in page.content.decode()

    # The same batch again: nothing new stored, nothing processed twice.
    again = _post(client, token, _records(HATEFUL + BENIGN, prefix="live-"))
    assert again.status_code == 202
    assert again.json()["new"] == 0 and again.json()["duplicate"] == 6
    assert Post.objects.count() == 6
    assert Flag.objects.values("post", "community").annotate(n=Count("id")).filter(n__gt=1).count() == 0


def test_killing_the_worker_mid_batch_loses_and_duplicates_nothing(live_celery, settings, django_user_model):
    settings.MONITOR_PIPELINE_BATCH_SIZE = 20
    service = django_user_model.objects.create_user(username="feeder", password="x" * 20)
    token = _token(service)
    texts = [f"{HATEFUL[i % 3]} (relais {i})" if i % 2 else f"{BENIGN[i % 3]} — message {i}" for i in range(400)]
    worker = live_celery("worker-1.log")
    client = Client()
    assert _post(client, token, _records(texts, prefix="kill-")).status_code == 202

    # Wait until the worker is part-way through, then kill it without warning.
    wait_for(
        lambda: 0 < Post.objects.filter(status=Post.Status.PROCESSED).count() < 400,
        timeout=120, interval=0.05, what="a batch in progress", logs=live_celery.log_dir,
    )
    live_celery.kill(worker)
    done_before_restart = Post.objects.filter(status=Post.Status.PROCESSED).count()
    assert done_before_restart < 400

    # A new worker finishes the job. The killed worker's unacknowledged message comes
    # back after the broker's visibility timeout; sooner, the beat sweeper re-sends
    # posts left pending (here every few seconds, as beat would every two minutes).
    live_celery("worker-2.log")
    sweeps = []

    def all_processed() -> bool:
        if len(sweeps) % 20 == 0:
            posts_requeue_stale_task.apply_async(queue="reports")
        sweeps.append(1)
        return Post.objects.filter(status=Post.Status.PROCESSED).count() == 400

    wait_for(all_processed, timeout=240, what="all 400 posts processed after restart", logs=live_celery.log_dir)

    assert Post.objects.count() == 400
    assert Embedding.objects.count() == 400
    # Every post clustered exactly once, and counted once in its cluster.
    assert Post.objects.filter(cluster__isnull=True).count() == 0
    assert Cluster.objects.aggregate(total=Sum("size"))["total"] == 400
    # The index holds each post once.
    index = index_load()
    assert index is not None and len(index) == 400
    # At most one flag per post and community, and only hateful posts are flagged.
    assert Flag.objects.values("post", "community").annotate(n=Count("id")).filter(n__gt=1).count() == 0
    assert Flag.objects.values("post").distinct().count() == 200


def test_the_sweeper_leaves_posts_alone_while_the_queues_have_a_backlog(live_celery, make_post):
    from datetime import timedelta

    from workers.tasks import enqueue_posts_process, pipeline_backlog

    post = make_post(text="Une file d'attente longue au marché de Médine")
    Post.objects.filter(pk=post.pk).update(status_changed_at=post.status_changed_at - timedelta(hours=1))
    enqueue_posts_process([post.pk])  # no worker runs: the message waits in Redis
    assert pipeline_backlog() == 1
    assert posts_requeue_stale_task.apply().get() == 0
    post.refresh_from_db()
    assert post.attempts == 0 and post.status == Post.Status.PENDING
