from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitor.embeddings import get_embedder, vector_to_bytes
from monitor.models import Embedding

DIM = 384


def unit(rng, n, dim=DIM):
    x = rng.normal(size=(n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def around(rng, centre, n, spread=0.03):
    """n unit vectors scattered around ``centre`` (cosine to it about 0.85-0.9)."""
    x = centre[None, :] + rng.normal(scale=spread, size=(n, len(centre)))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def post_with_vector(make_post):
    """Create a post at a given time with a stored vector (no model run)."""
    model_id = get_embedder().model_id

    def _make(vector, *, when: datetime, text: str = "post", **fields):
        post = make_post(text=text, created_at=when, **fields)
        Embedding.objects.create(post=post, model_id=model_id, dim=len(vector), vector=vector_to_bytes(vector))
        return post

    return _make


def day(week_monday: datetime, k: int) -> datetime:
    return week_monday + timedelta(days=k % 7, hours=(k * 5) % 24)


W46 = datetime(2026, 11, 9, tzinfo=UTC)
W47 = datetime(2026, 11, 16, tzinfo=UTC)
W48 = datetime(2026, 11, 23, tzinfo=UTC)
