"""Deleting posts: gone from the database, keyword search, semantic search and the index."""
from __future__ import annotations

import pytest
from django.core.management import call_command

from monitor.index import index_load
from monitor.models import AuditEvent, Cluster, Flag, Post, ReviewDecision
from monitor.deletion import posts_delete
from monitor.pipeline import posts_process
from monitor.search import posts_search

TEXTS = [
    "Kick every last Fulani out of Bamako. No exceptions. They hid the attackers.",
    "Kick every last Fulani out of Bamako. No exceptions. They sheltered the attackers. #FulaniOut",
    "Le prix du sac de riz a encore augmenté au marché de Médine.",
    "Coupure d'électricité à Kalaban Coura depuis ce matin.",
]


@pytest.fixture
def processed(make_post):
    posts = [make_post(text=t) for t in TEXTS]
    posts_process(post_ids=[p.pk for p in posts])
    return [Post.objects.get(pk=p.pk) for p in posts]


def _found(query: str, mode: str) -> list[int]:
    return [hit.post.pk for hit in posts_search(query=query, mode=mode, page_size=20).hits]


def test_a_deleted_post_disappears_from_semantic_and_keyword_search(processed, lead,
                                                                     django_capture_on_commit_callbacks):
    first, copy = processed[0], processed[1]
    assert first.cluster_id == copy.cluster_id and Cluster.objects.get(pk=first.cluster_id).size == 2
    assert first.pk in _found("hid the attackers", "keyword")
    assert first.pk in _found("expel the Fulani from Bamako", "semantic")

    with django_capture_on_commit_callbacks(execute=True):
        assert posts_delete(post_ids=[first.pk, 999_999], actor=lead) == [first.pk]

    assert not Post.objects.filter(pk=first.pk).exists()
    assert first.pk not in index_load()
    for mode in ("keyword", "semantic", "both"):
        assert first.pk not in _found("hid the attackers Fulani Bamako", mode)
    assert copy.pk in _found("Fulani Bamako", "keyword")
    assert Cluster.objects.get(pk=copy.cluster_id).size == 1
    event = AuditEvent.objects.get(action="posts.delete")
    assert event.actor == lead and event.data["post_ids"] == [first.pk]


def test_flags_and_decisions_go_too_even_a_reverted_decision(processed, lead):
    post = processed[0]
    flag = Flag.objects.filter(post=post).first() or Flag.objects.create(
        post=post, kind=Flag.Kind.INCITEMENT, category=Flag.Category.EXCLUSION, score=0.9, detector="t")
    first = ReviewDecision.objects.create(flag=flag, reviewer=lead, action="confirm")
    ReviewDecision.objects.create(flag=flag, reviewer=lead, action="revert", reverts=first)
    posts_delete(post_ids=[post.pk], actor=lead)
    assert not Flag.objects.filter(post_id=post.pk).exists()
    assert not ReviewDecision.objects.filter(flag_id=flag.pk).exists()


def test_the_command_deletes_and_reports(processed, lead, capsys):
    call_command("delete_posts", str(processed[2].pk), "424242", "--actor", lead.username)
    out = capsys.readouterr().out
    assert "deleted 1 post(s)" in out and "424242" in out
    assert not Post.objects.filter(pk=processed[2].pk).exists()
    assert processed[2].pk not in _found("riz Médine", "keyword")
