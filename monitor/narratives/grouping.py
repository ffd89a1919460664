"""The clustering core of narratives, on plain arrays (no database).

``vectors_group`` turns a week's L2-normalised vectors into groups, leaving
noise unassigned, in under half a minute for 200,000 posts on two cores
(``bench/narratives.py``):

1. Draw a fixed-seed sample of at most ``sample_size`` posts (all of them when
   the week is smaller).
2. Reduce the sample to ``components`` dimensions (48; at most one per three
   sampled posts) with PCA (fixed seed),
   project back onto the unit sphere and run HDBSCAN on it: density
   clustering that finds the groups and leaves sparse posts out.
3. Each sample group's centroid is the normalised mean of its members' full
   vectors. Every post of the week joins its nearest centroid when the cosine
   reaches ``join_threshold``, else stays noise (the rule
   ``narratives_for_posts`` applies between builds, too).
4. Groups whose centroids are very close are merged: average-linkage
   agglomerative clustering on the centroids, cutting at cosine
   ``merge_threshold`` (near-copies of one rumour that differ by a place
   name come out of HDBSCAN as several dense groups; merged, they are one
   story). It runs once, on the sample's groups, before step 3: linkage
   averages the cosines between the original groups' centroids, whereas
   merging again on merged centroids would creep (the mean of a broad group
   is close to everything nearby).
5. Groups with fewer than ``min_size`` posts are dropped, centroids are
   recomputed from the members, and step 3 runs once more with them. Groups
   are numbered by size (largest first, ties by first post); each member's
   cosine to its centroid is returned.

The same input gives the same output: fixed seeds, no threads whose order
matters.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CHUNK = 20_000  # rows of the (posts x centroids) product at a time
# HDBSCAN's min_samples: small, so a story told in varied words is not read as noise
# (chosen on the invented posts of tests/narratives/texts.py).
MIN_SAMPLES = 3


@dataclass(frozen=True)
class Grouping:
    """``labels[i]`` is post i's group (-1: noise); ``similarity[i]`` its cosine to that centroid."""

    labels: np.ndarray  # int64 (n,)
    centroids: np.ndarray  # float32 (k, dim), L2-normalised
    similarity: np.ndarray  # float32 (n,), 0 for noise


def _normalise(rows: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (rows / norms).astype(np.float32)


def nearest_centroid(
    vectors: np.ndarray, centroids: np.ndarray, *, threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each vector's nearest centroid (-1 below ``threshold``) and its cosine, in chunks."""
    n = len(vectors)
    labels = np.full(n, -1, dtype=np.int64)
    sims = np.zeros(n, dtype=np.float32)
    if n == 0 or len(centroids) == 0:
        return labels, sims
    for start in range(0, n, CHUNK):
        block = vectors[start : start + CHUNK] @ centroids.T
        best = np.argmax(block, axis=1)
        score = block[np.arange(len(block)), best]
        ok = score >= threshold
        labels[start : start + CHUNK] = np.where(ok, best, -1)
        sims[start : start + CHUNK] = np.where(ok, score, 0.0)
    return labels, sims


def _centroids(vectors: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Normalised mean vector of each group 0..k-1 (one sparse product, not a Python loop)."""
    from scipy.sparse import csr_matrix

    members = np.flatnonzero(labels >= 0)
    if k == 0 or len(members) == 0:
        return np.zeros((k, vectors.shape[1]), dtype=np.float32)
    onehot = csr_matrix((np.ones(len(members), dtype=np.float32), (labels[members], members)), shape=(k, len(vectors)))
    return _normalise(np.asarray(onehot @ vectors))


def _merge_close(vectors: np.ndarray, labels: np.ndarray, k: int, threshold: float | None) -> tuple[np.ndarray, int]:
    """Step 4: merge groups whose centroids are close (average linkage, cut at cosine ``threshold``).

    Returns the new labels (groups renumbered by their lowest old number, so the
    result is deterministic) and the new number of groups. ``threshold`` None or
    above 1 turns merging off.
    """
    if threshold is None or threshold > 1 or k < 2:
        return labels, k
    from scipy.cluster.hierarchy import fcluster, linkage

    centroids = _centroids(vectors, labels, k).astype(np.float64)
    # Condensed cosine distances, clipped: rounding may give tiny negatives.
    dist = np.clip(1.0 - centroids @ centroids.T, 0.0, 2.0)
    condensed = dist[np.triu_indices(k, 1)]
    clusters = fcluster(linkage(condensed, method="average"), t=1.0 - threshold, criterion="distance")
    new_of: dict[int, int] = {}
    remap = np.full(k + 1, -1, dtype=np.int64)  # the last slot maps noise (-1)
    for old, c in enumerate(clusters.tolist()):
        remap[old] = new_of.setdefault(c, len(new_of))
    return remap[labels], len(new_of)


def vectors_group(
    vectors: np.ndarray,
    *,
    min_size: int,
    join_threshold: float,
    merge_threshold: float | None = None,
    sample_size: int = 20_000,
    components: int = 48,
    selection: str = "eom",
    random_state: int = 0,
) -> Grouping:
    """Group L2-normalised ``vectors`` (n, dim) into narratives; see the module docstring."""
    from sklearn.cluster import HDBSCAN
    from sklearn.decomposition import PCA

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n = len(vectors)
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    empty = Grouping(np.full(n, -1, dtype=np.int64), np.zeros((0, dim), np.float32), np.zeros(n, np.float32))
    if n < max(min_size, 2):
        return empty

    # 1. A fixed-seed sample, kept in input order.
    rng = np.random.default_rng(random_state)
    if n > sample_size:
        sample = np.sort(rng.choice(n, size=sample_size, replace=False))
    else:
        sample = np.arange(n)
    x = vectors[sample]

    # 2. PCA (back on the unit sphere, so distances stay cosines) then HDBSCAN on the sample.
    reduced = x
    # At most one direction per three sampled posts: fewer points do not pin down more,
    # and on a small week PCA would otherwise keep every dimension.
    n_comp = min(components, dim, max(len(x) // 3, 2))
    if 0 < n_comp < dim:
        reduced = _normalise(PCA(n_components=n_comp, random_state=random_state).fit_transform(x))
    params = dict(
        min_cluster_size=max(min_size, 2),
        min_samples=min(MIN_SAMPLES, max(min_size, 2)),
        cluster_selection_method=selection,
        copy=True,
    )
    sample_labels = HDBSCAN(**params).fit_predict(reduced).astype(np.int64)
    if sample_labels.max() < 0:
        # HDBSCAN never returns its root as a cluster by default: a week with a single
        # story (and little else) would have none. Ask again, allowing one.
        sample_labels = HDBSCAN(allow_single_cluster=True, **params).fit_predict(reduced).astype(np.int64)
    k = int(sample_labels.max()) + 1
    if k == 0:
        return empty

    # 3-5. Seed centroids from the sample's groups; then, twice: every post joins its
    # nearest centroid at or above the threshold, groups under min_size are dropped and
    # centroids recomputed from their members. HDBSCAN only finds the groups: membership
    # is the one rule narratives_for_posts also applies between builds.
    sample_labels, k = _merge_close(x, sample_labels, k, merge_threshold)
    centroids = _centroids(x, sample_labels, k)
    for _ in range(2):
        labels, _sims = nearest_centroid(vectors, centroids, threshold=join_threshold)
        k = len(centroids)
        sizes = np.bincount(labels[labels >= 0], minlength=k)
        first = np.full(k, n, dtype=np.int64)
        np.minimum.at(first, labels[labels >= 0], np.flatnonzero(labels >= 0))
        kept = [g for g in range(k) if sizes[g] >= min_size]
        kept.sort(key=lambda g: (-sizes[g], first[g]))
        remap = np.full(k + 1, -1, dtype=np.int64)  # the last slot maps noise (-1)
        for new, old in enumerate(kept):
            remap[old] = new
        labels = remap[labels]
        centroids = _centroids(vectors, labels, len(kept))
        if not kept:
            return empty
    similarity = np.zeros(n, dtype=np.float32)
    members = labels >= 0
    similarity[members] = np.einsum("ij,ij->i", vectors[members], centroids[labels[members]])
    return Grouping(labels=labels, centroids=centroids, similarity=similarity)


def match_one_to_one(similarity: np.ndarray, *, threshold: float) -> dict[int, int]:
    """Pair rows with columns, best cosine first, each at most once, only at or above ``threshold``.

    Greedy on the sorted pairs (ties by row then column), which is deterministic
    and, for the well-separated centroids of consecutive weeks, what an optimal
    assignment would give.
    """
    if similarity.size == 0:
        return {}
    rows, cols = np.nonzero(similarity >= threshold)
    order = sorted(zip(rows.tolist(), cols.tolist()), key=lambda rc: (-float(similarity[rc]), rc[0], rc[1]))
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for r, c in order:
        if r in pairs or c in used:
            continue
        pairs[r] = c
        used.add(c)
    return pairs
