"""Train the hybrid detector's learned parts and write ``seeds/models/hybrid-v2.npz``.

Training data, and nothing else:
- ``seeds/exemplars.jsonl``: sentences written for Vigie, hateful and benign,
  about many communities, in French, English and French–Bambara; each row
  has a ``group`` (the sentences written from one idea) so that cross-validation
  never tests on a sibling of a training sentence.
- MLMA (``fr_dataset.csv``, ``en_dataset.csv``, MIT licence): generic hostile
  and normal tweets; a tweet is hostile when none of its labels is "normal",
  benign when "normal" is its only label, and left out when mixed.
- optionally, reviewers' decisions: confirmed flags as hateful, dismissed as benign.

The steps (``detector_train``):
1. Read the lexicon's analysis of every text (mentions to mask, dampeners, score).
2. Embed every text with the configured embedder.
3. Fit the n-gram model (logistic regression) and the embedding networks on MLMA + exemplars; for each exemplar,
   also predict it with models fitted without its group (5 group folds).
4. Exemplar-bank features for each exemplar from the other groups only.
5. Fit the combiner on those out-of-fold features; report its cross-validated
   accuracy, Brier score and calibration error on the exemplars.
6. Save everything in one ``.npz`` (no pickle), written atomically.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.detection.features import knn_scores, mlp_probability, model_text, ngram_matrix, stack_row
from monitor.detection.hybrid import DETECTOR_ID, exemplars_read, file_digest
from monitor.detection.lexicon import lexicon_analyse

FOLDS = 5
# An exemplar is about our setting; an MLMA tweet only about hostility in general. 3 and 8 were
# measured on the dev set and the demo posts: 8 is better on both with the multilingual model.
EXEMPLAR_WEIGHT = 8.0
SEED = 20260
# The embedding model: networks with one hidden layer of this size, this L2 penalty, this many seeds averaged.
# A linear model on the embedding cannot read "who is said to be what": the network can. Measured on the
# held-out sets (reviewer holdout, Sahel posts, short statements): the embedding signal alone went from
# 0.79–0.84 accurate (linear) to 0.86–0.90; a single network varies by seed, three averaged do not.
EMBED_HIDDEN = 512
EMBED_ALPHA = 0.01
EMBED_NETS = 3


@dataclass
class Example:
    text: str
    label: int
    source: str  # exemplar | mlma-fr | mlma-en | review
    group: str
    lang: str = ""
    kind: str = ""
    id: str = ""


def mlma_read(mlma_dir: Path) -> list[Example]:
    """MLMA tweets with a clear label (see the module docstring)."""
    out = []
    for lang in ("fr", "en"):
        path = Path(mlma_dir) / f"{lang}_dataset.csv"
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                labels = set((row.get("sentiment") or "").split("_"))
                if labels == {"normal"}:
                    label = 0
                elif "normal" not in labels and labels:
                    label = 1
                else:
                    continue
                text = (row.get("tweet") or "").strip()
                if text:
                    out.append(Example(text, label, f"mlma-{lang}", f"mlma-{lang}-{row.get('HITId')}", lang))
    return out


def reviews_read() -> list[Example]:
    """Reviewers' decisions: confirmed flags are hateful exemplars, dismissed ones benign."""
    from monitor.models import Flag

    out, seen = [], set()
    rows = Flag.objects.filter(status__in=[Flag.Status.CONFIRMED, Flag.Status.DISMISSED]).values_list(
        "post_id", "post__text", "status", "category", "post__language"
    )
    for post_id, text, status, category, language in rows.order_by("post_id"):
        if post_id in seen or not text:
            continue
        seen.add(post_id)
        confirmed = status == Flag.Status.CONFIRMED
        out.append(Example(text, int(confirmed), "review", f"review-{post_id}", language or "",
                           category if confirmed else "benign", f"review-{post_id}"))
    return out


def _fit_lr(x, y, w, *, c: float):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", solver="liblinear", random_state=SEED)
    model.fit(x, y, sample_weight=w)
    return model


@dataclass
class EmbedNets:
    """The embedding model's weights, stacked over the ensemble (see ``mlp_probability``)."""

    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return mlp_probability(x, self.w1, self.b1, self.w2, self.b2)


def _fit_embed(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> EmbedNets:
    """``EMBED_NETS`` networks on the embeddings, classes balanced as the linear models are."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils.class_weight import compute_sample_weight

    balance = compute_sample_weight("balanced", y)
    nets = [
        MLPClassifier(hidden_layer_sizes=(EMBED_HIDDEN,), alpha=EMBED_ALPHA, max_iter=200, early_stopping=True,
                      random_state=SEED + k).fit(x, y, sample_weight=w * balance)
        for k in range(EMBED_NETS)
    ]
    return EmbedNets(
        w1=np.stack([n.coefs_[0] for n in nets]).astype(np.float32),
        b1=np.stack([n.intercepts_[0] for n in nets]).astype(np.float32),
        w2=np.stack([n.coefs_[1][:, 0] for n in nets]).astype(np.float32),
        b2=np.array([n.intercepts_[1][0] for n in nets], dtype=np.float32),
    )


def detector_train(
    *, mlma_dir: Path | None, out_path: Path, exemplars_file: Path, with_reviews: bool = False,
    embed: Callable[[list[str]], np.ndarray] | None = None, embed_model_id: str = "",
    log: Callable[[str], None] = lambda s: None,
) -> dict:
    """Train and save the model (see the module docstring); return the report written into it."""
    from sklearn.model_selection import GroupKFold

    if embed is None:
        from monitor.embeddings import get_embedder

        embedder = get_embedder()
        embed, embed_model_id = embedder.encode, embedder.model_id
    rows = exemplars_read(exemplars_file)
    exemplars = [Example(r["text"], int(r["label"] == "hateful"), "exemplar", r.get("group") or r["id"],
                         r.get("lang", ""), r.get("kind", ""), r["id"]) for r in rows]
    if with_reviews:
        reviews = reviews_read()
        log(f"reviewers' decisions: {len(reviews)}")
        exemplars += reviews
    generic = mlma_read(mlma_dir) if mlma_dir else []
    log(f"exemplars: {len(exemplars)} ({sum(e.label for e in exemplars)} hateful); "
        f"MLMA: {len(generic)} ({sum(e.label for e in generic)} hostile)")
    everything = exemplars + generic

    # 1–2. Lexicon analysis and embeddings.
    analyses = [lexicon_analyse(e.text, language=e.lang) for e in everything]
    texts = [model_text(e.text, a.mentions) for e, a in zip(everything, analyses)]
    log(f"embedding {len(everything)} texts ...")
    vectors = np.asarray(embed([e.text for e in everything]), dtype=np.float32)
    grams = ngram_matrix(texts)
    y = np.array([e.label for e in everything])
    w = np.array([EXEMPLAR_WEIGHT if e.source in ("exemplar", "review") else 1.0 for e in everything])
    n_ex = len(exemplars)
    ex_idx = np.arange(n_ex)
    gen_idx = np.arange(n_ex, len(everything))

    # 3. Base models, out of fold for the exemplars.
    groups = np.array([e.group for e in exemplars])
    folds = list(GroupKFold(n_splits=FOLDS).split(ex_idx, groups=groups))
    oof_ngram, oof_embed = np.zeros(n_ex), np.zeros(n_ex)
    for k, (train_f, test_f) in enumerate(folds):
        train = np.concatenate([ex_idx[train_f], gen_idx])
        oof_ngram[test_f] = _fit_lr(grams[train], y[train], w[train], c=4.0).predict_proba(grams[ex_idx[test_f]])[:, 1]
        oof_embed[test_f] = _fit_embed(vectors[train], y[train], w[train]).predict(vectors[ex_idx[test_f]])
        log(f"fold {k + 1}/{FOLDS}")
    ngram_model = _fit_lr(grams, y, w, c=4.0)
    embed_model = _fit_embed(vectors, y, w)

    # 4. Exemplar-bank features from other groups only.
    ex_vectors = vectors[:n_ex]
    ex_labels = y[:n_ex].astype(np.int8)
    sims_all = ex_vectors @ ex_vectors.T
    stack_x, stack_y, stack_groups = [], [], []
    for i, e in enumerate(exemplars):
        a = analyses[i]
        if not a.mentions:
            continue  # the detector never scores a post that names no community
        other = groups != e.group
        knn_diff, knn_vote = knn_scores(sims_all[i, other], ex_labels[other])
        lexical = {d.community: d for d in a.detections}
        slug = next(iter(lexical), a.mentions[0][0])
        d = lexical.get(slug)
        stack_x.append(stack_row(
            lex_score=d.score if d else 0.0, lex_categories=list(d.categories) if d else [], signals=a.signals,
            p_ngram=float(oof_ngram[i]), p_embed=float(oof_embed[i]), knn_diff=knn_diff, knn_vote=knn_vote,
            language=e.lang,
        ))
        stack_y.append(e.label)
        stack_groups.append(e.group)
    sx, sy, sg = np.asarray(stack_x), np.asarray(stack_y), np.asarray(stack_groups)
    mean, scale = sx.mean(axis=0), sx.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (sx - mean) / scale

    # 5. The combiner, with its own cross-validated quality.
    cv = np.zeros(len(sy))
    for train_f, test_f in GroupKFold(n_splits=FOLDS).split(z, groups=sg):
        cv[test_f] = _fit_lr(z[train_f], sy[train_f], None, c=0.5).predict_proba(z[test_f])[:, 1]
    combiner = _fit_lr(z, sy, None, c=0.5)
    report = {
        "detector": DETECTOR_ID,
        "embed_model_id": embed_model_id,
        "exemplars": n_ex,
        "exemplars_digest": file_digest(exemplars_file),
        "mlma": len(generic),
        "with_reviews": with_reviews,
        "combiner_cv": _quality(cv, sy),
        "ngram_oof_on_exemplars": _quality(oof_ngram, y[:n_ex]),
        "embed_oof_on_exemplars": _quality(oof_embed, y[:n_ex]),
    }
    log("combiner, cross-validated on the exemplars: " + json.dumps(report["combiner_cv"]))
    log("n-gram model alone, out of fold: " + json.dumps(report["ngram_oof_on_exemplars"]))
    log("embedding model alone, out of fold: " + json.dumps(report["embed_oof_on_exemplars"]))

    # 6. Save.
    bank = [e for e in exemplars]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as handle:
            np.savez_compressed(
                handle,
                ngram_coef=ngram_model.coef_[0].astype(np.float16),
                ngram_bias=np.float64(ngram_model.intercept_[0]),
                embed_w1=embed_model.w1.astype(np.float16),
                embed_b1=embed_model.b1,
                embed_w2=embed_model.w2,
                embed_b2=embed_model.b2,
                stack_coef=combiner.coef_[0],
                stack_bias=np.float64(combiner.intercept_[0]),
                stack_mean=mean,
                stack_scale=scale,
                bank_vectors=ex_vectors.astype(np.float16),
                bank_labels=ex_labels,
                bank_ids=np.array([e.id for e in bank]),
                bank_kinds=np.array([e.kind or "" for e in bank]),
                bank_texts=np.array([e.text for e in bank]),
                meta=np.array(json.dumps(report)),
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, out_path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return report


def _quality(p: np.ndarray, y: np.ndarray) -> dict:
    """Accuracy at 0.5, Brier score and expected calibration error (10 bins)."""
    p = np.asarray(p, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    bins = np.minimum((p * 10).astype(int), 9)
    ece = sum(abs(p[bins == b].mean() - y[bins == b].mean()) * (bins == b).mean() for b in range(10) if (bins == b).any())
    return {"n": len(y), "accuracy": round(float(((p >= 0.5) == y).mean()), 4),
            "brier": round(float(((p - y) ** 2).mean()), 4), "ece": round(float(ece), 4)}
