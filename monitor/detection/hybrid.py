"""The hybrid detector ("hybrid-v2"): the lexicon's reading plus what was learned from examples.

For a batch of posts:

1. The lexicon reads each post (``lexicon_analyse``): which protected
   communities are named, what hostile terms are linked to them, and the cues
   and dampeners present (negation, reporting, counter-speech, a question, a
   speaker naming their own community, ...). A post that names no protected
   community yields nothing, as before: the learned parts never pick a target.
2. Three learned signals for the posts that name a community:
   - ``model:ngram``: logistic regression on hashed character and word
     n-grams of the folded post, community names masked; trained on MLMA
     (French and English tweets) and the seed exemplars. It reads French as
     well as English, and survives most spelling tricks.
   - ``model:embedding``: three small networks (one ReLU hidden layer, averaged) on the post's sentence embedding
     (the configured model: by default the Universal Sentence Encoder
     multilingual, which puts French and English in one space; the model
     records which embedder it was trained with and is not used with another).
   - the exemplar bank: cosine similarity to the labelled sentences of
     ``seeds/exemplars.jsonl`` (and reviewers' decisions when the model was
     retrained with them), nearest hateful versus nearest benign.
3. A combiner (logistic regression over the lexicon's score and categories,
   the dampeners, the three learned signals and their products with each
   dampener) gives the learned score. The learned parts read words, not
   scope: the learned score is then scaled by how much the lexicon's own
   scope dampeners (negation, counter-speech, condemnation, a verb of saying
   whose content the words are) left of the strongest hostile term, and
   lowered when the community is praised with no hostile term aimed at it. It was fitted on out-of-fold predictions
   for the exemplars, so its output is a calibrated probability (stacking, as
   Platt scaling is), not a raw margin. The post's score is the higher of it
   and the lexicon's own score (already lowered by the lexicon's dampeners):
   a hostile term linked to the community is precise evidence the learned parts
   must not overrule on posts unlike the exemplars.
4. Categories and evidence: the lexicon's when it linked a hostile term to the
   community; otherwise those of the nearest hateful exemplars. Evidence always
   names the learned parts that moved the score (``model:ngram`` with the
   words that weighed most, ``exemplar:<id>`` with its similarity) and what
   lowered it (the lexicon's dampeners, the nearest benign exemplar).

The model is ``seeds/models/hybrid-v2.npz``, written by ``manage.py train_detector``.
When it is missing the detector falls back to the lexicon alone ("lexicon-v1").
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from monitor.detection.base import SEVERITY, Detection
from monitor.detection.features import (
    DAMPENING_SIGNALS,
    knn_scores,
    mlp_probability,
    model_text,
    ngram_matrix,
    sigmoid,
    stack_row,
)
from monitor.detection.lexicon import Analysis, lexicon_analyse

logger = logging.getLogger(__name__)

DETECTOR_ID = "hybrid-v2"
MODEL_FILE = "hybrid-v2.npz"
# Evidence only names a learned part whose signal is at least this clear.
EVIDENCE_MIN_SIM = 0.35
# A community praised in its sentence, unnegated, with no hostile term aimed at it ("les Peuls sont
# accueillants", "we should honour the Dogon"): the learned score is scaled by this. The n-gram and
# embedding models read "il faut ... les Peuls" as hostile whatever follows; the lexicon reads the predicate.
PRAISE_FACTOR = 0.6
# A post that names a community with words against hate or condemning an act ("les préjugés contre les Peuls",
# "racism against Fulani is shameful"), no hostile term aimed at the community and no agreement with one: the
# learned score is scaled by this. Measured with 0.6 and 0.8: 0.8 lost nothing on any set; 0.6 lost one
# sentence of the reviewer holdout.
COUNTER_FACTOR = 0.8
COUNTER_SIGNALS = frozenset({"counter_speech", "condemnation", "quote_comment"})
# Categories of a flag the lexicon did not explain: a vote of this many nearest hateful exemplars.
CATEGORY_NEIGHBOURS = 10
CATEGORY_SECOND_SHARE = 0.4
# How many words' n-gram weights are remembered for evidence (``HybridModel.word_weights``) before it is emptied.
WORD_CACHE_SIZE = 200_000
# A post's words that are not community names: their (start, end) spans, and each folded.
PostWords = tuple[list[tuple[int, int]], list[str]]
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?|[\U0001F300-\U0001FAFF\u2600-\u27BF]")


def model_path() -> Path:
    """Where the trained artefact lives: ``<seeds>/models/hybrid-v2.npz``."""
    from monitor.communities import seeds_dir

    return seeds_dir() / "models" / MODEL_FILE


def exemplars_path() -> Path:
    from monitor.communities import seeds_dir

    return seeds_dir() / "exemplars.jsonl"


def exemplars_read(path: Path | None = None) -> list[dict]:
    """The seed exemplars: ``{"id", "text", "label": hateful|non-hateful, "lang", "kind", "group"}`` per line."""
    path = path or exemplars_path()
    rows = []
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in ("hateful", "non-hateful") or not row.get("text") or not row.get("id"):
                raise ValueError(f"{path}:{n}: an exemplar needs id, text and label hateful|non-hateful")
            rows.append(row)
    return rows


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.exists() else ""


@dataclass
class HybridModel:
    """The trained artefact, loaded once per process."""

    ngram_coef: np.ndarray
    ngram_bias: float
    embed_w1: np.ndarray  # (nets, dim, hidden)
    embed_b1: np.ndarray
    embed_w2: np.ndarray
    embed_b2: np.ndarray
    stack_coef: np.ndarray
    stack_bias: float
    stack_mean: np.ndarray
    stack_scale: np.ndarray
    bank_vectors: np.ndarray  # (n, dim) float32, unit rows
    bank_labels: np.ndarray  # (n,) 1 hateful, 0 benign
    bank_ids: list[str]
    bank_kinds: list[str]
    bank_texts: list[str]
    embed_model_id: str
    meta: dict
    # The n-gram model's weight of each folded word already seen (the words named as evidence); the
    # same words recur across posts, and one vectoriser call per post cost a quarter of detection.
    word_weights: dict[str, float] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> HybridModel:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return cls(
                ngram_coef=z["ngram_coef"].astype(np.float32),
                ngram_bias=float(z["ngram_bias"]),
                embed_w1=z["embed_w1"].astype(np.float32),
                embed_b1=z["embed_b1"].astype(np.float32),
                embed_w2=z["embed_w2"].astype(np.float32),
                embed_b2=z["embed_b2"].astype(np.float32),
                stack_coef=z["stack_coef"].astype(np.float64),
                stack_bias=float(z["stack_bias"]),
                stack_mean=z["stack_mean"].astype(np.float64),
                stack_scale=z["stack_scale"].astype(np.float64),
                bank_vectors=z["bank_vectors"].astype(np.float32),
                bank_labels=z["bank_labels"].astype(np.int8),
                bank_ids=[str(x) for x in z["bank_ids"]],
                bank_kinds=[str(x) for x in z["bank_kinds"]],
                bank_texts=[str(x) for x in z["bank_texts"]],
                embed_model_id=str(meta.get("embed_model_id", "")),
                meta=meta,
            )

    def p_ngram(self, matrix) -> np.ndarray:
        return sigmoid(matrix @ self.ngram_coef + self.ngram_bias)

    def p_embed(self, vectors: np.ndarray) -> np.ndarray:
        return mlp_probability(vectors, self.embed_w1, self.embed_b1, self.embed_w2, self.embed_b2)

    def combine(self, rows: np.ndarray) -> np.ndarray:
        z = (rows - self.stack_mean) / self.stack_scale
        return sigmoid(z @ self.stack_coef + self.stack_bias)


_model: HybridModel | None = None
_model_key: tuple[str, float] | None = None
_lock = threading.Lock()


def hybrid_model() -> HybridModel | None:
    """The trained model, or None when ``seeds/models/hybrid-v2.npz`` is absent (lexicon only)."""
    global _model, _model_key
    path = model_path()
    try:
        key = (str(path), path.stat().st_mtime)
    except OSError:
        return None
    with _lock:
        if _model is None or _model_key != key:
            _model = HybridModel.load(path)
            _model_key = key
        return _model


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        logger.warning(message)


def _embed(texts: list[str]) -> np.ndarray:
    from monitor.embeddings import get_embedder

    return get_embedder().encode(texts)


def detect_batch(
    texts: list[str], *, languages: list[str] | None = None, vectors: np.ndarray | None = None,
) -> list[list[Detection]]:
    """Detections for each post of a batch, in order (see the module docstring).

    ``vectors``: the posts' embeddings, (n, dim), when the caller has them
    (the pipeline reads them from the database); otherwise the posts that name
    a community are embedded here, in one call.
    """
    languages = languages or [""] * len(texts)
    analyses = [lexicon_analyse(t, language=lang) for t, lang in zip(texts, languages)]
    model = hybrid_model()
    if model is None:
        return [a.detections for a in analyses]
    todo = [i for i, a in enumerate(analyses) if a.mentions]
    results: list[list[Detection]] = [[] for _ in texts]
    if not todo:
        return results
    if vectors is None:
        from monitor.embeddings import get_embedder

        if get_embedder().model_id != model.embed_model_id:
            _warn_once(f"the embedding model is not {model.embed_model_id}; detecting with the lexicon alone")
            return [a.detections for a in analyses]
        sub_vectors = _embed([texts[i] for i in todo])
    else:
        sub_vectors = np.asarray(vectors, dtype=np.float32)[todo]
    if sub_vectors.ndim != 2 or sub_vectors.shape[1] != model.bank_vectors.shape[1]:
        _warn_once(f"vectors are not of dimension {model.bank_vectors.shape[1]} ({model.embed_model_id}); "
                   "detecting with the lexicon alone")
        return [a.detections for a in analyses]
    model_texts = [model_text(texts[i], analyses[i].mentions) for i in todo]
    p_ngram = model.p_ngram(ngram_matrix(model_texts))
    p_embed = model.p_embed(sub_vectors)
    sims = sub_vectors @ model.bank_vectors.T if len(model.bank_ids) else np.zeros((len(todo), 0))
    # The words of every post whose evidence will name n-gram words, weighed in one call.
    words = {row: _post_words(texts[i], analyses[i]) for row, i in enumerate(todo) if p_ngram[row] >= 0.5}
    _word_weights(model, [w for _spans, folded in words.values() for w in folded])
    for row, i in enumerate(todo):
        from monitor.detection.language import language_detect

        language = languages[i] or language_detect(texts[i])
        results[i] = _detections_for(
            model, texts[i], analyses[i], language=language, p_ngram=float(p_ngram[row]),
            p_embed=float(p_embed[row]), sims=sims[row], words=words.get(row, ([], [])),
        )
    return results


def _detections_for(
    model: HybridModel, text: str, analysis: Analysis, *, language: str, p_ngram: float, p_embed: float,
    sims: np.ndarray, words: PostWords,
) -> list[Detection]:
    knn_diff, knn_vote = knn_scores(sims, model.bank_labels) if sims.size else (0.0, 0.5)
    top_words = _top_words(model, words) if p_ngram >= 0.5 else []
    lexical = {d.community: d for d in analysis.detections}
    # Targets: the communities the lexicon linked a hostile term to; else every community named.
    slugs = list(lexical) or list(dict.fromkeys(m[0] for m in analysis.mentions))
    rows = []
    for slug in slugs:
        d = lexical.get(slug)
        rows.append(stack_row(
            lex_score=d.score if d else 0.0, lex_categories=list(d.categories) if d else [],
            signals=analysis.signals, p_ngram=p_ngram, p_embed=p_embed, knn_diff=knn_diff, knn_vote=knn_vote,
            language=language,
        ))
    scores = model.combine(np.asarray(rows, dtype=np.float64))
    order = np.argsort(-sims) if sims.size else np.array([], dtype=int)
    hateful_near = [j for j in order[:10] if model.bank_labels[j] == 1]
    benign_near = [j for j in order[:10] if model.bank_labels[j] == 0]
    detections = []
    for slug, learned in zip(slugs, scores):
        d = lexical.get(slug)
        # The lexicon's own score (after its dampeners) is a floor: a hostile term it linked to the
        # community is precise evidence, and on posts unlike the exemplars the learned parts alone
        # would drop it. The learned parts add recall on top.
        # The lexicon read the scope the learned parts cannot: a hostile term that is negated, reported
        # under someone else's verb of saying or condemned lowers the learned score as much as its own.
        learned = float(learned) * analysis.scope.get(slug, 1.0)
        if slug in analysis.praised:
            learned *= PRAISE_FACTOR
        elif d is None and analysis.signals & COUNTER_SIGNALS and "endorsement" not in analysis.signals:
            learned *= COUNTER_FACTOR
        score = round(max(learned, d.score if d else 0.0), 4)
        evidence = list(d.evidence) if d else _mention_evidence(text, analysis, slug)
        if d and d.categories:
            categories = list(d.categories)
        elif score < 0.5:
            categories = []  # nothing to name: neither the lexicon nor the learned parts found an attack
        else:
            categories = _neighbour_categories(model, order, sims)
        evidence += _learned_evidence(
            model, text, analysis, score=score, lex_score=d.score if d else 0.0, p_ngram=p_ngram,
            top_words=top_words, p_embed=p_embed, sims=sims, hateful_near=hateful_near, benign_near=benign_near,
            has_lexical_dampeners=bool(d and any(e["role"] == "dampener" for e in d.evidence)),
        )
        detections.append(Detection(community=slug, categories=categories, score=score, evidence=evidence,
                                    detector=DETECTOR_ID))
    return sorted(detections, key=lambda x: (-x.score, x.community))


def _neighbour_categories(model: HybridModel, order: np.ndarray, sims: np.ndarray) -> list[str]:
    """Categories of a flag only the learned parts found: a similarity-weighted vote of the nearest hateful
    exemplars' kinds; the winner, and any other kind with at least ``CATEGORY_SECOND_SHARE`` of the vote.

    Measured by ``bench/category_vote.py`` on the exemplars, each against the exemplars of other groups:
    the right kind among those named for 71.2% (69.8% when the nearest one decided, naming more kinds) and
    "incitement" named wrongly for 2.6% (6.1%).
    """
    votes: dict[str, float] = {}
    hateful = (j for j in order if model.bank_labels[j] == 1)
    for _, j in zip(range(CATEGORY_NEIGHBOURS), hateful):
        if model.bank_kinds[j] in SEVERITY:
            votes[model.bank_kinds[j]] = votes.get(model.bank_kinds[j], 0.0) + float(np.exp(10.0 * sims[j]))
    if not votes:
        return ["derogation"]
    total = sum(votes.values())
    winner = max(votes, key=votes.get)
    return [c for c in SEVERITY if c == winner or votes.get(c, 0.0) / total >= CATEGORY_SECOND_SHARE]


def _mention_evidence(text: str, analysis: Analysis, slug: str) -> list[dict]:
    return [
        {"start": s, "end": e, "text": text[s:e], "rule": rule, "role": "target"}
        for m_slug, s, e, rule in analysis.mentions if m_slug == slug
    ]


def _whole(text: str) -> tuple[int, int]:
    start = len(text) - len(text.lstrip())
    return start, max(start + 1, len(text.rstrip()))


def _learned_evidence(
    model: HybridModel, text: str, analysis: Analysis, *, score: float, lex_score: float, p_ngram: float,
    top_words: list[tuple[int, int, float]], p_embed: float, sims: np.ndarray, hateful_near: list[int],
    benign_near: list[int], has_lexical_dampeners: bool,
) -> list[dict]:
    """What the learned parts contributed: the words the n-gram model weighed most, the exemplars."""
    out: list[dict] = []
    s0, e0 = _whole(text)
    if p_ngram >= 0.5:
        for a, b, weight in top_words[:2]:
            out.append({"start": a, "end": b, "text": text[a:b], "rule": "model:ngram", "role": "hostile",
                        "weight": round(weight, 3), "p": round(p_ngram, 3)})
    if p_embed >= 0.5:
        out.append({"start": s0, "end": e0, "text": text[s0:e0], "rule": "model:embedding", "role": "hit",
                    "p": round(p_embed, 3)})
    if hateful_near and sims[hateful_near[0]] >= EVIDENCE_MIN_SIM and score >= 0.5:
        j = hateful_near[0]
        out.append({"start": s0, "end": e0, "text": text[s0:e0], "rule": f"exemplar:{model.bank_ids[j]}",
                    "role": "hit", "similarity": round(float(sims[j]), 3), "exemplar": model.bank_texts[j]})
    if benign_near and sims[benign_near[0]] >= EVIDENCE_MIN_SIM and score < 0.5:
        j = benign_near[0]
        out.append({"start": s0, "end": e0, "text": text[s0:e0], "rule": f"exemplar:{model.bank_ids[j]}",
                    "role": "dampener", "similarity": round(float(sims[j]), 3), "exemplar": model.bank_texts[j]})
    # Dampeners the lexicon saw in the post, when it did not already list them on a hostile term.
    if not has_lexical_dampeners:
        for kind in DAMPENING_SIGNALS:
            span = analysis.signal_spans.get(kind)
            if kind in analysis.signals and span and span[1] > span[0]:
                out.append({"start": span[0], "end": span[1], "text": text[span[0]:span[1]],
                            "rule": f"dampener:{kind}", "role": "dampener"})
    return out


def _post_words(text: str, analysis: Analysis) -> PostWords:
    """The post's words that are not community names: their spans, and each folded."""
    from monitor.detection.normalise import word_normalise

    masked = [(s, e) for _slug, s, e, _r in analysis.mentions]
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)
             if not any(s < m.end() and m.start() < e for s, e in masked)]
    # Stripping the folded word changes no n-gram: both hashers split on whitespace.
    return words, [word_normalise(text[a:b]) for a, b in words]


def _word_weights(model: HybridModel, folded: list[str]) -> list[float]:
    """The n-gram weight of each folded word; those not yet in ``model.word_weights`` are weighed in one
    vectoriser call and remembered (a snapshot is read first, so another thread clearing it is harmless)."""
    cache = model.word_weights
    known = {w: v for w in set(folded) if (v := cache.get(w)) is not None}
    missing = [w for w in dict.fromkeys(folded) if w not in known]
    if missing:
        weighed = dict(zip(missing, (ngram_matrix(missing) @ model.ngram_coef).tolist()))
        if len(cache) + len(weighed) > WORD_CACHE_SIZE:
            cache.clear()
        cache.update(weighed)
        known.update(weighed)
    return [known[w] for w in folded]


def _top_words(model: HybridModel, words: PostWords) -> list[tuple[int, int, float]]:
    """Words of the post (``_post_words``) that push the n-gram model towards hateful, heaviest first."""
    spans, folded = words
    if not spans:
        return []
    ranked = sorted(zip(spans, _word_weights(model, folded)), key=lambda x: -x[1])
    return [(a, b, float(w)) for (a, b), w in ranked if w > 0.3]
