"""How long does the weekly narrative clustering take on 200,000 posts, and how much memory?

It generates a synthetic week of L2-normalised 384-dimension vectors and runs the
clustering core of ``build_narratives`` (``monitor.narratives.grouping.vectors_group``:
fixed-seed sample, PCA, HDBSCAN, merge of close centroids, nearest centroid for every post) directly on the
array: no database and no embedding model, so the figure is the clustering alone
(reading 200,000 ``Embedding`` rows and writing the members come on top).

The vectors imitate sentence embeddings of a week of posts rather than uniform noise:

1. Every vector shares a common direction (unrelated posts have a cosine of about
   0.1, not 0), and noise has a decaying spectrum (variance of the i-th direction
   ∝ 1/i in a random rotation), so the data has a low effective dimension.
2. ``--topics`` stories (default 300) with log-normal sizes (a few viral ones with
   thousands of posts, many with a few dozen); each is told in 1 to 4 phrasings
   (sub-centres at cosine ~0.85 from the story's centre); a post is its phrasing
   plus noise (the first line printed gives the resulting cosines).
3. ``--noise`` of the posts (default 0.3) belong to no story.

Printed: clustering time, peak memory (tracemalloc, Python and NumPy allocations;
and the process's maximum resident size), and two ratios against baselines
measured in the same run: the same method on ``--baseline`` posts (default
20,000: the sample size, so the ratio shows what the posts beyond the sample
cost) and the time to turn the week's vectors from stored bytes into an array
(what reading them costs at the least). Quality against the generated truth:
adjusted Rand index, the share of story posts assigned and of noise posts left
unassigned.

    .venv/bin/python bench/narratives.py             # 200,000 posts
    .venv/bin/python bench/narratives.py --posts 50000

``--db N`` also writes the first N posts and their vectors to a throwaway test
database and times ``narratives_build`` end to end (reading, clustering, labels,
writing the rows).

Last line: ``RESULT posts=<n> seconds=<s> peak_mib=<m> ratio_vs_baseline=<r> ratio_vs_read=<q>``.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")

DIM = 384


def synthetic_week(n: int, *, topics: int, noise: float, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """(vectors (n, DIM) float32 L2-normalised, truth labels with -1 for posts of no story)."""
    rng = np.random.default_rng(seed)
    rotation, _ = np.linalg.qr(rng.normal(size=(DIM, DIM)))
    scale = 1.0 / np.sqrt(np.arange(1, DIM + 1))

    def spectral(m: int) -> np.ndarray:
        x = (rng.normal(size=(m, DIM)) * scale) @ rotation.T
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    common = spectral(1)[0]
    centres = spectral(topics) + 0.35 * common
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    sizes = rng.lognormal(mean=0.0, sigma=1.2, size=topics)
    n_story = int(n * (1 - noise))
    counts = np.maximum(np.floor(sizes / sizes.sum() * n_story).astype(int), 1)
    counts[0] += n_story - counts.sum()
    truth = np.repeat(np.arange(topics), counts)
    vectors = np.empty((n, DIM), dtype=np.float32)
    start = 0
    for t, c in enumerate(counts):
        phrasings = centres[t] + 0.6 * spectral(int(rng.integers(1, 5)))
        phrasings /= np.linalg.norm(phrasings, axis=1, keepdims=True)
        which = rng.integers(0, len(phrasings), size=c)
        spread = rng.uniform(0.5, 0.9)
        x = phrasings[which] + spread * spectral(c)
        vectors[start : start + c] = x / np.linalg.norm(x, axis=1, keepdims=True)
        start += c
    rest = n - start
    x = spectral(rest) + 0.35 * common
    vectors[start:] = x / np.linalg.norm(x, axis=1, keepdims=True)
    truth = np.concatenate([truth, np.full(rest, -1)])
    order = rng.permutation(n)  # posts arrive mixed, not story by story
    return vectors[order], truth[order]


def timed_group(vectors: np.ndarray, settings) -> tuple[float, object]:
    from monitor.narratives.grouping import vectors_group

    start = time.perf_counter()
    grouping = vectors_group(
        vectors,
        min_size=settings.MONITOR_NARRATIVE_MIN_SIZE,
        join_threshold=settings.MONITOR_NARRATIVE_JOIN_THRESHOLD,
        merge_threshold=settings.MONITOR_NARRATIVE_MERGE_THRESHOLD,
        sample_size=settings.MONITOR_NARRATIVE_SAMPLE,
        random_state=0,
    )
    return time.perf_counter() - start, grouping


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=200_000)
    parser.add_argument("--baseline", type=int, default=20_000, help="posts of the same-method baseline")
    parser.add_argument("--topics", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.3, help="share of posts that belong to no story")
    parser.add_argument("--db", type=int, default=0, metavar="N",
                        help="also time narratives_build end to end on the first N posts in a throwaway test "
                             "database (DATABASE_URL's server, or in-memory SQLite)")
    args = parser.parse_args()
    if args.posts < 2 or not 0 <= args.noise < 1:
        parser.error("--posts must be at least 2 and --noise in [0, 1)")

    import django

    django.setup()
    from django.conf import settings
    from sklearn.metrics import adjusted_rand_score

    print(f"generating {args.posts:,} posts ({args.topics} stories, {args.noise:.0%} noise) ...", flush=True)
    vectors, truth = synthetic_week(args.posts, topics=args.topics, noise=args.noise)
    blob = vectors.astype("<f4").tobytes()

    # Baseline 1: the time to read the week's vectors from their stored bytes.
    start = time.perf_counter()
    read = np.frombuffer(blob, dtype="<f4").reshape(args.posts, DIM).astype(np.float32)
    read_seconds = time.perf_counter() - start
    del read, blob

    # Baseline 2: the same method on fewer posts.
    base_n = min(args.baseline, args.posts)
    base_seconds, _ = timed_group(vectors[:base_n], settings)

    seconds, grouping = timed_group(vectors, settings)
    # A second run, traced (tracemalloc slows it down, so it is not the one timed).
    tracemalloc.start()
    traced_seconds, again = timed_group(vectors, settings)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    deterministic = np.array_equal(again.labels, grouping.labels)

    labels = grouping.labels
    story = truth >= 0
    centre = np.stack([vectors[truth == t].mean(axis=0) for t in range(args.topics) if np.any(truth == t)])
    centre /= np.linalg.norm(centre, axis=1, keepdims=True)
    first = np.flatnonzero(story)[:2000]
    own = [float(vectors[i] @ centre[truth[i]]) for i in first]
    stray = vectors[~story][:2000] @ centre.T
    print(f"geometry: cosine of a story post to its story's mean, 10th-90th percentile "
          f"{np.percentile(own, 10):.2f}-{np.percentile(own, 90):.2f}; of a noise post to the nearest story mean "
          f"{np.percentile(stray.max(axis=1), 10):.2f}-{np.percentile(stray.max(axis=1), 90):.2f}; "
          f"of two noise posts {float(np.mean(vectors[~story][:500] @ vectors[~story][500:1000].T)):.2f} on average")
    ari = adjusted_rand_score(truth, labels)
    print(f"settings: min_size={settings.MONITOR_NARRATIVE_MIN_SIZE} "
          f"join_threshold={settings.MONITOR_NARRATIVE_JOIN_THRESHOLD} "
          f"merge_threshold={settings.MONITOR_NARRATIVE_MERGE_THRESHOLD} sample={settings.MONITOR_NARRATIVE_SAMPLE}")
    print(f"narratives found: {len(grouping.centroids)} (stories generated: {args.topics})")
    print(f"story posts assigned: {np.mean(labels[story] >= 0):.3f}; noise posts left out: {np.mean(labels[~story] < 0):.3f}; "
          f"adjusted Rand index: {ari:.3f}")
    print(f"same result on a second run: {deterministic} (traced run: {traced_seconds:.1f} s)")
    print(f"clustering {args.posts:,} posts: {seconds:.1f} s; {base_n:,} posts: {base_seconds:.1f} s; "
          f"reading the vectors: {read_seconds:.2f} s")
    print(f"peak traced memory: {peak / 2**20:.0f} MiB (the vectors alone: {vectors.nbytes / 2**20:.0f} MiB); "
          f"max resident: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    ratio_base = seconds / base_seconds if base_seconds else float("nan")
    ratio_read = seconds / read_seconds if read_seconds else float("nan")
    print(f"ratio vs {base_n:,} posts: {ratio_base:.2f}; ratio vs reading: {ratio_read:.1f}")
    if args.db:
        build_seconds = whole_build(vectors, args.db)
        print(f"narratives_build with the database ({args.db:,} posts, throwaway test database): "
              f"{build_seconds:.1f} s")
    print(f"RESULT posts={args.posts} seconds={seconds:.2f} peak_mib={peak / 2**20:.0f} "
          f"ratio_vs_baseline={ratio_base:.2f} ratio_vs_read={ratio_read:.1f}")
    return 0


def whole_build(vectors: np.ndarray, n: int) -> float:
    """Time ``narratives_build`` end to end on ``n`` posts written to a throwaway test database."""
    from datetime import UTC, datetime, timedelta

    from django.db import connection
    from django.test.utils import setup_test_environment

    from monitor.embeddings import get_embedder, vector_to_bytes
    from monitor.models import Embedding, Post
    from monitor.narratives.services import narratives_build

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        monday = datetime(2026, 11, 16, tzinfo=UTC)
        model_id = get_embedder().model_id
        words = ["peuls", "carburant", "vaccin", "marché", "attaque", "pluie", "école", "prix", "armée", "route"]
        for start in range(0, n, 5000):
            stop = min(start + 5000, n)
            posts = Post.objects.bulk_create(
                Post(platform="bench", external_id=str(i), author_pseudonym="bench",
                     text=f"{words[i % 10]} {words[(i * 7) % 10]} message {i}",
                     created_at=monday + timedelta(seconds=i * 604800 // n))
                for i in range(start, stop)
            )
            Embedding.objects.bulk_create(
                Embedding(post_id=p.pk, model_id=model_id, dim=DIM, vector=vector_to_bytes(vectors[i]))
                for p, i in zip(posts, range(start, stop))
            )
        begin = time.perf_counter()
        result = narratives_build(week="2026-W47")
        seconds = time.perf_counter() - begin
        print(f"  {result}")
        return seconds
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    raise SystemExit(main())
