"""The persisted FAISS index of post embeddings: derived state, rebuildable from the database.

- One file, ``posts.faiss`` under ``MONITOR_INDEX_DIR``: a header line with JSON
  metadata (model id, dimension, count) followed by the serialised FAISS index.
  Saved atomically: written to a temporary file, fsynced, then renamed.
- One writer at a time: writers hold an exclusive ``flock`` on ``posts.lock``
  while they load, change and save. In production only the ``index`` queue's
  single worker writes; the lock also keeps the embedded mode and management
  commands safe.
- Readers (web processes, search) load the saved file and reload it when its
  modification time changes, so they pick up a newer index without a restart.
- Ids in the index are post ids; vectors are L2-normalised, so the inner
  product is the cosine similarity.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from django.conf import settings

MAGIC = b"VIGIE-FAISS 1\n"
INDEX_FILE = "posts.faiss"
LOCK_FILE = "posts.lock"


class IndexMismatch(RuntimeError):
    """The saved index was built with another model or dimension: rebuild it."""


@dataclass(frozen=True)
class Neighbour:
    post_id: int
    score: float


class VectorIndex:
    """A FAISS inner-product index keyed by post id."""

    def __init__(self, *, model_id: str, dim: int, index: faiss.Index | None = None) -> None:
        self.model_id = model_id
        self.dim = dim
        self.index = index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._ids: set[int] = set(int(i) for i in faiss.vector_to_array(self.index.id_map)) if index is not None else set()

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def __contains__(self, post_id: int) -> bool:
        return int(post_id) in self._ids

    def add(self, *, ids: list[int], vectors: np.ndarray) -> int:
        """Add vectors for ids not already present; return how many were added."""
        fresh = [(i, int(pid)) for i, pid in enumerate(ids) if int(pid) not in self._ids]
        if not fresh:
            return 0
        rows = [i for i, _ in fresh]
        new_ids = np.array([pid for _, pid in fresh], dtype=np.int64)
        self.index.add_with_ids(np.ascontiguousarray(vectors[rows], dtype=np.float32), new_ids)
        self._ids.update(int(i) for i in new_ids)
        return len(fresh)

    def remove(self, *, ids: list[int]) -> int:
        """Remove ids (a post deleted from Vigie disappears from search)."""
        present = [int(i) for i in ids if int(i) in self._ids]
        if not present:
            return 0
        removed = int(self.index.remove_ids(np.array(present, dtype=np.int64)))
        self._ids.difference_update(present)
        return removed

    def search(self, *, vectors: np.ndarray, k: int) -> list[list[Neighbour]]:
        """The k nearest posts for each query vector, best first; ties broken by post id."""
        if len(self) == 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        # Ask for a few extra so ties at the k-th place are ordered by id, not by insertion.
        fetch = min(len(self), k + 8)
        scores, ids = self.index.search(np.ascontiguousarray(vectors, dtype=np.float32), fetch)
        results = []
        for row_scores, row_ids in zip(scores, ids):
            pairs = [(round(float(s), 5), int(i)) for s, i in zip(row_scores, row_ids) if i != -1]
            pairs.sort(key=lambda p: (-p[0], p[1]))
            results.append([Neighbour(post_id=i, score=s) for s, i in pairs[:k]])
        return results

    # --- persistence ------------------------------------------------------

    def to_bytes(self) -> bytes:
        meta = {"model_id": self.model_id, "dim": self.dim, "count": len(self), "kind": "IDMap2,Flat,IP"}
        payload = faiss.serialize_index(self.index).tobytes()
        return MAGIC + json.dumps(meta).encode("utf-8") + b"\n" + payload

    @classmethod
    def from_bytes(cls, data: bytes) -> VectorIndex:
        if not data.startswith(MAGIC):
            raise IndexMismatch("not a Vigie index file")
        header_end = data.index(b"\n", len(MAGIC))
        meta = json.loads(data[len(MAGIC) : header_end])
        index = faiss.deserialize_index(np.frombuffer(data[header_end + 1 :], dtype=np.uint8))
        return cls(model_id=meta["model_id"], dim=int(meta["dim"]), index=index)


def index_dir() -> Path:
    path = Path(settings.MONITOR_INDEX_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def index_path() -> Path:
    return index_dir() / INDEX_FILE


def index_save(index: VectorIndex, *, path: Path | None = None) -> Path:
    """Write the index atomically: a reader sees the old file or the new one, never half."""
    target = path or index_path()
    fd, tmp = tempfile.mkstemp(prefix=".posts-", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(index.to_bytes())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def index_load(*, path: Path | None = None) -> VectorIndex | None:
    """The saved index, or None when there is none yet."""
    target = path or index_path()
    try:
        data = target.read_bytes()
    except FileNotFoundError:
        return None
    return VectorIndex.from_bytes(data)


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


def index_build_from_database(*, model_id: str, dim: int, batch_size: int = 5000) -> VectorIndex:
    """A fresh index of every stored embedding made with ``model_id``, in post-id order."""
    from monitor.embeddings import vectors_from_bytes
    from monitor.models import Embedding

    index = VectorIndex(model_id=model_id, dim=dim)
    last_id = 0
    while True:
        rows = list(
            Embedding.objects.filter(model_id=model_id, post_id__gt=last_id)
            .order_by("post_id")
            .values_list("post_id", "vector")[:batch_size]
        )
        if not rows:
            break
        ids = [pid for pid, _ in rows]
        index.add(ids=ids, vectors=vectors_from_bytes([v for _, v in rows], dim=dim))
        last_id = ids[-1]
    return index


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
