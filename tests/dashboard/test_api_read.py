"""The read API (/api/v1/): tokens and roles, filters, pagination, search, flags, deletion, rate limit."""
from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from monitor.models import AuditEvent, Flag, Post
from monitor.tokens import token_create, token_revoke

READ_URLS = ["/api/v1/posts", "/api/v1/flags", "/api/v1/search?q=Bamako&mode=keyword"]


@pytest.fixture(autouse=True)
def _fresh_rate_counters():
    # Throttle counters live in the cache (Redis under REDIS_URL), which outlives test databases.
    cache.clear()
    yield
    cache.clear()


def _token(user) -> str:
    return token_create(user=user, name="t")[1]


def _get(url: str, token: str | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return Client().get(url, **headers)


@pytest.fixture
def admin(db, django_user_model):
    from monitor.roles import roles_ensure, user_set_role

    roles_ensure()
    user = django_user_model.objects.create_user(username="root", password="x" * 20)
    user_set_role(user=user, role="admin")
    return user


@pytest.mark.parametrize("url", READ_URLS + ["/api/v1/posts/1", "/api/v1/flags/1", "/api/v1/posts/1/similar"])
def test_it_refuses_no_token_an_invalid_one_and_a_revoked_one(url, researcher):
    assert _get(url).status_code == 401
    assert _get(url, "vg_not-a-real-token").status_code == 401
    token_row, key = token_create(user=researcher, name="old")
    token_revoke(token=token_row)
    response = _get(url, key)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("url", READ_URLS)
def test_outsiders_and_ingest_accounts_may_not_read(url, outsider, django_user_model):
    from monitor.roles import user_set_role

    assert _get(url, _token(outsider)).status_code == 403
    feeder = django_user_model.objects.create_user(username="feeder", password="x" * 20)
    user_set_role(user=feeder, role="ingest")
    assert _get(url, _token(feeder)).status_code == 403


@pytest.mark.parametrize("persona", ["researcher", "reviewer", "lead", "admin"])
@pytest.mark.parametrize("url", READ_URLS)
def test_every_reading_role_may_read(url, persona, request, make_flag):
    make_flag(text="Il faut chasser les Peuls de Bamako")
    response = _get(url, _token(request.getfixturevalue(persona)))
    assert response.status_code == 200, response.content


def test_posts_never_carry_the_author_handle_or_the_raw_payload(researcher, make_flag):
    flag = make_flag(text="Il faut chasser les Peuls de Bamako")
    Post.objects.filter(pk=flag.post_id).update(author_handle="secret_handle", raw={"user": "secret_handle"})
    token = _token(researcher)
    for url in ("/api/v1/posts", f"/api/v1/posts/{flag.post_id}", "/api/v1/flags", f"/api/v1/flags/{flag.pk}",
                "/api/v1/search?q=Peuls&mode=keyword"):
        response = _get(url, token)
        assert response.status_code == 200
        assert b"secret_handle" not in response.content and b'"raw"' not in response.content
    post = _get(f"/api/v1/posts/{flag.post_id}", token).json()
    assert post["author_pseudonym"] and post["flags"][0]["community"] == "peul"


def test_post_lists_filter_and_paginate_with_limit_and_offset(researcher, make_post, settings):
    settings.MONITOR_API_MAX_PAGE_SIZE = 4
    for n in range(7):
        make_post(text=f"message {n}", platform="telegram" if n % 2 else "x",
                  created_at=f"2026-11-0{n + 1}T10:00:00Z")
    token = _token(researcher)
    first = _get("/api/v1/posts?limit=3", token).json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["next"]
    assert [p["text"] for p in first["results"]] == ["message 6", "message 5", "message 4"]
    second = _get(first["next"].replace("http://testserver", ""), token).json()
    assert [p["text"] for p in second["results"]] == ["message 3", "message 2", "message 1"]
    capped = _get("/api/v1/posts?limit=1000", token).json()
    assert len(capped["results"]) == 4  # MONITOR_API_MAX_PAGE_SIZE
    telegram = _get("/api/v1/posts?platform=telegram&date_from=2026-11-03", token).json()
    assert [p["text"] for p in telegram["results"]] == ["message 5", "message 3"]
    bad = _get("/api/v1/posts?date_from=soon", token)
    assert bad.status_code == 400 and "date_from" in bad.json()["detail"]


def test_flags_list_filters_and_detail(researcher, make_flag):
    open_flag = make_flag(text="Il faut chasser les Peuls")
    done = make_flag(text="Chassez les Peuls", status=Flag.Status.CONFIRMED)
    token = _token(researcher)
    body = _get("/api/v1/flags?status=confirmed", token).json()
    assert [f["id"] for f in body["results"]] == [done.pk]
    assert body["results"][0]["post"]["text"] == "Chassez les Peuls"
    assert _get(f"/api/v1/flags/{open_flag.pk}", token).json()["status"] == "open"
    assert _get("/api/v1/flags/999999", token).status_code == 404
    assert _get("/api/v1/flags?status=sure", token).status_code == 400


def test_search_answers_pages_with_highlights(researcher, make_post):
    for n in range(5):
        make_post(text=f"Coupure d'électricité à Kalaban Coura, jour {n}")
    make_post(text="Le prix du riz augmente")
    token = _token(researcher)
    body = _get("/api/v1/search?q=electricite&mode=keyword&page_size=2", token).json()
    assert body["has_next"] and len(body["results"]) == 2 and body["results"][0]["rank"] == 1
    match = body["results"][0]["matches"][0]
    assert match["text"] == "électricité"
    assert body["results"][0]["post"]["text"][match["start"]:match["end"]] == "électricité"
    page3 = _get("/api/v1/search?q=electricite&mode=keyword&page_size=2&page=3", token).json()
    assert len(page3["results"]) == 1 and not page3["has_next"]
    for bad in ("mode=fuzzy", "page=0", "page_size=100000", "page=x", "cluster=abc"):
        assert _get(f"/api/v1/search?q=a&{bad}", token).status_code == 400


def test_similar_is_404_for_an_unknown_post_and_empty_without_a_vector(researcher, make_post):
    post = make_post(text="pas encore traité")
    token = _token(researcher)
    assert _get("/api/v1/posts/999999/similar", token).status_code == 404
    body = _get(f"/api/v1/posts/{post.pk}/similar", token).json()
    assert body["results"] == [] and body["mode"] == "semantic"


def test_only_admins_may_delete_a_post(researcher, lead, admin, make_post, django_capture_on_commit_callbacks):
    post = make_post(text="à supprimer")
    url = f"/api/v1/posts/{post.pk}"
    for user in (researcher, lead):
        assert Client().delete(url, HTTP_AUTHORIZATION=f"Bearer {_token(user)}").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().delete(url, HTTP_AUTHORIZATION=f"Bearer {_token(admin)}")
    assert response.status_code == 204
    assert not Post.objects.filter(pk=post.pk).exists()
    assert AuditEvent.objects.filter(action="posts.delete", actor=admin).exists()
    assert Client().delete(url, HTTP_AUTHORIZATION=f"Bearer {_token(admin)}").status_code == 404


def test_each_token_is_rate_limited_on_its_own(researcher, settings):
    settings.MONITOR_API_RATE = "3/minute"
    first, second = _token(researcher), _token(researcher)
    assert [_get("/api/v1/posts", first).status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = _get("/api/v1/posts", first)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert _get("/api/v1/posts", second).status_code == 200  # another token, another budget


def test_digits_that_are_not_ascii_are_a_clear_error_not_a_crash(researcher):
    # "²" and "١٢" are str.isdigit() but "²" is no integer for int(): every numeric parameter refuses both.
    token = _token(researcher)
    for bad in ("cluster=%C2%B2", "claim=%D9%A1%D9%A2", "page=%C2%B2", "page_size=%C2%B2"):
        assert _get(f"/api/v1/search?q=a&{bad}", token).status_code == 400
    assert _get("/api/v1/flags?post=%C2%B2", token).status_code == 400
