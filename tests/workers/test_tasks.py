"""Tasks run twice leave one row (tasks run in-process here; see test_pipeline_live for a real worker)."""
from __future__ import annotations

from monitor.models import Embedding, Flag, Post
from workers.tasks import (
    enqueue_posts_process,
    posts_detect_task,
    posts_embed_task,
    posts_index_task,
    posts_requeue_stale_task,
)


def test_the_chain_processes_posts_and_a_second_run_adds_nothing(make_post):
    posts = [make_post(text="Il faut exterminer ces Peuls, ce sont des cafards."), make_post(text="Bonne fête à tous")]
    ids = [p.pk for p in posts]
    enqueue_posts_process(ids)
    assert Post.objects.filter(status=Post.Status.PROCESSED).count() == 2
    counts = (Embedding.objects.count(), Flag.objects.count())
    for task in (posts_embed_task, posts_index_task, posts_detect_task):
        task.delay(ids)
    assert (Embedding.objects.count(), Flag.objects.count()) == counts
    assert Flag.objects.filter(post=posts[0]).count() == 1


def test_an_embedding_failure_marks_the_posts_failed_with_the_reason(make_post, settings):
    settings.MONITOR_EMBEDDING_MODEL = "/nonexistent/model"
    post = make_post(text="texte")
    posts_embed_task.delay([post.pk])
    post.refresh_from_db()
    assert post.status == Post.Status.FAILED
    assert "cannot load embedding model" in post.error


def test_the_sweeper_task_sends_stale_posts_through_again(make_post, settings):
    from datetime import timedelta

    post = make_post(text="Les Aigles du Mali ont gagné")
    Post.objects.filter(pk=post.pk).update(status_changed_at=post.status_changed_at - timedelta(hours=1))
    settings.MONITOR_STALE_PENDING_SECONDS = 60
    assert posts_requeue_stale_task.delay().get() == 1
    post.refresh_from_db()
    assert post.status == Post.Status.PROCESSED
