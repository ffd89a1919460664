"""Search over the saved index: removal of posts, and what readers see afterwards."""
import numpy as np
import pytest

from monitor.index import (
    KIND_FLAT,
    KIND_IVF,
    index_build,
    index_for_reading,
    index_load,
    index_path,
    index_save,
)
from monitor.search import posts_remove_from_index


def _clustered(rows: int, dim: int = 16, clusters: int = 20, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    v = centres[rng.integers(0, clusters, rows)] + 0.5 * rng.normal(size=(rows, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("kind", [KIND_FLAT, KIND_IVF])
def test_removed_posts_disappear_from_the_saved_index_and_from_readers(kind):
    vectors = _clustered(2000)
    index_save(index_build(model_id="m", dim=16, ids=range(1, 2001), vectors=vectors, kind=kind))
    assert 5 in index_for_reading()

    assert posts_remove_from_index(post_ids=[5, 6, 123_456]) == 2

    reader = index_for_reading()  # a web process picks up the new file without a restart
    assert reader.kind == kind and len(reader) == 1998
    assert 5 not in reader and 6 not in reader
    found = {n.post_id for row in reader.search(vectors=vectors[[4, 5]], k=10) for n in row}
    assert not found & {5, 6}


def test_removing_posts_that_are_not_indexed_leaves_the_file_alone():
    index_save(index_build(model_id="m", dim=16, ids=[1, 2], vectors=_clustered(2)))
    before = index_path().stat().st_mtime_ns
    assert posts_remove_from_index(post_ids=[3]) == 0
    assert index_path().stat().st_mtime_ns == before


def test_removing_without_an_index_file_does_nothing():
    assert posts_remove_from_index(post_ids=[1]) == 0
    assert index_load() is None


def test_an_unreadable_index_file_is_left_to_the_next_rebuild():
    index_path().write_bytes(b"garbage")
    assert posts_remove_from_index(post_ids=[1]) == 0
