"""Measuring the claim matcher: on pair files, and calibrating it on our own seed examples.

No database: texts are embedded with the configured model and scored with
``monitor.claims.matching``, exactly as ``posts_match_claims`` scores them.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitor.claims import matching
from monitor.claims.importers import ClaimRecord, iter_claim_records
from monitor.embeddings import get_embedder

# Relations of the pair files, grouped as the targets are.
SAME_STANCE = ("spelling_variant", "rephrasing_same_stance")
COUNTER_QUOTING = ("counter_speech_quoting",)
NEGATION = ("negation_opposite_stance",)


def _embed(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of the texts and of their folded form (``matching.text_for_embedding``)."""
    embedder = get_embedder()
    return embedder.encode(texts), embedder.encode([matching.text_for_embedding(t) for t in texts])


def cosine_matrix(posts: list[str], sources: list[str]) -> np.ndarray:
    """posts × sources cosines, the better of original and folded texts, as the matcher scores them."""
    (p, pf), (s, sf) = _embed(posts), _embed(sources)
    return matching.best_cosines(vector=p, folded=pf, sources=s, folded_sources=sf)


@dataclass
class PairOutcome:
    relation: str
    same_stance: bool
    score: float
    similar: bool  # score at or above the threshold
    matched: bool  # similar and the post repeats the claim: what would be flagged


def pair_outcomes(rows: list[dict], *, threshold: float | None = None) -> list[PairOutcome]:
    """Score every (text_a as claim, text_b as post) pair, as the matcher does (original and folded texts)."""
    threshold = matching.MATCH_THRESHOLD if threshold is None else threshold
    cosines = np.diag(cosine_matrix([r["text_b"] for r in rows], [r["text_a"] for r in rows]))
    out = []
    for r, cosine in zip(rows, cosines):
        claim, post = matching.text_prepare(r["text_a"]), matching.text_prepare(r["text_b"])
        score = matching.combined_score(cosine=float(cosine), lexical=matching.lexical_overlap(claim, post))
        similar = score >= threshold
        matched = similar and matching.post_stance(claim=claim, post=post).asserts
        out.append(PairOutcome(r.get("relation", ""), str(r.get("same_stance", "")) == "1", score, similar, matched))
    return out


def pairs_read(path: Path) -> list[dict]:
    """Rows of a pairs CSV (needs text_a, text_b, relation; same_stance optional)."""
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    missing = {"text_a", "text_b", "relation"} - set(rows[0] if rows else {})
    if missing:
        raise ValueError(f"{path}: missing columns {sorted(missing)}")
    return rows


def rate(outcomes: list[PairOutcome], relations: tuple[str, ...], *, attr: str = "matched") -> tuple[float, int]:
    """Share of the pairs of these relations that matched, and how many pairs there were."""
    chosen = [o for o in outcomes if o.relation in relations]
    if not chosen:
        return float("nan"), 0
    return sum(getattr(o, attr) for o in chosen) / len(chosen), len(chosen)


def by_relation(outcomes: list[PairOutcome]) -> dict[str, list[PairOutcome]]:
    groups: dict[str, list[PairOutcome]] = defaultdict(list)
    for o in outcomes:
        groups[o.relation].append(o)
    return dict(sorted(groups.items()))


# --- calibration on our own examples ------------------------------------------


@dataclass
class CalibrationCase:
    claim: int  # 1-based line of the claims file; 0 = matches no claim
    post: str
    expect: str  # match | none | debunk


def calibration_read(path: Path) -> list[CalibrationCase]:
    with Path(path).open(encoding="utf-8-sig", newline="") as handle:
        return [CalibrationCase(int(r["claim"]), r["post"], r["expect"]) for r in csv.DictReader(handle)]


def calibration_scores(claims: list[ClaimRecord], cases: list[CalibrationCase]):
    """For each case: (cosine matrix row, lexical row) against every claim."""
    cosines = cosine_matrix([c.post for c in cases], [c.text for c in claims])
    prepared = [matching.text_prepare(c.text) for c in claims]
    lexical = np.array(
        [[matching.lexical_overlap(cl, matching.text_prepare(case.post)) for cl in prepared] for case in cases]
    )
    return cosines, lexical


def calibration_grid(*, claims_path: Path, cases_path: Path, weights=None, thresholds=None) -> list[dict]:
    """Recall, false alarms and debunk handling for each (weight, threshold) on the seed examples.

    - recall: "match" cases whose best claim is the right one, at or above the threshold;
    - false_alarm: "none" cases that reach the threshold on any claim;
    - debunk_flagged: "debunk" cases that would be flagged (similar and asserting).
    """
    claims = [r for r in iter_claim_records(Path(claims_path)) if isinstance(r, ClaimRecord)]
    cases = calibration_read(cases_path)
    cosines, lexical = calibration_scores(claims, cases)
    weights = weights or [round(w, 2) for w in np.arange(0.3, 0.81, 0.1)]
    thresholds = thresholds or [round(t, 2) for t in np.arange(0.40, 0.81, 0.02)]
    stances = [
        [matching.post_stance(claim=matching.text_prepare(cl.text), post=matching.text_prepare(case.post)).asserts
         for cl in claims] if case.expect == "debunk" else None
        for case in cases
    ]
    rows = []
    for w in weights:
        scores = w * cosines + (1 - w) * lexical
        for t in thresholds:
            hit = fa = deb = 0
            n_match = n_none = n_deb = 0
            for i, case in enumerate(cases):
                best = int(np.argmax(scores[i]))
                if case.expect == "match":
                    n_match += 1
                    hit += best == case.claim - 1 and scores[i, best] >= t
                elif case.expect == "none":
                    n_none += 1
                    fa += scores[i, best] >= t
                else:
                    n_deb += 1
                    deb += any(scores[i, j] >= t and stances[i][j] for j in range(len(claims)))
            rows.append({
                "weight": w, "threshold": t, "recall": hit / max(n_match, 1), "false_alarm": fa / max(n_none, 1),
                "debunk_flagged": deb / max(n_deb, 1),
            })
    return rows


def calibration_margins(*, claims_path: Path, cases_path: Path, weights=None) -> list[dict]:
    """Per cosine weight: the gap between the best-scoring unrelated post and the positives above it.

    The chosen threshold is the middle of the widest gap, so that neither a
    paraphrase nor a post sharing only a place name sits on the edge.
    ``same_language`` / ``cross_language`` split the recall at that threshold
    by whether the post is in the claim's language.
    """
    from monitor.detection.language import language_detect

    claims = [r for r in iter_claim_records(Path(claims_path)) if isinstance(r, ClaimRecord)]
    cases = calibration_read(cases_path)
    cosines, lexical = calibration_scores(claims, cases)
    weights = weights or [round(w, 2) for w in np.arange(0.3, 0.81, 0.1)]
    out = []
    for w in weights:
        scores = w * cosines + (1 - w) * lexical
        negative = max(scores[i].max() for i, c in enumerate(cases) if c.expect == "none")
        positives = [(scores[i, c.claim - 1], i) for i, c in enumerate(cases) if c.expect == "match"]
        above = sorted(s for s, _ in positives if s > negative)
        if not above:
            continue
        threshold = round(float((negative + above[0]) / 2), 3)
        same = [(s, i) for s, i in positives if language_detect(cases[i].post) == claims[cases[i].claim - 1].language]
        cross = [(s, i) for s, i in positives if (s, i) not in same]
        out.append({
            "weight": w, "threshold": threshold, "margin": float(above[0] - negative),
            "recall": sum(s >= threshold for s, _ in positives) / len(positives),
            "same_language": (sum(s >= threshold for s, _ in same), len(same)),
            "cross_language": (sum(s >= threshold for s, _ in cross), len(cross)),
        })
    return sorted(out, key=lambda r: -r["margin"])


def demo_false_matches(*, claims_path: Path, posts_path: Path, threshold: float | None = None) -> dict:
    """How many demo posts NOT written as claim repeats reach the threshold on some claim.

    ``seeds/demo_posts.jsonl`` marks its invented rumours ``demo_kind: false_claim``;
    every other post (chatter, news, hate without a rumour, counter-speech) is
    unrelated to the claim bank, so a match there is a false match.
    """
    import json

    threshold = matching.MATCH_THRESHOLD if threshold is None else threshold
    claims = [r for r in iter_claim_records(Path(claims_path)) if isinstance(r, ClaimRecord)]
    with Path(posts_path).open(encoding="utf-8") as handle:
        posts = [json.loads(line) for line in handle if line.strip()]
    unrelated = [p["text"] for p in posts if p.get("demo_kind") != "false_claim"]
    if not claims or not unrelated:
        return {"posts": len(unrelated), "matched": 0, "rate": 0.0, "examples": []}
    cosines = cosine_matrix(unrelated, [c.text for c in claims])
    prepared = [matching.text_prepare(c.text) for c in claims]
    examples = []
    for i, text in enumerate(unrelated):
        post = matching.text_prepare(text)
        scores = [matching.combined_score(cosine=float(cosines[i, j]), lexical=matching.lexical_overlap(cl, post))
                  for j, cl in enumerate(prepared)]
        best = int(np.argmax(scores))
        if scores[best] >= threshold:
            examples.append((round(scores[best], 3), best + 1, text[:100]))
    return {"posts": len(unrelated), "matched": len(examples), "rate": len(examples) / len(unrelated),
            "examples": examples}
