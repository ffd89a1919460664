"""After the embedding model changes, ``reembed`` gives every post a vector of the configured model."""
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from monitor.embeddings import get_embedder, vector_to_bytes
from monitor.index import index_load
from monitor.models import Embedding, Post
from monitor.pipeline import posts_reembed

TEXTS = ["Les Peuls de Mopti fêtent la Tabaski", "The market in Bamako is busy today", "Pénurie d'essence à Kayes"]


@pytest.fixture
def old_vectors(make_post):
    """Posts carrying vectors of a former model (384 dimensions), one with none at all."""
    posts = [make_post(text=t, status=Post.Status.PROCESSED) for t in TEXTS]
    rng = np.random.default_rng(1)
    for post in posts[:2]:
        v = rng.normal(size=384).astype(np.float32)
        Embedding.objects.create(post=post, model_id="sentence-transformers/all-MiniLM-L6-v2", dim=384,
                                 vector=vector_to_bytes(v / np.linalg.norm(v)))
    return posts


def test_posts_of_another_model_or_none_get_the_configured_models_vector(old_vectors):
    embedder = get_embedder()
    assert posts_reembed(batch_size=2) == 3
    rows = Embedding.objects.order_by("post_id")
    assert [(e.model_id, e.dim) for e in rows] == [(embedder.model_id, embedder.dim)] * 3
    stored = np.frombuffer(bytes(rows[1].vector), dtype="<f4")
    np.testing.assert_allclose(stored, embedder.encode([TEXTS[1]])[0], atol=1e-5)
    # Done posts are skipped: a second run (or a resumed one) embeds nothing.
    assert posts_reembed() == 0


def test_the_limit_stops_early_and_a_rerun_finishes(old_vectors):
    assert posts_reembed(batch_size=1, limit=2) == 2
    assert posts_reembed() == 1


def test_the_command_rebuilds_the_index_with_the_new_vectors(old_vectors, capsys):
    call_command("reembed")
    out = capsys.readouterr().out
    assert f"embedded 3 posts with {get_embedder().model_id}" in out
    index = index_load()
    assert index.model_id == get_embedder().model_id and len(index) == 3
    with pytest.raises(CommandError):
        call_command("reembed", "--batch-size", "0")
