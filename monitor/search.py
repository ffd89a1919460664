"""Similarity search over the saved FAISS index (the research search builds on this)."""
from __future__ import annotations

from monitor.embeddings import get_embedder
from monitor.index import Neighbour, index_for_reading


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
