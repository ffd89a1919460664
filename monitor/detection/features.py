"""Features shared by training (``training.py``) and detection (``hybrid.py``).

Both sides must turn a post into numbers the same way, so the code lives here once:

- ``model_text``: the post as the n-gram model reads it: community names
  replaced by one placeholder word (the model must learn how people are talked
  about, not which community is named), then folded like the lexicon folds it
  (case, accents, leetspeak, spaced letters).
- ``ngram_matrix``: hashed character 2–5-grams and word 1–2-grams of that text.
  Hashing keeps no vocabulary, so the stored model is a weight vector and nothing else.
- ``stack_row``: the combiner's input for one (post, community): what the
  lexicon found for that community, the dampeners and cues in the post, and
  the learned scores (n-gram model, embedding model, exemplar neighbours),
  with the learned scores also crossed with each dampener so the combiner
  can learn that "négation + hostile words" is not hostile.
"""
from __future__ import annotations

import math

import numpy as np

from monitor.detection.base import SEVERITY
from monitor.detection.normalise import text_normalise

PLACEHOLDER = " qgroupeq "
CHAR_FEATURES = 2**17
WORD_FEATURES = 2**16
SIGNALS = (
    "negation", "counter_speech", "condemnation", "reporting", "question", "identity", "call", "quantifier",
    "question_mark", "quotation", "positive", "positive_act",
)
# Signals that may turn hostile words into something else; the learned scores are crossed with these.
DAMPENING_SIGNALS = ("negation", "counter_speech", "condemnation", "reporting", "question", "identity", "quotation")
KNN_K = 5
LANGS = ("fr", "en", "bm")


def model_text(text: str, mentions: list[tuple[str, int, int, str]]) -> str:
    """The post with each community mention replaced by a placeholder, then folded."""
    pieces, last = [], 0
    for _slug, start, end, _rule in sorted(mentions, key=lambda m: (m[1], m[2])):
        if start < last:
            continue
        pieces.append(text[last:start])
        pieces.append(PLACEHOLDER)
        last = end
    pieces.append(text[last:])
    return text_normalise("".join(pieces)).text


_vectorizers = None


def _hashers():
    global _vectorizers
    if _vectorizers is None:
        from sklearn.feature_extraction.text import HashingVectorizer

        common = {"alternate_sign": False, "norm": "l2", "lowercase": False, "dtype": np.float32}
        _vectorizers = (
            HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=CHAR_FEATURES, **common),
            HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=WORD_FEATURES,
                              token_pattern=r"(?u)\b\w+\b", **common),
        )
    return _vectorizers


def ngram_matrix(texts: list[str]):
    """Sparse (n, CHAR_FEATURES + WORD_FEATURES) matrix of hashed n-grams of model texts."""
    from scipy.sparse import hstack

    chars, words = _hashers()
    return hstack([chars.transform(texts), words.transform(texts)], format="csr")


def knn_scores(sims: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """From a post's similarities to the exemplars: (mean of the k best hateful − mean of the k best
    benign, similarity-weighted share of hateful among the k nearest)."""
    hate, benign = sims[labels == 1], sims[labels == 0]
    k = KNN_K
    top_h = np.sort(hate)[-k:].mean() if hate.size else 0.0
    top_b = np.sort(benign)[-k:].mean() if benign.size else 0.0
    nearest = np.argsort(sims)[-k:]
    w = np.exp(sims[nearest] * 10.0)
    vote = float((w * labels[nearest]).sum() / w.sum()) if w.sum() else 0.5
    return float(top_h - top_b), vote


def mlp_probability(vectors: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """The embedding model's probability for each row of ``vectors`` (n, dim): the mean of an ensemble of
    networks with one ReLU hidden layer; ``w1`` (k, dim, hidden), ``b1`` (k, hidden), ``w2`` (k, hidden), ``b2`` (k,)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    total = np.zeros(len(vectors), dtype=np.float64)
    for k in range(len(w1)):
        hidden = np.maximum(vectors @ w1[k] + b1[k], 0.0)
        total += sigmoid(hidden @ w2[k] + b2[k])
    return total / max(len(w1), 1)


def sigmoid(x) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(x, dtype=np.float64), -30, 30)))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def stack_row(
    *, lex_score: float, lex_categories: list[str], signals: frozenset[str] | set[str], p_ngram: float,
    p_embed: float, knn_diff: float, knn_vote: float, language: str,
) -> list[float]:
    """The combiner's input for one (post, community); see ``STACK_NAMES`` for the order."""
    learned = (_logit(p_ngram) + _logit(p_embed)) / 2.0 + 4.0 * knn_diff
    row = [lex_score, 1.0 if lex_score > 0 else 0.0]
    row += [lex_score if c in lex_categories else 0.0 for c in SEVERITY]
    row += [1.0 if s in signals else 0.0 for s in SIGNALS]
    row += [_logit(p_ngram), _logit(p_embed), knn_diff, knn_vote]
    row += [learned * (1.0 if s in signals else 0.0) for s in DAMPENING_SIGNALS]
    row += [1.0 if language == lang else 0.0 for lang in LANGS]
    return row


STACK_NAMES = (
    ["lex_score", "lex_any"] + [f"lex_{c}" for c in SEVERITY] + [f"sig_{s}" for s in SIGNALS]
    + ["ngram_logit", "embed_logit", "knn_diff", "knn_vote"] + [f"learned_x_{s}" for s in DAMPENING_SIGNALS]
    + [f"lang_{lang}" for lang in LANGS]
)
