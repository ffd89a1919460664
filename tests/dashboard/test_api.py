"""POST /api/v1/posts: authentication, validation, idempotence, store-then-enqueue."""
from __future__ import annotations

import json

import pytest
from django.test import Client

from monitor.models import Post

URL = "/api/v1/posts"


@pytest.fixture
def ingest_token(db, django_user_model):
    from monitor.roles import roles_ensure, user_set_role
    from monitor.tokens import token_create

    roles_ensure()
    user = django_user_model.objects.create_user(username="feeder", password="x" * 20)
    user_set_role(user=user, role="ingest")
    return token_create(user=user, name="feeder")[1]


@pytest.fixture
def queued(monkeypatch):
    """Record what would be sent to the pipeline instead of processing it."""
    sent: list[int] = []
    monkeypatch.setattr("workers.tasks.enqueue_posts_process", lambda ids: sent.extend(ids))
    return sent


def _send(body, token=None, raw: bytes | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body)
    return Client().post(URL, data=data, content_type="application/json", **headers)


def _posts(n: int, prefix: str = "p") -> list[dict]:
    return [{"platform": "x", "id": f"{prefix}{i}", "text": f"Bonjour Bamako numéro {i}"} for i in range(n)]


def test_it_refuses_requests_without_a_valid_token(db):
    assert _send({"posts": _posts(1)}).status_code == 401
    assert _send({"posts": _posts(1)}, token="vg_not-a-real-token").status_code == 401
    assert Post.objects.count() == 0


def test_a_reviewer_token_cannot_submit_posts(reviewer):
    from monitor.tokens import token_create

    token = token_create(user=reviewer, name="r")[1]
    assert _send({"posts": _posts(1)}, token=token).status_code == 403


def test_it_stores_a_batch_and_answers_202_with_counts(ingest_token, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _send({"posts": _posts(3)}, token=ingest_token)
    assert response.status_code == 202
    assert response.json() == {"received": 3, "new": 3, "duplicate": 0, "rejected": 0, "errors": []}
    assert sorted(queued) == sorted(Post.objects.values_list("id", flat=True))


def test_sending_the_same_batch_twice_stores_each_post_once(ingest_token, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _send({"posts": _posts(5)}, token=ingest_token)
    with django_capture_on_commit_callbacks(execute=True):
        second = _send(_posts(5), token=ingest_token)  # a bare list is accepted too
    assert second.json()["new"] == 0 and second.json()["duplicate"] == 5
    assert Post.objects.count() == 5
    assert len(queued) == 5


def test_invalid_records_are_listed_and_the_rest_stored(ingest_token, queued):
    batch = _posts(2) + [{"platform": "x", "id": "bad"}, {"platform": "x", "id": "s", "text": "\ud800 broken"}]
    response = _send({"posts": batch}, token=ingest_token)
    assert response.status_code == 202
    body = response.json()
    assert body["new"] == 2 and body["rejected"] == 2
    assert body["errors"][0] == {"index": 2, "error": "missing required field 'text'"}
    assert body["errors"][1]["index"] == 3 and "Unicode" in body["errors"][1]["error"]


def test_a_batch_with_no_valid_record_is_a_400(ingest_token):
    response = _send({"posts": [{"platform": "x"}]}, token=ingest_token)
    assert response.status_code == 400
    assert response.json()["rejected"] == 1


def test_a_batch_over_the_limit_is_refused_whole(ingest_token, settings):
    settings.MONITOR_API_MAX_BATCH = 10
    response = _send({"posts": _posts(11)}, token=ingest_token)
    assert response.status_code == 413
    assert Post.objects.count() == 0


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"posts": "nope"}', "{\"posts\": []}".encode() + b"\xff\xfe"], ids=["syntax", "shape", "bytes"]
)
def test_malformed_bodies_get_a_clear_400(ingest_token, raw):
    response = _send(None, token=ingest_token, raw=raw)
    assert response.status_code == 400
    assert "detail" in response.json()


def test_posts_accepted_while_the_broker_is_down_stay_pending_and_are_swept_later(
    ingest_token, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from kombu.exceptions import OperationalError

    from monitor.pipeline import posts_stale_pending
    from workers.tasks import posts_embed_task

    def broker_down(*args, **kwargs):
        raise OperationalError("[Errno 111] Connection refused")

    monkeypatch.setattr(posts_embed_task, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = _send({"posts": _posts(2)}, token=ingest_token)
    assert response.status_code == 202
    assert Post.objects.filter(status=Post.Status.PENDING).count() == 2
    swept = posts_stale_pending(older_than=timedelta(seconds=0))
    assert sorted(swept) == sorted(Post.objects.values_list("id", flat=True))
