"""The clustering core on arrays: determinism, noise, sampling, one-to-one matching."""
import numpy as np

from monitor.narratives.grouping import match_one_to_one, nearest_centroid, vectors_group
from tests.narratives.conftest import around, unit


def _week(seed=0, sizes=(120, 80, 40), noise=60):
    rng = np.random.default_rng(seed)
    centres = unit(rng, len(sizes))
    parts = [around(rng, c, n) for c, n in zip(centres, sizes)] + [unit(rng, noise)]
    truth = np.concatenate([np.full(n, t) for t, n in enumerate(sizes)] + [np.full(noise, -1)])
    order = rng.permutation(len(truth))
    return np.concatenate(parts)[order], truth[order]


def test_it_finds_the_groups_leaves_noise_and_numbers_by_size():
    vectors, truth = _week()
    g = vectors_group(vectors, min_size=5, join_threshold=0.65)
    assert len(g.centroids) == 3
    for t, expected in enumerate((0, 1, 2)):  # the largest story is group 0
        assert set(g.labels[truth == t]) == {expected}
    assert (g.labels[truth == -1] == -1).all()
    assert np.allclose(np.linalg.norm(g.centroids, axis=1), 1.0, atol=1e-5)
    assert (g.similarity[truth >= 0] > 0.65).all() and (g.similarity[truth < 0] == 0).all()


def test_the_same_input_gives_the_same_groups_even_through_a_sample():
    vectors, truth = _week(seed=1)
    a = vectors_group(vectors, min_size=5, join_threshold=0.65, sample_size=120)
    b = vectors_group(vectors, min_size=5, join_threshold=0.65, sample_size=120)
    assert np.array_equal(a.labels, b.labels) and np.array_equal(a.centroids, b.centroids)
    # Posts outside the sample joined their story through its centroid.
    assert len(a.centroids) == 3 and (a.labels[truth >= 0] >= 0).all()


def test_small_groups_and_tiny_weeks_are_noise():
    vectors, _ = _week(sizes=(3,), noise=10)
    assert (vectors_group(vectors, min_size=5, join_threshold=0.65).labels == -1).all()
    empty = vectors_group(np.zeros((0, 8), np.float32), min_size=5, join_threshold=0.65)
    assert empty.labels.shape == (0,) and empty.centroids.shape == (0, 8)


def test_matching_is_one_to_one_best_first_and_thresholded():
    sims = np.array([[0.95, 0.90], [0.92, 0.10], [0.50, 0.60]])
    assert match_one_to_one(sims, threshold=0.8) == {0: 0}  # row 1 loses column 0 to the better pair
    assert match_one_to_one(np.array([[0.9, 0.85], [0.88, 0.2]]), threshold=0.8) == {0: 0}
    assert match_one_to_one(np.zeros((0, 3)), threshold=0.8) == {}


def test_nearest_centroid_respects_the_threshold():
    centroids = np.eye(3, dtype=np.float32)
    vectors = np.array([[1, 0, 0], [0.6, 0.8, 0], [0.5, 0.5, 0.707]], dtype=np.float32)
    labels, sims = nearest_centroid(vectors, centroids, threshold=0.7)
    assert labels.tolist() == [0, 1, 2]
    assert sims[0] == 1.0 and abs(sims[1] - 0.8) < 1e-6
    labels, _ = nearest_centroid(vectors, centroids, threshold=0.9)
    assert labels.tolist() == [0, -1, -1]


def test_groups_with_close_centroids_merge_and_distinct_ones_do_not():
    rng = np.random.default_rng(5)
    story, other = unit(rng, 2)
    # One story told in two phrasings (centres at cosine ~0.8), and an unrelated story.
    a = story + 0.5 * unit(rng, 1)[0]
    b = story + 0.5 * unit(rng, 1)[0]
    parts = [around(rng, c / np.linalg.norm(c), 40, spread=0.02) for c in (a, b, other)]
    vectors = np.concatenate(parts)
    split = vectors_group(vectors, min_size=5, join_threshold=0.65)
    merged = vectors_group(vectors, min_size=5, join_threshold=0.65, merge_threshold=0.78)
    assert len(split.centroids) == 3
    assert len(merged.centroids) == 2
    assert set(merged.labels[:80]) == {0} and set(merged.labels[80:]) == {1}
    again = vectors_group(vectors, min_size=5, join_threshold=0.65, merge_threshold=0.78)
    assert np.array_equal(again.labels, merged.labels)
