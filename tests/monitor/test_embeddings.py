import numpy as np
import pytest

from monitor.embeddings import Embedder, EmbeddingError, get_embedder, vector_to_bytes, vectors_from_bytes


def test_the_bundled_model_loads_offline_and_gives_unit_vectors():
    embedder = get_embedder()
    vectors = embedder.encode(["Les Peuls de Mopti fêtent la Tabaski", "The market in Bamako is busy today"])
    assert vectors.shape == (2, 512)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.model_id == "google/universal-sentence-encoder-multilingual-3"


def test_the_default_model_reads_french_and_english_in_one_space():
    """A French sentence is closer to its English translation than to another French sentence."""
    fr, en, other = get_embedder().encode([
        "L'armée a repris l'aéroport ce matin",
        "The army retook the airport this morning",
        "Le marché de Mopti est fermé pour la fête",
    ])
    assert float(fr @ en) > float(fr @ other) + 0.3


def test_minilm_is_still_available_from_its_package(settings):
    embedder = Embedder("bundled:all-MiniLM-L6-v2")
    vectors = embedder.encode(["Les Peuls de Mopti fêtent la Tabaski"])
    assert vectors.shape == (1, 384) and embedder.model_id == "sentence-transformers/all-MiniLM-L6-v2"


def test_an_unknown_bundled_model_is_refused():
    with pytest.raises(EmbeddingError, match="bundled models"):
        Embedder("bundled:no-such-model")


def test_paraphrases_are_closer_than_unrelated_texts():
    a, b, c = get_embedder().encode(
        ["The army retook the airport this morning", "This morning the army took back the airport", "I love mangoes"]
    )
    assert float(a @ b) > float(a @ c) + 0.3


def test_vectors_round_trip_through_bytes():
    vectors = get_embedder().encode(["un", "deux"])
    restored = vectors_from_bytes([vector_to_bytes(v) for v in vectors], dim=vectors.shape[1])
    np.testing.assert_array_equal(restored, vectors)


def test_a_model_that_is_not_on_disk_fails_clearly_without_downloading(tmp_path):
    embedder = Embedder(str(tmp_path / "no-such-model"))
    with pytest.raises(EmbeddingError, match="cannot load embedding model"):
        embedder.encode(["x"])


def test_stored_vectors_of_the_wrong_size_are_refused():
    with pytest.raises(EmbeddingError):
        vectors_from_bytes([b"\x00" * 12], dim=384)
