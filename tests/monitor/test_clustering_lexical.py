"""The near-duplicate rule with the real model: spelling variants join, quoting counter-speech stays apart."""
import pytest

from monitor.clustering import (
    clusters_assign,
    lexical_similarity,
    near_duplicate_score,
    text_shingles,
)
from monitor.embeddings import get_embedder
from monitor.index import VectorIndex
from monitor.models import Post

# Our own examples (not from the evaluation pairs).
ORIGINAL = "Les Fulbe de Mopti cachent les terroristes, il faut les chasser du marché"
VARIANTS = [
    "Les F.u.l.b.e de Mopti cachent les t3rroristes, il faut les chasser du marché",
    "LES FULBE DE MOPTI CACHENT LES TERRORISTES il faut les chassssser du marché !!!",
    "Les Fulbé de Mopti cahcent les terroristes, il faut les chaser du marché",
]
QUOTING = (
    "Arrêtez de partager « les Fulbe de Mopti cachent les terroristes, il faut les chasser du marché » : "
    "c'est une rumeur fausse et dangereuse, les éleveurs sont les premières victimes des attaques"
)
OTHER_TOPIC = "Le prix du carburant a encore augmenté à Mopti, les transporteurs menacent de faire grève"


def _assign(posts, index):
    vectors = get_embedder().encode([p.text for p in posts])
    result = clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index)
    index.add(ids=[p.pk for p in posts], vectors=vectors)
    return result


def test_lexical_similarity_is_symmetric_and_forgives_obfuscation():
    a, b, quote = text_shingles(ORIGINAL), text_shingles(VARIANTS[0]), text_shingles(QUOTING)
    assert lexical_similarity(a, a) == 1.0
    assert lexical_similarity(a, b) == lexical_similarity(b, a) > 0.9
    # The quote contains every 3-gram of the original, but is mostly its own words.
    assert len(a & quote) / len(a) > 0.8 and lexical_similarity(a, quote) < 0.6
    assert lexical_similarity(a, frozenset()) == 0.0 and text_shingles("") == frozenset()


def test_the_score_mixes_cosine_and_lexical(settings):
    settings.MONITOR_CLUSTER_LEXICAL_WEIGHT = 0.5
    assert near_duplicate_score(cosine=0.8, lexical=0.6) == pytest.approx(0.7)
    assert near_duplicate_score(cosine=0.8, lexical=0.6, weight=0.0) == pytest.approx(0.8)


def test_spelling_variants_join_the_cluster_and_quoting_counter_speech_stays_apart(make_post):
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    original = make_post(text=ORIGINAL)
    _assign([original], index)
    variants = [make_post(text=t) for t in VARIANTS]
    quoting, other = make_post(text=QUOTING), make_post(text=OTHER_TOPIC)
    _assign(variants + [quoting, other], index)

    cluster = Post.objects.get(pk=original.pk).cluster_id
    assert [Post.objects.get(pk=v.pk).cluster_id for v in variants] == [cluster] * len(VARIANTS)
    assert Post.objects.get(pk=quoting.pk).cluster_id not in (None, cluster)
    assert Post.objects.get(pk=other.pk).cluster_id not in (None, cluster)


def test_cosine_alone_at_the_old_threshold_splits_the_variants(make_post, settings):
    """The reason for the lexical signal: with w = 0 and 0.90 the obfuscated copies start clusters of their own."""
    settings.MONITOR_CLUSTER_LEXICAL_WEIGHT = 0.0
    settings.MONITOR_CLUSTER_THRESHOLD = 0.90
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    posts = [make_post(text=ORIGINAL)] + [make_post(text=t) for t in VARIANTS]
    _assign(posts, index)
    assert len({Post.objects.get(pk=p.pk).cluster_id for p in posts}) > 1


def test_a_retried_batch_with_the_lexical_rule_counts_each_post_once(make_post):
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    posts = [make_post(text=ORIGINAL)] + [make_post(text=t) for t in VARIANTS]
    vectors = get_embedder().encode([p.text for p in posts])
    first = clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index)
    assert clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index) == []
    (cluster_id,) = {a.cluster_id for a in first}
    from monitor.models import Cluster

    assert Cluster.objects.get(pk=cluster_id).size == len(posts)
