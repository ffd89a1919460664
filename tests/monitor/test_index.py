import numpy as np

from monitor.index import (
    VectorIndex,
    index_build_from_database,
    index_for_reading,
    index_load,
    index_path,
    index_save,
)


def _unit(rows: int, dim: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_adding_the_same_ids_twice_keeps_one_vector_each():
    index = VectorIndex(model_id="m", dim=8)
    vectors = _unit(5)
    assert index.add(ids=[1, 2, 3, 4, 5], vectors=vectors) == 5
    assert index.add(ids=[1, 2, 3, 4, 5], vectors=vectors) == 0
    assert len(index) == 5


def test_search_finds_the_vector_itself_first():
    index = VectorIndex(model_id="m", dim=8)
    vectors = _unit(20)
    index.add(ids=list(range(100, 120)), vectors=vectors)
    hits = index.search(vectors=vectors[[3]], k=3)[0]
    assert hits[0].post_id == 103
    assert abs(hits[0].score - 1.0) < 1e-4


def test_ties_are_ordered_by_post_id_whatever_the_insertion_order():
    v = _unit(1)
    index = VectorIndex(model_id="m", dim=8)
    index.add(ids=[9, 3, 7], vectors=np.repeat(v, 3, axis=0))
    assert [n.post_id for n in index.search(vectors=v, k=3)[0]] == [3, 7, 9]


def test_removed_posts_disappear_from_search():
    index = VectorIndex(model_id="m", dim=8)
    vectors = _unit(4)
    index.add(ids=[1, 2, 3, 4], vectors=vectors)
    assert index.remove(ids=[2]) == 1
    assert 2 not in {n.post_id for n in index.search(vectors=vectors, k=4)[1]}
    assert 2 not in index


def test_save_is_atomic_and_round_trips(tmp_path):
    index = VectorIndex(model_id="m", dim=8)
    index.add(ids=[1, 2], vectors=_unit(2))
    path = index_save(index)
    assert path == index_path()
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
    loaded = index_load()
    assert loaded.model_id == "m" and len(loaded) == 2 and 1 in loaded


def test_readers_pick_up_a_newer_saved_index_without_restarting():
    index = VectorIndex(model_id="m", dim=8)
    index.add(ids=[1], vectors=_unit(1))
    index_save(index)
    assert len(index_for_reading()) == 1
    index.add(ids=[2, 3], vectors=_unit(2, seed=1))
    index_save(index)
    assert len(index_for_reading()) == 3


def test_the_index_can_be_built_from_stored_embeddings(make_post):
    from monitor.embeddings import vector_to_bytes
    from monitor.models import Embedding

    vectors = _unit(3)
    posts = [make_post(text=f"post {i}") for i in range(3)]
    for post, v in zip(posts, vectors):
        Embedding.objects.create(post=post, model_id="m", dim=8, vector=vector_to_bytes(v))
    Embedding.objects.create(post=make_post(text="other model"), model_id="other", dim=8, vector=vector_to_bytes(vectors[0]))
    index = index_build_from_database(model_id="m", dim=8)
    assert len(index) == 3
    assert index.search(vectors=vectors[[1]], k=1)[0][0].post_id == posts[1].pk
