import numpy as np
import pytest

from monitor.embeddings import Embedder, EmbeddingError, get_embedder, vector_to_bytes, vectors_from_bytes


def test_the_bundled_model_loads_offline_and_gives_unit_vectors():
    embedder = get_embedder()
    vectors = embedder.encode(["Les Peuls de Mopti fêtent la Tabaski", "The market in Bamako is busy today"])
    assert vectors.shape == (2, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.model_id == "sentence-transformers/all-MiniLM-L6-v2"


def test_paraphrases_are_closer_than_unrelated_texts():
    a, b, c = get_embedder().encode(
        ["The army retook the airport this morning", "This morning the army took back the airport", "I love mangoes"]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_vectors_round_trip_through_bytes():
    vectors = get_embedder().encode(["un", "deux"])
    restored = vectors_from_bytes([vector_to_bytes(v) for v in vectors], dim=384)
    np.testing.assert_array_equal(restored, vectors)


def test_a_model_that_is_not_on_disk_fails_clearly_without_downloading(tmp_path):
    embedder = Embedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbeddingError, match="cannot load embedding model"):
        embedder.encode(["x"])


def test_stored_vectors_of_the_wrong_size_are_refused():
    with pytest.raises(EmbeddingError):
        vectors_from_bytes([b"\x00" * 12], dim=384)
