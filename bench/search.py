"""How fast and how exact is Vigie's vector search at 100,000 and 1,000,000 posts?

For each corpus size this benchmark builds every index type side by side, in
the same run, and prints build time, memory, single-query latency (median and
95th percentile) and recall@10 against exact search:

``exact``
    What Vigie uses up to ``MONITOR_INDEX_EXACT_MAX`` vectors: ``VectorIndex``
    over ``IndexIDMap2(IndexFlatIP)``, built with ``index_build(kind="flat")``.
``ivf-sq8``
    What Vigie uses above the threshold: ``index_build(kind="ivf")``, exactly
    the code ``rebuild_index`` runs (nlist = 4·√n, k-means on a sample of 40
    vectors per list, 8-bit scalar quantisation, nprobe tuned on sample vectors
    to reach ``MONITOR_INDEX_TARGET_RECALL``, default 0.95).
``ivf-flat``
    The same lists and the same nprobe, with float32 vectors (4× the memory).
``hnsw``
    ``IndexHNSWFlat`` (M=32, efConstruction=40, efSearch=``--ef``). Only up to
    ``--hnsw-max`` vectors (default 200,000): at 1,000,000 its build alone takes
    3.5 minutes on 2 cores (``--hnsw-max 1000000`` to measure it anyway).

The vectors (384 dimensions, L2-normalised) imitate sentence embeddings of
social-media posts rather than uniform noise:

1. Noise has a decaying spectrum (variance of the i-th direction ∝ 1/i, in a
   random rotation), so the data has a low effective dimension, as real
   embeddings do; every vector also shares a common direction, so unrelated
   posts have a cosine of about 0.07 rather than 0.
2. 200 topics; n/40 narratives (clusters) around them, with log-normal sizes
   (a few viral narratives with thousands of posts, many with a handful).
3. A post is its narrative's centre plus noise of the narrative's spread: three
   quarters are tight (rewordings, reposts; cosine to the centre 0.67 to 0.96),
   one quarter loose topics (cosine 0.45 to 0.65).
4. Queries are fresh posts drawn the same way (never vectors of the index).

Latency is measured one query at a time through ``VectorIndex.search`` (what a
Vigie search request calls, including its small Python overhead), with
``--query-threads`` OpenMP threads (default 1: a web process answers one
request per thread, and exact search with one query is faster on one thread
than on two). The queries are timed in ``--rounds`` rounds (default 5): each
round runs a slice of them on every index in turn, so a change of load on a
shared machine hits every index alike. Building and the exact ground truth use
``--threads`` (default: every core). Memory is the serialised index size and the growth of the
process's resident memory while building.

Run it from the repository root::

    .venv/bin/python bench/search.py                      # 100,000 and 1,000,000
    .venv/bin/python bench/search.py --sizes 20000,100000 # quicker

The last line is machine-readable, for the largest size and Vigie's
approximate index type::

    RESULT recall@10=0.957 p95_speedup=55.1
"""
from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Python puts bench/ first on the path, where a script could shadow the standard library (a bench/queue.py once did).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")

import django

django.setup()
logging.getLogger("faiss.loader").setLevel(logging.WARNING)

import faiss
from django.conf import settings

from monitor.index import KIND_FLAT, KIND_IVF, VectorIndex, index_build

DIM = 384
K = 10
TYPES = ("exact", "ivf-sq8", "ivf-flat", "hnsw")
VIGIE_TYPE = "ivf-sq8"
SWEEP = (8, 16, 32, 48, 64, 96, 128)


# --- data -------------------------------------------------------------------


def make_corpus(n: int, n_queries: int, *, dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """``n`` clustered, normalised post vectors and ``n_queries`` fresh queries from the same distribution."""
    rng = np.random.default_rng(seed)
    rotation = np.linalg.qr(rng.standard_normal((dim, dim)))[0].astype(np.float32)
    scale = (np.arange(1, dim + 1) ** -0.5).astype(np.float32)
    scale /= np.linalg.norm(scale)

    def noise(m: int) -> np.ndarray:
        return (rng.standard_normal((m, dim), dtype=np.float32) * scale) @ rotation.T

    def unit(x: np.ndarray) -> np.ndarray:
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        return x

    common = unit(noise(1))[0]
    topics = unit(0.5 * common + noise(200))
    n_clusters = max(1, n // 40)
    weights = rng.lognormal(0.0, 1.3, n_clusters)
    weights /= weights.sum()
    centres = unit(topics[rng.integers(0, len(topics), n_clusters)] + 0.8 * noise(n_clusters))
    loose = rng.random(n_clusters) < 0.25
    spread = np.where(loose, rng.uniform(1.2, 2.0, n_clusters), rng.uniform(0.3, 1.1, n_clusters)).astype(np.float32)

    def sample(m: int) -> np.ndarray:
        cluster = rng.choice(n_clusters, size=m, p=weights)
        out = np.empty((m, dim), dtype=np.float32)
        for start in range(0, m, 100_000):
            c = cluster[start : start + 100_000]
            out[start : start + len(c)] = unit(centres[c] + spread[c, None] * noise(len(c)))
        return out

    return sample(n), sample(n_queries), n_clusters


# --- measuring ----------------------------------------------------------------


def _trim() -> None:
    """Free what Python and FAISS released back to the system, so RSS growth is the index's own."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def rss_bytes() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class _Counter:
    """A file-like sink that only counts bytes: the serialised size without a copy in memory."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)


def serialised_size(index) -> int:
    counter = _Counter()
    if isinstance(index, VectorIndex):
        index.write(counter)
    else:
        writer = faiss.PyCallbackIOWriter(counter.write)
        faiss.write_index(index, writer)
        del writer
    return counter.size


class _HnswSearch:
    """``VectorIndex.search`` for a raw HNSW index (same fetch-and-sort, so latencies compare)."""

    def __init__(self, index: faiss.Index, ef: int) -> None:
        self.index = index
        self.params = faiss.SearchParametersHNSW(efSearch=ef)

    def search(self, *, vectors: np.ndarray, k: int):
        scores, ids = self.index.search(vectors, k + 8, params=self.params)
        out = []
        for row_scores, row_ids in zip(scores, ids):
            pairs = sorted(((round(float(s), 5), int(i)) for s, i in zip(row_scores, row_ids) if i != -1), key=lambda p: (-p[0], p[1]))
            out.append(pairs[:k])
        return out


def latencies_ms(searcher, queries: np.ndarray, threads: int) -> np.ndarray:
    faiss.omp_set_num_threads(threads)
    for q in queries[:3]:  # warm the caches: each round starts after another index ran
        searcher.search(vectors=q[None, :], k=K)
    times = np.empty(len(queries))
    for i, q in enumerate(queries):
        started = time.perf_counter()
        searcher.search(vectors=q[None, :], k=K)
        times[i] = time.perf_counter() - started
    return times * 1000


def recall_at_k(searcher, queries: np.ndarray, truth: np.ndarray, threads: int) -> float:
    faiss.omp_set_num_threads(threads)
    found = searcher.search(vectors=queries, k=K)
    hits = 0
    for row, expected in zip(found, truth.tolist()):
        ids = {n.post_id if hasattr(n, "post_id") else n[1] for n in row}
        hits += len(ids & set(expected))
    return hits / (K * len(queries))


# --- building -----------------------------------------------------------------


def build(kind: str, ids: np.ndarray, xb: np.ndarray, *, nlist: int, nprobe: int, ef: int, threads: int):
    """Build one index type; return (searcher, seconds, rss growth in bytes, description)."""
    faiss.omp_set_num_threads(threads)
    _trim()
    before = rss_bytes()
    started = time.perf_counter()
    if kind == "exact":
        index = index_build(model_id="bench", dim=DIM, ids=ids, vectors=xb, kind=KIND_FLAT)
        description = "IDMap2,Flat"
    elif kind == "ivf-sq8":
        index = index_build(model_id="bench", dim=DIM, ids=ids, vectors=xb, kind=KIND_IVF)
        p = index.params
        description = f"IVF{p['nlist']},SQ8 nprobe={p['nprobe']} (tuned: recall {p['recall']:.3f} on {p['tune_queries']} corpus vectors)"
    elif kind == "ivf-flat":
        raw = faiss.index_factory(DIM, f"IVF{nlist},Flat", faiss.METRIC_INNER_PRODUCT)
        sample = xb[np.sort(np.random.default_rng(0).choice(len(xb), size=min(len(xb), 40 * nlist), replace=False))]
        faiss.extract_index_ivf(raw).cp.max_points_per_centroid = len(sample) // nlist + 1
        raw.train(sample)
        del sample
        raw.add_with_ids(xb, ids)
        index = VectorIndex(model_id="bench", dim=DIM, index=raw, params={"nlist": nlist, "nprobe": nprobe})
        description = f"IVF{nlist},Flat nprobe={nprobe}"
    elif kind == "hnsw":
        raw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
        raw.hnsw.efConstruction = 40
        raw.add(xb)  # ids = row numbers = post ids - 1, mapped back below
        index = raw
        description = f"HNSW32,Flat efConstruction=40 efSearch={ef}"
    else:
        raise ValueError(kind)
    seconds = time.perf_counter() - started
    _trim()
    grown = rss_bytes() - before
    if kind == "hnsw":
        return _OffsetIds(_HnswSearch(index, ef), offset=1), index, seconds, grown, description
    return index, index, seconds, grown, description


class _OffsetIds:
    """HNSW has no ids of its own: its row numbers are post ids minus one."""

    def __init__(self, searcher: _HnswSearch, offset: int) -> None:
        self.searcher = searcher
        self.offset = offset

    def search(self, *, vectors: np.ndarray, k: int):
        return [[(s, i + self.offset) for s, i in row] for row in self.searcher.search(vectors=vectors, k=k)]


# --- the run ------------------------------------------------------------------


def run_size(n: int, args) -> tuple[float, float]:
    """Build every type for ``n`` vectors, then measure them; return Vigie's (recall, p95 speedup).

    1. Build each type in turn (build time, serialised size, RSS growth), all kept in memory.
    2. Recall@10 of each against the exact index's results (all queries at once).
    3. Latency in rounds: each round times a slice of the queries on every type in
       turn, so a change of load on a shared machine hits every type alike, while
       each type still runs its queries back to back (as a web process would).
    """
    started = time.perf_counter()
    xb, xq, n_clusters = make_corpus(n, args.queries, seed=args.seed)
    ids = np.arange(1, n + 1, dtype=np.int64)
    print(
        f"\n== {n} vectors, {DIM}-d, {n_clusters} narratives: generated in {time.perf_counter() - started:.1f}s; "
        f"{args.queries} queries in {args.rounds} rounds; build threads {args.threads}, "
        f"query threads {args.query_threads}; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )

    built: dict[str, dict] = {}
    nlist = nprobe = 0
    for kind in args.types:
        if kind == "hnsw" and n > args.hnsw_max:
            print(f"{kind:<10} skipped: {n} > --hnsw-max {args.hnsw_max} (its build takes minutes on 2 cores)", flush=True)
            continue
        if kind == "ivf-flat" and not nlist:
            print(f"{kind:<10} skipped: it takes the lists and nprobe of ivf-sq8", flush=True)
            continue
        searcher, raw, seconds, grown, description = build(
            kind, ids, xb, nlist=nlist, nprobe=nprobe, ef=args.ef, threads=args.threads
        )
        built[kind] = {"searcher": searcher, "raw": raw, "build_s": seconds, "rss": grown, "description": description}
        built[kind]["size"] = serialised_size(raw)
        if kind == VIGIE_TYPE:
            nlist, nprobe = int(raw.params["nlist"]), int(raw.params["nprobe"])
            p = raw.params
            print(
                f"{kind:<10} built in {seconds:.1f}s: sample {p['sample_s']}s, k-means {p['train_s']}s, "
                f"add {p['add_s']}s, nprobe tuning {p['tune_s']}s",
                flush=True,
            )
    del xb
    gc.collect()

    # Ground truth: Vigie's exact search (ties at the 10th place ordered by post id, as users see them).
    faiss.omp_set_num_threads(args.threads)
    truth = np.array([[n.post_id for n in row] for row in built["exact"]["searcher"].search(vectors=xq, k=K)])
    timed = {kind: entry["searcher"] for kind, entry in built.items()}
    sweep = []
    if VIGIE_TYPE in built and args.sweep:
        sweep = [v for v in SWEEP if v <= nlist and v != nprobe]
        for value in sweep:
            timed[f"nprobe={value}"] = _WithNprobe(built[VIGIE_TYPE]["raw"], value)
    recalls = {name: recall_at_k(searcher, xq, truth, args.threads) for name, searcher in timed.items()}
    times = {name: [] for name in timed}
    for chunk in np.array_split(np.arange(len(xq)), args.rounds):
        for name, searcher in timed.items():
            times[name].append(latencies_ms(searcher, xq[chunk], args.query_threads))
    p50 = {name: float(np.median(np.concatenate(t))) for name, t in times.items()}
    p95 = {name: float(np.percentile(np.concatenate(t), 95)) for name, t in times.items()}

    print(
        f"{'type':<10} {'build_s':>8} {'index_MB':>9} {'rss_MB':>8} {'p50_ms':>8} {'p95_ms':>8} "
        f"{'recall@10':>9} {'p95_x':>7}  parameters",
        flush=True,
    )
    for kind, entry in built.items():
        print(
            f"{kind + (' *' if kind == VIGIE_TYPE else ''):<10} {entry['build_s']:>8.1f} {entry['size'] / 2**20:>9.1f} "
            f"{entry['rss'] / 2**20:>8.1f} {p50[kind]:>8.3f} {p95[kind]:>8.3f} {recalls[kind]:>9.3f} "
            f"{p95['exact'] / p95[kind]:>7.1f}  {entry['description']}",
            flush=True,
        )
    if sweep:
        print(f"{VIGIE_TYPE} at other nprobe values (same index, same rounds):", flush=True)
        for value in sorted(sweep + [nprobe]):
            name = f"nprobe={value}" if value != nprobe else VIGIE_TYPE
            print(
                f"  nprobe {value:>4}{' (tuned)' if value == nprobe else '        '} {p50[name]:>8.3f} {p95[name]:>8.3f} "
                f"{recalls[name]:>9.3f} {p95['exact'] / p95[name]:>7.1f}",
                flush=True,
            )
    print(f"size {n} done in {time.perf_counter() - started:.0f}s; load average {os.getloadavg()[0]:.2f}", flush=True)
    if VIGIE_TYPE not in built:
        return float("nan"), float("nan")
    return recalls[VIGIE_TYPE], p95["exact"] / p95[VIGIE_TYPE]


class _WithNprobe:
    """Vigie's index searched with ``MONITOR_INDEX_NPROBE`` set to another value."""

    def __init__(self, index: VectorIndex, nprobe: int) -> None:
        self.index = index
        self.nprobe = nprobe

    def search(self, *, vectors: np.ndarray, k: int):
        previous = getattr(settings, "MONITOR_INDEX_NPROBE", None)
        settings.MONITOR_INDEX_NPROBE = self.nprobe
        try:
            return self.index.search(vectors=vectors, k=k)
        finally:
            settings.MONITOR_INDEX_NPROBE = previous


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated corpus sizes (default: %(default)s)")
    parser.add_argument("--queries", type=int, default=500, help="queries per size (default: %(default)s)")
    parser.add_argument("--types", default=",".join(TYPES), help="index types to build (default: %(default)s)")
    parser.add_argument("--hnsw-max", type=int, default=200_000, help="largest size to build HNSW for (default: %(default)s)")
    parser.add_argument("--ef", type=int, default=128, help="HNSW efSearch (default: %(default)s)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="OpenMP threads to build (default: all cores)")
    parser.add_argument("--query-threads", type=int, default=1, help="OpenMP threads for queries (default: %(default)s)")
    parser.add_argument("--target-recall", type=float, default=None, help="MONITOR_INDEX_TARGET_RECALL for the tuning")
    parser.add_argument("--rounds", type=int, default=5, help="latency rounds over the queries (default: %(default)s)")
    parser.add_argument("--no-sweep", dest="sweep", action="store_false", help="skip the nprobe sweep")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.types = [t.strip() for t in args.types.split(",") if t.strip()]
    if unknown := set(args.types) - set(TYPES):
        parser.error(f"unknown types: {', '.join(sorted(unknown))}")
    if "exact" not in args.types:
        parser.error("exact is needed: it is the ground truth and the baseline")
    args.types = [t for t in TYPES if t in args.types]  # exact first, ivf-sq8 before ivf-flat
    if args.target_recall is not None:
        settings.MONITOR_INDEX_TARGET_RECALL = args.target_recall
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    print(
        f"faiss {faiss.__version__} ({faiss.get_compile_options().strip()}), numpy {np.__version__}, "
        f"{os.cpu_count()} cores; target recall {getattr(settings, 'MONITOR_INDEX_TARGET_RECALL', 0.95)}; "
        f"load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    result = (float("nan"), float("nan"))
    for n in sizes:
        result = run_size(n, args)
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    print(f"RESULT recall@10={result[0]:.3f} p95_speedup={result[1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
