"""Shared fixtures: named personas, a post factory, and per-test data folders.

Personas (after healthchecks' alice/bob/charlie): ``reviewer``, ``lead``,
``researcher``, ``outsider`` (logged in, no role). Roles come from
``monitor.roles`` once it exists.
"""
from __future__ import annotations

import itertools
import os

import pytest

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _isolated_data_dir(settings, tmp_path):
    """Each test gets its own FAISS index folder; nothing leaks between tests."""
    settings.MONITOR_INDEX_DIR = tmp_path / "index"
    settings.MONITOR_DATA_DIR = tmp_path
    yield


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    """Unit tests run tasks in-process; integration tests start a real worker instead."""
    from workers.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def make_post(db):
    """Create a stored post directly (no pipeline): ``make_post(text="...")``."""
    from monitor.ingest import author_pseudonym
    from monitor.models import Post

    def _make(text: str = "Bonjour Bamako", **fields):
        n = next(_counter)
        fields.setdefault("platform", "x")
        fields.setdefault("external_id", f"t{n}")
        fields.setdefault("author_handle", f"user{n}")
        fields.setdefault(
            "author_pseudonym", author_pseudonym(platform=fields["platform"], author_id=fields["author_handle"])
        )
        return Post.objects.create(text=text, **fields)

    return _make


@pytest.fixture
def peul(db):
    from monitor.models import Community

    return Community.objects.create(slug="peul", name="Peul", names={"fr": ["Peul", "Peuls"]})


@pytest.fixture
def make_flag(make_post, peul):
    """Create an open flag on a new post: ``make_flag(text=..., priority=..., status=...)``.

    Evidence marks the first "Peuls" in the text as the target, when there is one.
    """
    from monitor.models import Flag

    def _make(priority=1.0, status=Flag.Status.OPEN, text="Il faut chasser les Peuls", community=None, post=None,
              **fields):
        post = post or make_post(text=text, url="https://x.com/u/status/1", language="fr")
        start = text.find("Peuls")
        fields.setdefault(
            "evidence",
            [{"start": start, "end": start + 5, "text": "Peuls", "rule": "community:peul", "role": "target"}]
            if start >= 0 else [],
        )
        fields.setdefault("kind", Flag.Kind.INCITEMENT)
        fields.setdefault("category", Flag.Category.EXCLUSION)
        fields.setdefault("score", 0.7)
        fields.setdefault("detector", "test")
        return Flag.objects.create(
            post=post, community=community or peul, priority=priority, status=status, **fields
        )

    return _make


def _persona(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(username=username, password="correct horse battery")
    if role is not None:
        from monitor.roles import roles_ensure, user_set_role

        roles_ensure()
        user_set_role(user=user, role=role)
    return user


@pytest.fixture
def reviewer(db, django_user_model):
    return _persona(django_user_model, "alice", "reviewer")


@pytest.fixture
def lead(db, django_user_model):
    return _persona(django_user_model, "bob", "lead")


@pytest.fixture
def researcher(db, django_user_model):
    return _persona(django_user_model, "charlie", "researcher")


@pytest.fixture
def outsider(db, django_user_model):
    return _persona(django_user_model, "mallory", None)


def services_required() -> bool:
    """In CI (or when asked) a missing PostgreSQL/Redis is a failure, never a skip."""
    return os.environ.get("CI", "").lower() in {"1", "true"} or os.environ.get("MONITOR_REQUIRE_SERVICES") == "1"
