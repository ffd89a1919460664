"""The persisted FAISS index of post embeddings: derived state, rebuildable from the database.

- One file, ``posts.faiss`` under ``MONITOR_INDEX_DIR``: a line ``VIGIE-FAISS 1``,
  a line of JSON metadata (model id, dimension, count, index kind and its
  parameters), then the serialised FAISS index. Saved atomically: written to a
  temporary file, fsynced, then renamed. The FAISS part is streamed to and from
  the file, so saving or loading never holds a second copy of the index in memory.
- One writer at a time: writers hold an exclusive ``flock`` on ``posts.lock``
  while they load, change and save. In production only the ``index`` queue's
  single worker writes; the lock also keeps the embedded mode and management
  commands safe.
- Readers (web processes, search) load the saved file and reload it when its
  modification time changes, so they pick up a newer index without a restart.
- Ids in the index are post ids; vectors are L2-normalised, so the inner
  product is the cosine similarity.

Index kinds (the ``kind`` in the metadata):

``flat``
    Exact search: ``IndexIDMap2`` over ``IndexFlatIP``. Every query is compared
    with every vector, so results are exact and reproducible (a rebuild gives
    the same results as the incremental index), and the cost of a query grows
    linearly with the corpus: about 8 ms at 100,000 vectors and 110 ms at
    1,000,000 on one core (384 dimensions).
``ivf``
    Approximate search: ``IndexIVFScalarQuantizer`` (factory string
    ``IVF<nlist>,SQ8``, inner product). k-means splits the space into
    ``nlist ≈ 4·√n`` lists (trained on a random sample of 40 vectors per list),
    each vector is stored in its nearest list as 8-bit codes (a quarter of the
    memory of float32), and a query scans only the ``nprobe`` nearest lists.
    ``nprobe`` is tuned when the index is built: the smallest value whose
    recall@10 against exact search, measured on 1,000 sampled vectors of the
    corpus, reaches ``MONITOR_INDEX_TARGET_RECALL`` (default 0.95) with a
    margin of two standard errors. ``MONITOR_INDEX_NPROBE`` overrides it at
    search time. Scores are inner products with the decoded vectors: on
    average 0.0003 from the exact cosine, at most 0.003.

    Why this one (``bench/search.py`` on 2 cores, 384-d clustered vectors,
    one query at a time): at 1,000,000 vectors it reaches recall@10 0.957 at
    nprobe 48, with a p95 latency of 2.0 ms against 110 to 117 ms for exact
    search (55 times lower), in a 380 MB index (exact: 1.47 GB), built in 35
    to 45 s. IVF-Flat with the same lists and nprobe reaches 0.970 at 3.2 ms
    in 1.48 GB; every web process holds the index in memory, so the quarter
    size wins. HNSW (M=32, efSearch 256) reaches 0.977 at 2.1 ms, but takes
    3.5 minutes to build, 1.72 GB, and cannot delete vectors.

Which kind: ``index_plan``. ``rebuild_index`` (and any rebuild from the
database) makes an exact index up to ``MONITOR_INDEX_EXACT_MAX`` vectors
(default 50,000) and an IVF index beyond. Incremental adds go into whichever
index is saved: an exact index that grows past the threshold keeps working,
only slower, and an IVF index keeps its trained lists, until the next
``rebuild_index`` (``index_advice`` says when one is due; it is logged when
the index is saved and printed by ``rebuild_index --check``).

Deletions: ``VectorIndex.remove`` works for both kinds (both support
``remove_ids``); ``monitor.search.posts_remove_from_index`` is the operation
for callers.
"""
from __future__ import annotations

import contextlib
import fcntl
import io
import json
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import faiss
import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)

MAGIC = b"VIGIE-FAISS 1\n"
INDEX_FILE = "posts.faiss"
LOCK_FILE = "posts.lock"

KIND_FLAT = "flat"
KIND_IVF = "ivf"
KINDS = (KIND_FLAT, KIND_IVF)

DEFAULT_EXACT_MAX = 50_000
DEFAULT_TARGET_RECALL = 0.95
IVF_ENCODING = "SQ8"
# faiss warns below 39 training vectors per list; more makes training slower for little gain.
TRAIN_PER_LIST = 40
TUNE_QUERIES = 1000
TUNE_K = 10
NPROBE_STEPS = (4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
# An IVF index trained on n vectors is retrained once it holds this many times more.
IVF_GROWTH_LIMIT = 4


class IndexMismatch(RuntimeError):
    """The saved index was built with another model or dimension: rebuild it."""


@dataclass(frozen=True)
class Neighbour:
    post_id: int
    score: float


@dataclass(frozen=True)
class IndexPlan:
    """Which index a rebuild makes for ``count`` vectors, and why."""

    kind: str
    count: int
    nlist: int = 0
    reason: str = ""


def index_exact_max() -> int:
    """The largest corpus that a rebuild indexes exactly (``MONITOR_INDEX_EXACT_MAX``)."""
    return int(getattr(settings, "MONITOR_INDEX_EXACT_MAX", DEFAULT_EXACT_MAX))


def ivf_nlist(count: int) -> int:
    """Number of IVF lists for ``count`` vectors: about 4·√n, with enough vectors per list to train."""
    return max(1, min(round(4 * math.sqrt(count)), count // TRAIN_PER_LIST))


def index_plan(*, count: int, kind: str | None = None) -> IndexPlan:
    """Choose the index kind for ``count`` vectors (``kind`` forces one: ``flat`` or ``ivf``)."""
    exact_max = index_exact_max()
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown index kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == KIND_FLAT or (kind is None and count <= exact_max):
        why = "forced" if kind else f"{count} vectors <= MONITOR_INDEX_EXACT_MAX ({exact_max})"
        return IndexPlan(kind=KIND_FLAT, count=count, reason=f"{why}: exact search (Flat, inner product)")
    if count < TRAIN_PER_LIST:
        return IndexPlan(
            kind=KIND_FLAT, count=count, reason=f"{count} vectors are too few to train IVF lists: exact search (Flat)"
        )
    nlist = ivf_nlist(count)
    why = "forced" if kind else f"{count} vectors > MONITOR_INDEX_EXACT_MAX ({exact_max})"
    return IndexPlan(
        kind=KIND_IVF,
        count=count,
        nlist=nlist,
        reason=(
            f"{why}: approximate search, IVF{nlist},{IVF_ENCODING} "
            f"(nlist = 4*sqrt(n), trained on {min(count, nlist * TRAIN_PER_LIST)} sampled vectors)"
        ),
    )


class VectorIndex:
    """A FAISS inner-product index keyed by post id: exact (``flat``) or approximate (``ivf``).

    ``VectorIndex(model_id=..., dim=...)`` is an empty exact index; ``index_build``
    and ``index_build_from_database`` make the kind that suits the corpus size.
    """

    def __init__(
        self, *, model_id: str, dim: int, index: faiss.Index | None = None, params: dict | None = None
    ) -> None:
        self.model_id = model_id
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ivf = faiss.try_extract_index_ivf(self.index)
        self.kind = KIND_IVF if self._ivf is not None else KIND_FLAT
        # Build-time facts (nlist, tuned nprobe, measured recall, ...), kept in the file header.
        self.params: dict = dict(params or {})
        if self._ivf is not None:
            self.params.setdefault("nlist", int(self._ivf.nlist))
            self.params.setdefault("nprobe", int(self._ivf.nprobe))
            self._ivf.nprobe = int(self.params["nprobe"])  # also for callers of the raw FAISS index
        # Sorted post ids, built on first use: readers that only search never need it.
        self._id_array: np.ndarray | None = None if index is not None else np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __contains__(self, post_id: int) -> bool:
        ids = self._ids()
        pos = int(np.searchsorted(ids, int(post_id)))
        return pos < len(ids) and int(ids[pos]) == int(post_id)

    def _ids(self) -> np.ndarray:
        if self._id_array is None:
            if self._ivf is not None:
                lists = self._ivf.invlists
                parts = [
                    faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
                    for i in range(self._ivf.nlist)
                    if lists.list_size(i)
                ]
                ids = np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)
            else:
                ids = faiss.vector_to_array(self.index.id_map)
            self._id_array = np.sort(ids.astype(np.int64))
        return self._id_array

    @property
    def nprobe(self) -> int | None:
        """Lists scanned per query (IVF only): ``MONITOR_INDEX_NPROBE`` if set, else the tuned value."""
        if self._ivf is None:
            return None
        override = getattr(settings, "MONITOR_INDEX_NPROBE", None)
        value = int(override) if override else int(self.params.get("nprobe") or 1)
        return max(1, min(value, int(self._ivf.nlist)))

    def describe(self) -> str:
        """One line for people: kind, size and search parameters."""
        if self.kind == KIND_FLAT:
            return f"exact (Flat, inner product), {len(self)} vectors"
        text = f"approximate (IVF{self.params['nlist']},{IVF_ENCODING}), {len(self)} vectors, nprobe={self.nprobe}"
        if self.params.get("recall") is not None:
            text += f" (tuned: recall@{TUNE_K}={self.params['recall']:.3f} at nprobe={self.params['nprobe']})"
        return text

    def add(self, *, ids: list[int], vectors: np.ndarray) -> int:
        """Add vectors for ids not already present; return how many were added."""
        if len(ids) == 0:
            return 0
        ids_array = np.asarray(ids, dtype=np.int64)
        # The first occurrence of each id that the index does not hold yet, in the given order.
        _, first = np.unique(ids_array, return_index=True)
        rows = np.sort(first)
        rows = rows[~np.isin(ids_array[rows], self._ids())]
        if len(rows) == 0:
            return 0
        new_ids = ids_array[rows]
        self.index.add_with_ids(np.ascontiguousarray(np.asarray(vectors)[rows], dtype=np.float32), new_ids)
        self._id_array = np.union1d(self._ids(), new_ids)
        return len(rows)

    def remove(self, *, ids: list[int]) -> int:
        """Remove ids (a post deleted from Vigie disappears from search); return how many were removed."""
        wanted = np.unique(np.asarray(list(ids), dtype=np.int64))
        present = wanted[np.isin(wanted, self._ids())]
        if len(present) == 0:
            return 0
        removed = int(self.index.remove_ids(present))
        self._id_array = np.setdiff1d(self._ids(), present, assume_unique=True)
        return removed

    def search(self, *, vectors: np.ndarray, k: int) -> list[list[Neighbour]]:
        """The k nearest posts for each query vector, best first; ties broken by post id."""
        if len(self) == 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        # Ask for a few extra so ties at the k-th place are ordered by id, not by insertion.
        fetch = min(len(self), k + 8)
        queries = np.ascontiguousarray(vectors, dtype=np.float32)
        if self._ivf is not None:
            scores, ids = self.index.search(queries, fetch, params=faiss.SearchParametersIVF(nprobe=self.nprobe))
        else:
            scores, ids = self.index.search(queries, fetch)
        results = []
        for row_scores, row_ids in zip(scores, ids):
            pairs = [(round(float(s), 5), int(i)) for s, i in zip(row_scores, row_ids) if i != -1]
            pairs.sort(key=lambda p: (-p[0], p[1]))
            results.append([Neighbour(post_id=i, score=s) for s, i in pairs[:k]])
        return results

    # --- persistence ------------------------------------------------------

    def metadata(self) -> dict:
        """The header saved with the index."""
        meta = {"model_id": self.model_id, "dim": self.dim, "count": len(self), "kind": self.kind}
        meta["faiss"] = f"IVF{self.params['nlist']},{IVF_ENCODING},IP" if self.kind == KIND_IVF else "IDMap2,Flat,IP"
        meta["params"] = self.params
        return meta

    def write(self, handle: BinaryIO) -> None:
        """Write header and index to an open binary file, streaming the FAISS part."""
        handle.write(MAGIC)
        handle.write(json.dumps(self.metadata()).encode("utf-8") + b"\n")
        writer = faiss.PyCallbackIOWriter(handle.write)
        faiss.write_index(self.index, writer)
        del writer  # flushes its buffer into ``handle``

    @classmethod
    def read(cls, handle: BinaryIO) -> VectorIndex:
        """Read what ``write`` wrote."""
        if handle.read(len(MAGIC)) != MAGIC:
            raise IndexMismatch("not a Vigie index file")
        meta = json.loads(handle.readline())
        reader = faiss.PyCallbackIOReader(handle.read)
        index = faiss.read_index(reader)
        del reader
        return cls(model_id=meta["model_id"], dim=int(meta["dim"]), index=index, params=meta.get("params"))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> VectorIndex:
        return cls.read(io.BytesIO(data))


def index_advice(index: VectorIndex) -> str | None:
    """Why the index should be rebuilt now, or None when it suits its size."""
    advice = _advice(index)
    return advice[1] if advice else None


def _advice(index: VectorIndex) -> tuple[str, str] | None:
    exact_max = index_exact_max()
    count = len(index)
    if index.kind == KIND_FLAT and count > exact_max:
        return "outgrown", (
            f"the exact index holds {count} vectors, more than MONITOR_INDEX_EXACT_MAX ({exact_max}): "
            "every search scans all of them; run `manage.py rebuild_index` to switch to an IVF index"
        )
    if index.kind == KIND_IVF:
        trained_for = int(index.params.get("trained_for") or 0)
        if trained_for and count > IVF_GROWTH_LIMIT * trained_for:
            return "grown", (
                f"the IVF index was built for {trained_for} vectors and now holds {count}: "
                "run `manage.py rebuild_index` to retrain it (more lists, nprobe re-tuned)"
            )
        if count <= exact_max // 2:
            return "shrunk", (
                f"the IVF index holds {count} vectors, well under MONITOR_INDEX_EXACT_MAX ({exact_max}): "
                "run `manage.py rebuild_index` to switch back to exact search"
            )
    return None


# --- building ---------------------------------------------------------------


@dataclass
class _Source:
    """Where a build reads vectors: ``count`` of them, in batches in post-id order, and a sample."""

    count: int
    batches: Callable[[], Iterator[tuple[np.ndarray, np.ndarray]]]
    sample: Callable[[int], tuple[np.ndarray, np.ndarray]]
    timings: dict = field(default_factory=dict)


def _array_source(ids: np.ndarray, vectors: np.ndarray, *, batch_size: int = 50_000, seed: int = 0) -> _Source:
    order = np.argsort(ids, kind="stable")

    def batches():
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            yield ids[rows], vectors[rows]

    def sample(size: int):
        rows = np.sort(np.random.default_rng(seed).choice(len(ids), size=min(size, len(ids)), replace=False))
        return ids[rows], vectors[rows]

    return _Source(count=len(ids), batches=batches, sample=sample)


def _train_ivf(*, dim: int, nlist: int, training: np.ndarray) -> faiss.Index:
    index = faiss.index_factory(dim, f"IVF{nlist},{IVF_ENCODING}", faiss.METRIC_INNER_PRODUCT)
    # The caller already sampled TRAIN_PER_LIST vectors per list; don't let faiss subsample again.
    faiss.extract_index_ivf(index).cp.max_points_per_centroid = max(TRAIN_PER_LIST, len(training) // nlist + 1)
    index.train(np.ascontiguousarray(training, dtype=np.float32))
    return index


def _tune_nprobe(index: VectorIndex, *, queries: np.ndarray, query_ids: np.ndarray, truth: np.ndarray) -> tuple[int, float]:
    """The smallest nprobe whose recall@10 reaches the target, and the recall measured there.

    ``truth`` holds each query's exact TUNE_K + 1 nearest ids; the query itself is
    left out of both sides (it is in the index, and finding it is no test). The
    target must be reached with a margin of two standard errors of the mean
    over the queries, so that the recall of other queries is at least the
    target too, with about 97.5 % confidence.
    """
    target = float(getattr(settings, "MONITOR_INDEX_TARGET_RECALL", DEFAULT_TARGET_RECALL))
    expected = [set([i for i in row if i != qid][:TUNE_K]) for row, qid in zip(truth.tolist(), query_ids.tolist())]
    nlist = int(index.params["nlist"])
    steps = [n for n in NPROBE_STEPS if n < nlist] + [nlist]
    recall = 1.0
    for nprobe in steps:
        _, found = index.index.search(queries, TUNE_K + 1, params=faiss.SearchParametersIVF(nprobe=nprobe))
        per_query = np.array(
            [
                len(exp & set([i for i in row if i != qid][:TUNE_K])) / max(1, len(exp))
                for exp, row, qid in zip(expected, found.tolist(), query_ids.tolist())
            ]
        )
        recall = float(per_query.mean())
        margin = 2 * float(per_query.std(ddof=1)) / math.sqrt(len(per_query)) if len(per_query) > 1 else 0.0
        if recall - margin >= target:
            return nprobe, recall
    return steps[-1], recall


def _build(*, model_id: str, dim: int, source: _Source, kind: str | None = None) -> VectorIndex:
    """Build the index that ``index_plan`` chooses for the source's size. Steps:

    1. Exact: add every batch, in post-id order (so a rebuild reproduces the
       incremental index's results exactly).
    2. IVF: train k-means on a sample, then add every batch while keeping the
       exact top-k of a few sampled vectors (a running merge over the batches),
       and finally tune nprobe against those exact neighbours.
    """
    plan = index_plan(count=source.count, kind=kind)
    if plan.kind == KIND_FLAT:
        index = VectorIndex(model_id=model_id, dim=dim)
        started = time.perf_counter()
        for ids, vectors in source.batches():
            index.add(ids=ids.tolist(), vectors=vectors)
        index.params = {"reason": plan.reason, "add_s": round(time.perf_counter() - started, 2)}
        return index

    started = time.perf_counter()
    sample_ids, sample = source.sample(plan.nlist * TRAIN_PER_LIST)
    sampled_s = time.perf_counter() - started
    started = time.perf_counter()
    trained = _train_ivf(dim=dim, nlist=plan.nlist, training=sample)
    train_s = time.perf_counter() - started

    # The sample is random, so its first rows are a random set of tuning queries.
    tune_ids = sample_ids[:TUNE_QUERIES].copy()
    queries = np.ascontiguousarray(sample[:TUNE_QUERIES], dtype=np.float32)
    del sample
    heap = faiss.ResultHeap(len(queries), TUNE_K + 1, keep_max=True)
    index = VectorIndex(
        model_id=model_id,
        dim=dim,
        index=trained,
        params={"nlist": plan.nlist, "nprobe": 1, "trained_for": plan.count, "reason": plan.reason},
    )
    index._id_array = np.empty(0, dtype=np.int64)
    started = time.perf_counter()
    for ids, vectors in source.batches():
        index.add(ids=ids.tolist(), vectors=vectors)
        batch = np.ascontiguousarray(vectors, dtype=np.float32)
        scores, rows = faiss.knn(queries, batch, TUNE_K + 1, metric=faiss.METRIC_INNER_PRODUCT)
        heap.add_result(scores, np.where(rows >= 0, ids[np.maximum(rows, 0)], -1))
    add_s = time.perf_counter() - started
    heap.finalize()

    started = time.perf_counter()
    nprobe, recall = _tune_nprobe(index, queries=queries, query_ids=tune_ids, truth=heap.I)
    index._ivf.nprobe = nprobe
    index.params.update(
        nprobe=nprobe,
        recall=round(recall, 4),
        tune_queries=len(queries),
        target_recall=float(getattr(settings, "MONITOR_INDEX_TARGET_RECALL", DEFAULT_TARGET_RECALL)),
        sample_s=round(sampled_s, 2),
        train_s=round(train_s, 2),
        add_s=round(add_s, 2),
        tune_s=round(time.perf_counter() - started, 2),
    )
    return index


def index_build(*, model_id: str, dim: int, ids, vectors: np.ndarray, kind: str | None = None) -> VectorIndex:
    """An index of in-memory vectors, of the kind ``index_plan`` chooses (or ``kind``)."""
    ids_array = np.asarray(ids, dtype=np.int64)
    if len(np.unique(ids_array)) != len(ids_array):
        raise ValueError("ids must be unique")
    return _build(model_id=model_id, dim=dim, source=_array_source(ids_array, np.asarray(vectors)), kind=kind)


def index_build_from_database(
    *, model_id: str, dim: int, batch_size: int = 5000, kind: str | None = None
) -> VectorIndex:
    """A fresh index of every stored embedding made with ``model_id``, in post-id order.

    Its kind follows the number of embeddings (``index_plan``). The vectors are
    streamed in batches and never all held in memory at once.
    """
    from monitor.embeddings import vectors_from_bytes
    from monitor.models import Embedding

    embeddings = Embedding.objects.filter(model_id=model_id)
    count = embeddings.count()

    def batches():
        last_id = 0
        while True:
            rows = list(
                embeddings.filter(post_id__gt=last_id).order_by("post_id").values_list("post_id", "vector")[:batch_size]
            )
            if not rows:
                return
            ids = np.array([pid for pid, _ in rows], dtype=np.int64)
            yield ids, vectors_from_bytes([v for _, v in rows], dim=dim)
            last_id = int(ids[-1])

    def sample(size: int):
        all_ids = np.array(embeddings.values_list("post_id", flat=True), dtype=np.int64)
        chosen = np.random.default_rng(0).choice(all_ids, size=min(size, len(all_ids)), replace=False)
        vectors = {}
        for start in range(0, len(chosen), 2000):
            chunk = chosen[start : start + 2000].tolist()
            vectors.update(embeddings.filter(post_id__in=chunk).values_list("post_id", "vector"))
        kept = np.array([i for i in chosen.tolist() if i in vectors], dtype=np.int64)
        return kept, vectors_from_bytes([vectors[i] for i in kept.tolist()], dim=dim)

    return _build(model_id=model_id, dim=dim, source=_Source(count=count, batches=batches, sample=sample), kind=kind)


# --- files ------------------------------------------------------------------


def index_dir() -> Path:
    path = Path(settings.MONITOR_INDEX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def index_path() -> Path:
    return index_dir() / INDEX_FILE


# The last advice logged for each index file: the index worker saves after every batch.
_advised: dict[str, str | None] = {}


def index_save(index: VectorIndex, *, path: Path | None = None) -> Path:
    """Write the index atomically: a reader sees the old file or the new one, never half."""
    target = path or index_path()
    fd, tmp = tempfile.mkstemp(prefix=".posts-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            index.write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    advice = _advice(index)
    tag = advice[0] if advice else None
    if tag != _advised.get(str(target)):
        # Say it once when it becomes true, not after every save.
        _advised[str(target)] = tag
        if advice:
            logger.warning("%s", advice[1])
    return target


def index_load(*, path: Path | None = None) -> VectorIndex | None:
    """The saved index, or None when there is none yet."""
    target = path or index_path()
    try:
        with open(target, "rb") as handle:
            return VectorIndex.read(handle)
    except FileNotFoundError:
        return None


@contextlib.contextmanager
def index_writer_lock() -> Iterator[None]:
    """Hold the single-writer lock for the duration of a load-change-save."""
    lock_path = index_dir() / LOCK_FILE
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def index_for_writing(*, model_id: str, dim: int) -> tuple[VectorIndex, bool]:
    """Load the saved index for a writer (call under ``index_writer_lock``).

    A missing file, or one made with another model, is rebuilt from the
    database: the index is derived state and never the only copy of anything.
    Returns the index and whether it was rebuilt (and so must be saved).
    """
    try:
        index = index_load()
    except (IndexMismatch, RuntimeError, ValueError):
        index = None
    if index is None or index.model_id != model_id or index.dim != dim:
        return index_build_from_database(model_id=model_id, dim=dim), True
    return index, False


class _ReaderCache:
    """Per-process cache of the saved index, refreshed when the file changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, int, int] | None = None
        self._index: VectorIndex | None = None

    def get(self) -> VectorIndex | None:
        path = index_path()
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if key != self._key:
                self._index = index_load(path=path)
                self._key = key
            return self._index


_reader = _ReaderCache()


def index_for_reading() -> VectorIndex | None:
    """The latest saved index for search, reloaded when a writer has saved a newer one."""
    return _reader.get()
