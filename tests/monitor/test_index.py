import io
import json
import logging

import numpy as np
import pytest
from django.core.management import call_command

from monitor.index import (
    KIND_FLAT,
    KIND_IVF,
    MAGIC,
    VectorIndex,
    index_advice,
    index_build,
    index_build_from_database,
    index_for_reading,
    index_for_writing,
    index_load,
    index_path,
    index_plan,
    index_save,
    index_writer_lock,
    ivf_nlist,
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


# --- index kinds: exact while small, IVF beyond MONITOR_INDEX_EXACT_MAX --------------


def _clustered(rows: int, dim: int = 32, clusters: int = 40, seed: int = 0, fresh: int | None = None) -> np.ndarray:
    """Unit vectors sampled around cluster centres with varying spread (not uniform noise).

    ``seed`` fixes the centres; ``fresh`` draws other points around the same centres.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    spread = rng.uniform(0.2, 0.8, clusters).astype(np.float32)
    if fresh is not None:
        rng = np.random.default_rng([seed, fresh])
    which = rng.integers(0, clusters, rows)
    v = centres[which] + spread[which, None] * rng.normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture
def small_threshold(settings):
    settings.MONITOR_INDEX_EXACT_MAX = 1000
    return settings


def _ivf(rows: int = 3000, dim: int = 32) -> tuple[VectorIndex, np.ndarray]:
    vectors = _clustered(rows, dim)
    return index_build(model_id="m", dim=dim, ids=range(1, rows + 1), vectors=vectors), vectors


def test_the_index_kind_follows_the_corpus_size(small_threshold):
    assert index_plan(count=1000).kind == KIND_FLAT
    plan = index_plan(count=1001)
    assert plan.kind == KIND_IVF and "MONITOR_INDEX_EXACT_MAX (1000)" in plan.reason
    assert index_plan(count=100, kind=KIND_IVF).kind == KIND_IVF
    assert index_plan(count=10, kind=KIND_IVF).kind == KIND_FLAT  # too few to train lists
    assert index_plan(count=10**6, kind=KIND_FLAT).kind == KIND_FLAT
    with pytest.raises(ValueError):
        index_plan(count=10, kind="hnsw")


def test_the_default_threshold_is_fifty_thousand_vectors():
    assert index_plan(count=50_000).kind == KIND_FLAT
    assert index_plan(count=50_001).kind == KIND_IVF


def test_ivf_lists_grow_with_the_square_root_of_the_corpus():
    assert ivf_nlist(1_000_000) == 4000
    assert ivf_nlist(100_000) == 1265
    # Small corpora: at least 40 training vectors per list.
    assert ivf_nlist(3000) == 75
    assert ivf_nlist(10) == 1


def test_a_small_corpus_gets_an_exact_index(small_threshold):
    vectors = _clustered(500)
    index = index_build(model_id="m", dim=32, ids=range(1, 501), vectors=vectors)
    assert index.kind == KIND_FLAT and len(index) == 500
    assert index.search(vectors=vectors[[7]], k=1)[0][0].post_id == 8


def test_a_large_corpus_gets_a_trained_ivf_index_with_tuned_nprobe(small_threshold):
    index, _ = _ivf()
    assert index.kind == KIND_IVF and len(index) == 3000
    assert index.params["nlist"] == 75
    assert 1 <= index.nprobe <= 75
    assert index.params["recall"] >= 0.95
    assert "IVF75,SQ8" in index.describe()


def test_ivf_recall_against_exact_search_on_clustered_vectors(small_threshold):
    index, vectors = _ivf()
    exact = VectorIndex(model_id="m", dim=32)
    exact.add(ids=list(range(1, 3001)), vectors=vectors)
    queries = _clustered(200, fresh=1)  # same centres, fresh points: not in the index
    found = index.search(vectors=queries, k=10)
    truth = exact.search(vectors=queries, k=10)
    recall = np.mean([len({n.post_id for n in a} & {n.post_id for n in b}) / 10 for a, b in zip(found, truth)])
    assert recall >= 0.9
    # Scores are cosines, within quantisation error.
    assert abs(found[0][0].score - truth[0][0].score) < 0.02


def test_the_nprobe_setting_overrides_the_tuned_value(small_threshold):
    index, _ = _ivf()
    small_threshold.MONITOR_INDEX_NPROBE = 3
    assert index.nprobe == 3
    small_threshold.MONITOR_INDEX_NPROBE = 10_000
    assert index.nprobe == 75  # never more than the lists there are


def test_a_lower_target_recall_tunes_a_smaller_nprobe(small_threshold):
    small_threshold.MONITOR_INDEX_TARGET_RECALL = 0.99
    high, _ = _ivf()
    small_threshold.MONITOR_INDEX_TARGET_RECALL = 0.5
    low, _ = _ivf()
    assert low.params["nprobe"] < high.params["nprobe"]


@pytest.mark.parametrize("kind", [KIND_FLAT, KIND_IVF])
def test_each_kind_round_trips_through_the_saved_file(small_threshold, kind):
    vectors = _clustered(3000)
    index = index_build(model_id="m", dim=32, ids=range(1, 3001), vectors=vectors, kind=kind)
    index_save(index)
    loaded = index_load()
    assert (loaded.kind, loaded.model_id, loaded.dim, len(loaded)) == (kind, "m", 32, 3000)
    assert loaded.params == json.loads(json.dumps(index.params))
    assert loaded.nprobe == index.nprobe
    assert 3000 in loaded and 3001 not in loaded
    queries = _clustered(20, fresh=2)
    assert loaded.search(vectors=queries, k=5) == index.search(vectors=queries, k=5)
    assert VectorIndex.from_bytes(index.to_bytes()).search(vectors=queries, k=5) == index.search(vectors=queries, k=5)


def test_the_header_names_the_kind_and_its_parameters(small_threshold):
    index, _ = _ivf()
    index_save(index)
    with open(index_path(), "rb") as handle:
        handle.readline()
        meta = json.loads(handle.readline())
    assert meta["kind"] == "ivf" and meta["faiss"] == "IVF75,SQ8,IP" and meta["count"] == 3000
    assert meta["params"]["nlist"] == 75 and meta["params"]["nprobe"] == index.params["nprobe"]


def test_an_index_saved_before_index_kinds_existed_loads_as_exact():
    import faiss

    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(8))
    flat.add_with_ids(_unit(3), np.array([4, 5, 6], dtype=np.int64))
    old_header = {"model_id": "m", "dim": 8, "count": 3, "kind": "IDMap2,Flat,IP"}
    index_path().write_bytes(MAGIC + json.dumps(old_header).encode() + b"\n" + faiss.serialize_index(flat).tobytes())
    loaded = index_load()
    assert loaded.kind == KIND_FLAT and len(loaded) == 3 and 5 in loaded


@pytest.mark.parametrize("kind", [KIND_FLAT, KIND_IVF])
def test_removed_posts_disappear_from_every_kind(small_threshold, kind):
    vectors = _clustered(3000)
    index = index_build(model_id="m", dim=32, ids=range(1, 3001), vectors=vectors, kind=kind)
    before = index.search(vectors=vectors[:5], k=3)
    gone = [n.post_id for row in before for n in row]
    assert index.remove(ids=gone + [999_999]) == len(set(gone))
    assert len(index) == 3000 - len(set(gone))
    after = index.search(vectors=vectors[:5], k=10)
    assert not {n.post_id for row in after for n in row} & set(gone)
    assert all(post_id not in index for post_id in gone)
    index_save(index)
    assert not {n.post_id for row in index_load().search(vectors=vectors[:5], k=10) for n in row} & set(gone)


def test_an_ivf_index_takes_incremental_adds_into_its_trained_lists(small_threshold):
    index, _ = _ivf()
    extra = _clustered(50, fresh=3)
    assert index.add(ids=list(range(5001, 5051)), vectors=extra) == 50
    assert index.add(ids=list(range(5001, 5051)), vectors=extra) == 0
    assert len(index) == 3050 and index.kind == KIND_IVF
    assert index.search(vectors=extra[[10]], k=1)[0][0].post_id == 5011


def test_the_index_writer_keeps_adding_to_a_saved_ivf_index(small_threshold):
    index, _ = _ivf()
    index_save(index)
    with index_writer_lock():
        writer, rebuilt = index_for_writing(model_id="m", dim=32)
        assert not rebuilt and writer.kind == KIND_IVF
        writer.add(ids=[9001, 9002], vectors=_clustered(2, fresh=5))
        index_save(writer)
    reloaded = index_load()
    assert reloaded.kind == KIND_IVF and len(reloaded) == 3002 and 9002 in reloaded
    assert reloaded.params["nprobe"] == index.params["nprobe"]


def test_an_id_repeated_within_one_batch_is_added_once():
    index = VectorIndex(model_id="m", dim=8)
    vectors = _unit(3)
    assert index.add(ids=[1, 1, 2], vectors=vectors) == 2
    assert len(index) == 2
    assert index.search(vectors=vectors[[0]], k=1)[0][0].post_id == 1


def test_an_exact_index_grown_past_the_threshold_keeps_working_and_asks_for_a_rebuild(small_threshold, caplog):
    index = VectorIndex(model_id="m", dim=32)
    vectors = _clustered(1500)
    index.add(ids=list(range(1, 1501)), vectors=vectors)
    assert index.kind == KIND_FLAT
    assert index.search(vectors=vectors[[0]], k=1)[0][0].post_id == 1
    assert "rebuild_index" in index_advice(index)
    with caplog.at_level(logging.WARNING, logger="monitor.index"):
        index_save(index)
    assert any("rebuild_index" in r.getMessage() for r in caplog.records)


def test_an_ivf_index_asks_for_a_rebuild_when_it_outgrows_its_training(small_threshold):
    index, _ = _ivf()
    assert index_advice(index) is None
    index.add(ids=list(range(10_001, 22_001)), vectors=_clustered(12_000, seed=4))
    assert "retrain" in index_advice(index)


def test_the_database_build_follows_the_size(make_post, settings):
    from monitor.embeddings import vector_to_bytes
    from monitor.models import Embedding

    settings.MONITOR_INDEX_EXACT_MAX = 100
    vectors = _clustered(240, dim=16)
    posts = [make_post(text=f"post {i}") for i in range(240)]
    Embedding.objects.bulk_create(
        Embedding(post=p, model_id="m", dim=16, vector=vector_to_bytes(v)) for p, v in zip(posts, vectors)
    )
    index = index_build_from_database(model_id="m", dim=16, batch_size=50)
    assert index.kind == KIND_IVF and len(index) == 240 and index.params["nlist"] == 6
    assert all(p.pk in index for p in posts)
    assert index_build_from_database(model_id="m", dim=16, kind=KIND_FLAT).kind == KIND_FLAT
    settings.MONITOR_INDEX_EXACT_MAX = 1000
    assert index_build_from_database(model_id="m", dim=16).kind == KIND_FLAT


def _store_embeddings(make_post, count: int, dim: int = 16) -> list[int]:
    from monitor.embeddings import get_embedder, vector_to_bytes
    from monitor.models import Embedding

    model_id = get_embedder().model_id
    posts = [make_post(text=f"post {i}") for i in range(count)]
    Embedding.objects.bulk_create(
        Embedding(post=p, model_id=model_id, dim=dim, vector=vector_to_bytes(v))
        for p, v in zip(posts, _clustered(count, dim=dim))
    )
    return [p.pk for p in posts]


def test_rebuild_index_picks_the_kind_and_says_why(make_post, settings):
    settings.MONITOR_INDEX_EXACT_MAX = 100
    _store_embeddings(make_post, 240)
    out = io.StringIO()
    call_command("rebuild_index", stdout=out)
    text = out.getvalue()
    assert "240 vectors > MONITOR_INDEX_EXACT_MAX (100)" in text and "IVF6,SQ8" in text
    assert "nprobe=" in text
    assert index_load().kind == KIND_IVF

    settings.MONITOR_INDEX_EXACT_MAX = 50_000
    out = io.StringIO()
    call_command("rebuild_index", stdout=out)
    assert "240 vectors <= MONITOR_INDEX_EXACT_MAX (50000)" in out.getvalue()
    assert index_load().kind == KIND_FLAT


def test_rebuild_index_check_says_when_a_rebuild_is_due(make_post, settings):
    out = io.StringIO()
    call_command("rebuild_index", check=True, stdout=out)
    assert "no index" in out.getvalue()
    _store_embeddings(make_post, 150)
    call_command("rebuild_index", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rebuild_index", check=True, stdout=out)
    assert "exact" in out.getvalue() and "no rebuild due" in out.getvalue()
    settings.MONITOR_INDEX_EXACT_MAX = 100
    out = io.StringIO()
    call_command("rebuild_index", check=True, stdout=out)
    assert "rebuild due" in out.getvalue() and "MONITOR_INDEX_EXACT_MAX (100)" in out.getvalue()


def test_rebuild_index_can_force_a_kind(make_post):
    _store_embeddings(make_post, 240)
    call_command("rebuild_index", kind="ivf", stdout=io.StringIO())
    assert index_load().kind == KIND_IVF
