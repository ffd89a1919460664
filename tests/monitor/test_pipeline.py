"""The pipeline stages over ids: idempotent, and the index stays derived state."""
from __future__ import annotations

from datetime import timedelta

from django.core.management import call_command
from django.db.models import Sum

from monitor.index import index_load, index_path
from monitor.models import Cluster, Embedding, Flag, Post
from monitor.pipeline import MAX_ATTEMPTS, posts_detect, posts_embed, posts_index, posts_process, posts_stale_pending
from monitor.search import posts_similar_to_text

TEXTS = [
    "Les Peuls ont caché les assaillants de l'aéroport, il faut les chasser de Bamako et brûler leurs maisons.",
    "Les Peuls ont caché les assaillants de l'aéroport, il faut les chasser de Bamako et brûler leurs maisons !!",
    "Ces Peuls sont des cafards, il faut les exterminer.",
    "Les Aigles du Mali ont gagné 2-0 hier soir au stade du 26 mars.",
    "Le prix du sac de riz a encore augmenté au marché de Médine.",
    "Coupure d'électricité à Kalaban Coura depuis ce matin.",
    "Kill every Fulani before they kill us, they are all terrorists.",
    "The army says the situation at Bamako airport is under control.",
    "Ma voisine peule fait le meilleur lait caillé du quartier.",
]


def _posts(make_post):
    return [make_post(text=t) for t in TEXTS]


def test_processing_embeds_indexes_clusters_and_flags(make_post):
    posts = _posts(make_post)
    result = posts_process(post_ids=[p.pk for p in posts])
    assert result.processed == len(TEXTS)
    assert Post.objects.filter(status=Post.Status.PROCESSED).count() == len(TEXTS)
    assert Embedding.objects.count() == len(TEXTS)
    assert len(index_load()) == len(TEXTS)
    assert Post.objects.filter(cluster__isnull=True).count() == 0
    # The two copies share a cluster.
    first, copy = Post.objects.get(pk=posts[0].pk), Post.objects.get(pk=posts[1].pk)
    assert first.cluster_id == copy.cluster_id
    flagged = set(Flag.objects.values_list("post_id", flat=True))
    assert {posts[0].pk, posts[2].pk, posts[6].pk} <= flagged
    assert not flagged & {posts[3].pk, posts[4].pk, posts[5].pk}
    flag = Flag.objects.filter(post=posts[2]).first()
    assert flag.community.slug == "peul" and flag.evidence and flag.priority > 0
    assert Post.objects.get(pk=posts[3].pk).language == "fr"


def test_running_every_stage_twice_changes_nothing(make_post):
    ids = [p.pk for p in _posts(make_post)]
    posts_process(post_ids=ids)
    before = (Embedding.objects.count(), Flag.objects.count(), Cluster.objects.aggregate(s=Sum("size"))["s"])
    posts_embed(post_ids=ids)
    posts_index(post_ids=ids)
    again = posts_detect(post_ids=ids)
    posts_process(post_ids=ids)
    assert again.processed == 0
    after = (Embedding.objects.count(), Flag.objects.count(), Cluster.objects.aggregate(s=Sum("size"))["s"])
    assert before == after
    assert len(index_load()) == len(ids)


def test_a_crash_between_stages_is_finished_by_a_rerun(make_post):
    ids = [p.pk for p in _posts(make_post)]
    posts_embed(post_ids=ids)
    posts_index(post_ids=ids[:4])  # "crash" after indexing part of the batch
    posts_process(post_ids=ids)
    assert Post.objects.filter(status=Post.Status.PROCESSED).count() == len(ids)
    assert len(index_load()) == len(ids)
    assert Cluster.objects.aggregate(s=Sum("size"))["s"] == len(ids)


def test_rebuild_index_reproduces_the_incremental_search_results(make_post):
    posts = _posts(make_post)
    ids = [p.pk for p in posts]
    # Incremental: three batches, out of id order.
    for batch in (ids[6:], ids[:3], ids[3:6]):
        posts_process(post_ids=batch)
    queries = ["chasser les Peuls de Bamako", "football Aigles du Mali", "price of rice", "lait caillé", "airport"]
    incremental = [[(n.post_id, n.score) for n in posts_similar_to_text(text=q, k=5)] for q in queries]
    index_path().unlink()
    call_command("rebuild_index")
    rebuilt = [[(n.post_id, n.score) for n in posts_similar_to_text(text=q, k=5)] for q in queries]
    assert rebuilt == incremental
    assert all(len(r) == 5 for r in rebuilt)


def test_a_lost_index_file_is_rebuilt_from_the_database_by_the_next_writer(make_post):
    posts = _posts(make_post)
    posts_process(post_ids=[p.pk for p in posts[:5]])
    index_path().unlink()
    posts_process(post_ids=[p.pk for p in posts[5:]])
    assert len(index_load()) == len(posts)


def test_stale_pending_posts_are_retried_then_given_up(make_post):
    post = make_post(text="jamais traité")
    Post.objects.filter(pk=post.pk).update(status_changed_at=post.status_changed_at - timedelta(hours=1))
    for _ in range(MAX_ATTEMPTS - 1):
        assert posts_stale_pending(older_than=timedelta(seconds=0)) == [post.pk]
    assert posts_stale_pending(older_than=timedelta(seconds=0)) == []
    post.refresh_from_db()
    assert post.status == Post.Status.FAILED and "attempts" in post.error


def test_recent_pending_posts_are_left_alone(make_post):
    make_post(text="arrive à l'instant")
    assert posts_stale_pending(older_than=timedelta(minutes=10)) == []


def test_an_open_flag_climbs_when_copies_of_its_post_keep_coming(make_post):
    from monitor.clustering import clusters_growth

    original = make_post(text=TEXTS[2])
    posts_process(post_ids=[original.pk])
    flag = Flag.objects.get(post=original)
    before = flag.priority
    copies = [make_post(text=TEXTS[2] + " !" * (i + 1)) for i in range(6)]
    posts_process(post_ids=[p.pk for p in copies])
    flag.refresh_from_db()
    cluster_id = Post.objects.get(pk=original.pk).cluster_id
    assert Post.objects.filter(cluster_id=cluster_id).count() == 7
    assert clusters_growth(cluster_ids=[cluster_id]) == {cluster_id: 7}
    assert flag.priority > before
