"""Training the hybrid detector (``detector_train``) on a small file, with a stand-in embedder.

The stand-in embeds a text as hashed word counts, so the test needs neither the bundled model nor MLMA;
what it checks is the training code and the artefact it writes, not the committed model's quality.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from monitor.detection.features import mlp_probability
from monitor.detection.hybrid import HybridModel
from monitor.detection.training import _fit_embed, detector_train

DIM = 64
HOSTILE = ["sont des rats", "dehors", "sont des traîtres", "il faut les chasser", "are vermin", "must be expelled"]
KIND = ["sont accueillants", "sont nos voisins", "sont nos frères", "are generous", "are our friends", "welcome"]
COMMUNITIES = ["les Peuls", "les Dogons", "les Bozos", "les Mossis", "les Bellas", "the Fulani", "the Tuareg",
               "the Dogon", "the Songhai", "the Bambara"]


def _embed(texts: list[str]) -> np.ndarray:
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % DIM] += 1.0
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)


def _exemplars(path):
    rows = []
    for g, (phrases, label) in enumerate([(HOSTILE, "hateful"), (KIND, "non-hateful")]):
        for p, phrase in enumerate(phrases):
            for c, community in enumerate(COMMUNITIES):
                rows.append({"id": f"t-{g}-{p}-{c}", "text": f"{community} {phrase}", "label": label,
                             "lang": "en" if community.startswith("the") else "fr", "group": f"g{g}-{p}"})
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return rows


def _xor(n: int = 1000):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 16)).astype(np.float32)
    return x, (x[:, 0] * x[:, 1] > 0).astype(int)  # not linearly separable: what a hidden layer is for


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")  # converging is not the point here
def test_the_forward_pass_is_the_mean_of_what_scikit_learn_predicts():
    from sklearn.neural_network import MLPClassifier

    x, y = _xor()
    nets = [MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=k).fit(x, y) for k in range(2)]
    ours = mlp_probability(
        x, np.stack([n.coefs_[0] for n in nets]), np.stack([n.intercepts_[0] for n in nets]),
        np.stack([n.coefs_[1][:, 0] for n in nets]), np.array([n.intercepts_[1][0] for n in nets]),
    )
    expected = np.mean([n.predict_proba(x)[:, 1] for n in nets], axis=0)
    assert np.allclose(ours, expected, atol=1e-5)
    assert not np.allclose(nets[0].predict_proba(x)[:, 1], expected)  # a mean, not the first network


def test_the_embedding_networks_learn_what_a_linear_model_cannot():
    x, y = _xor()
    nets = _fit_embed(x, y, np.ones(len(y)))
    assert nets.w1.shape[1:] == (16, nets.b1.shape[1]) and len(nets.w1) == len(nets.b2) >= 2
    assert ((nets.predict(x) >= 0.5) == y).mean() > 0.8
    one = mlp_probability(x, nets.w1[:1], nets.b1[:1], nets.w2[:1], nets.b2[:1])
    two = mlp_probability(x, nets.w1[1:2], nets.b1[1:2], nets.w2[1:2], nets.b2[1:2])
    assert not np.allclose(one, two)  # each network has its own seed


@pytest.mark.django_db
def test_training_writes_a_model_that_loads_and_separates_its_exemplars(tmp_path):
    exemplars = tmp_path / "exemplars.jsonl"
    rows = _exemplars(exemplars)
    out = tmp_path / "model.npz"
    report = detector_train(mlma_dir=None, out_path=out, exemplars_file=exemplars, embed=_embed,
                            embed_model_id="test:hashed-words")
    assert report["exemplars"] == len(rows) and report["mlma"] == 0
    model = HybridModel.load(out)
    assert model.embed_model_id == "test:hashed-words"
    assert model.bank_vectors.shape == (len(rows), DIM)
    p = model.p_embed(_embed([r["text"] for r in rows]))
    gold = np.array([r["label"] == "hateful" for r in rows])
    assert ((p >= 0.5) == gold).mean() >= 0.9
    assert p[gold].mean() > p[~gold].mean()  # few rows stop the networks early: the margin is small
