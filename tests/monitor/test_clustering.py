import numpy as np

from monitor.clustering import clusters_assign
from monitor.embeddings import get_embedder
from monitor.index import VectorIndex
from monitor.models import Cluster, Post

ORIGINAL = "Les Peuls ont caché les assaillants de l'aéroport, il faut les chasser de Bamako"
COPY = "Les Peuls ont caché les assaillants de l'aéroport, il faut les chasser de Bamako !!"
UNRELATED = "Les Aigles du Mali ont gagné 2-0 ce soir, bravo à toute l'équipe"


def _assign(posts, index):
    vectors = get_embedder().encode([p.text for p in posts])
    result = clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index)
    index.add(ids=[p.pk for p in posts], vectors=vectors)
    return result


def test_copies_share_a_cluster_and_unrelated_posts_do_not(make_post):
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    a, b, c = make_post(text=ORIGINAL), make_post(text=COPY), make_post(text=UNRELATED)
    _assign([a, b, c], index)
    a, b, c = (Post.objects.get(pk=p.pk) for p in (a, b, c))
    assert a.cluster_id == b.cluster_id
    assert c.cluster_id != a.cluster_id
    assert Cluster.objects.get(pk=a.cluster_id).size == 2


def test_a_later_copy_joins_the_existing_cluster_through_the_index(make_post):
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    first = make_post(text=ORIGINAL)
    _assign([first], index)
    later = make_post(text=COPY)
    (assignment,) = _assign([later], index)
    assert assignment.cluster_id == Post.objects.get(pk=first.pk).cluster_id
    assert assignment.similarity is not None and assignment.similarity > 0.9


def test_assigning_twice_counts_each_post_once(make_post):
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    posts = [make_post(text=ORIGINAL), make_post(text=COPY)]
    vectors = get_embedder().encode([p.text for p in posts])
    clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index)
    again = clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index)
    assert again == []
    assert Cluster.objects.count() == 1
    assert Cluster.objects.get().size == 2


def test_the_threshold_decides(make_post):
    index = VectorIndex(model_id="m", dim=get_embedder().dim)
    posts = [make_post(text=ORIGINAL), make_post(text=UNRELATED)]
    vectors = get_embedder().encode([p.text for p in posts])
    clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index, threshold=-1.0)
    assert Cluster.objects.count() == 1
    assert np.isclose(Cluster.objects.get().size, 2)


def test_a_batch_is_written_in_a_constant_number_of_queries_with_the_right_sizes(make_post):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run(n: int) -> int:
        index = VectorIndex(model_id="m", dim=get_embedder().dim)
        first = make_post(text=ORIGINAL)
        _assign([first], index)
        posts = [make_post(text=f"{UNRELATED} — match n°{k} à Ségou, score {k}-{k + 1}") for k in range(n)]
        posts += [make_post(text=COPY), make_post(text=ORIGINAL + " #Bamako")]
        vectors = get_embedder().encode([p.text for p in posts])
        with CaptureQueriesContext(connection) as queries:
            clusters_assign(post_ids=[p.pk for p in posts], vectors=vectors, index=index)
        # The copies joined the stored cluster, which grew by two.
        assert Cluster.objects.get(pk=Post.objects.get(pk=first.pk).cluster_id).size == 3
        assert {Post.objects.get(pk=p.pk).cluster_id for p in posts[-2:]} == {Post.objects.get(pk=first.pk).cluster_id}
        assert all(Post.objects.get(pk=p.pk).cluster_id is not None for p in posts)
        return len(queries)

    assert run(5) == run(40)
