"""Similarity search over the saved FAISS index (the research search builds on this)."""
from __future__ import annotations

from monitor.embeddings import get_embedder
from monitor.index import (
    IndexMismatch,
    Neighbour,
    index_for_reading,
    index_load,
    index_save,
    index_writer_lock,
)


def posts_similar_to_text(*, text: str, k: int = 10) -> list[Neighbour]:
    """The ``k`` indexed posts most similar to ``text``, best first (cosine similarity)."""
    index = index_for_reading()
    if index is None:
        return []
    embedder = get_embedder()
    if index.model_id != embedder.model_id:
        # Vectors from two models are not comparable: the index must be rebuilt first.
        raise RuntimeError(
            f"the index holds {index.model_id} vectors but the configured model is {embedder.model_id}; "
            "run: python manage.py rebuild_index"
        )
    return index.search(vectors=embedder.encode([text]), k=k)[0]


def posts_remove_from_index(*, post_ids: list[int]) -> int:
    """Remove posts from the saved index, so they disappear from search; return how many were removed.

    Call it once the posts are deleted from the database (``transaction.on_commit``).
    Runs under the single-writer lock and saves atomically; readers pick up the
    new file on their next search. With no readable index file there is nothing
    to do: the next writer rebuilds from the database, which no longer has them.
    """
    with index_writer_lock():
        try:
            index = index_load()
        except (IndexMismatch, RuntimeError, ValueError):
            return 0
        if index is None:
            return 0
        removed = index.remove(ids=post_ids)
        if removed:
            index_save(index)
    return removed
