"""Write operations of the claim bank: import fact-checks, match posts, review matches."""
from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.db import transaction
from django.utils import timezone

from monitor.audit import audit_record
from monitor.claims import matching
from monitor.claims.importers import BadEntry, ClaimRecord, iter_claim_records
from monitor.claims.models import Claim, ClaimMatch
from monitor.embeddings import get_embedder, vectors_from_bytes
from monitor.models import Embedding, Flag, Post

logger = logging.getLogger(__name__)

# Verdicts whose repetition is misinformation; a post repeating a true or unproven
# claim is still matched (researchers can list it) but not flagged.
FLAGGED_VERDICTS = (Claim.Verdict.FALSE, Claim.Verdict.MISLEADING)
_FIELDS = (
    "text", "verdict", "rating_label", "language", "published_at", "publisher", "url", "review_url",
    "claim_author", "claimed_at", "invented",
)


# --- import -------------------------------------------------------------------


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: list[BadEntry] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped"
        )


def claims_import(*, path: Path) -> ImportResult:
    """Import a ClaimReview JSON/JSON-LD/JSONL or CSV file into the claim bank.

    Idempotent: each claim is keyed by ``source_id`` and updated in place; a
    re-import of the same file creates nothing. Malformed entries are skipped
    and returned with their position. ``ClaimFileError`` when the whole file
    is unreadable.
    """
    result = ImportResult()
    seen: dict[str, str] = {}
    for record in iter_claim_records(Path(path)):
        if isinstance(record, BadEntry):
            result.skipped.append(record)
            continue
        record = _distinct_key(record, seen)
        outcome = _claim_upsert(record)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def _distinct_key(record: ClaimRecord, seen: dict[str, str]) -> ClaimRecord:
    """One review article may rate several claims under one URL: the later ones get a suffix."""
    from dataclasses import replace

    previous = seen.get(record.source_id)
    if previous is not None and previous != record.text:
        digest = hashlib.sha256(record.text.encode()).hexdigest()[:12]
        record = replace(record, source_id=f"{record.source_id[:240]}#{digest}")
    seen.setdefault(record.source_id, record.text)
    return record


def _claim_upsert(record: ClaimRecord) -> str:
    values = {f: getattr(record, f) for f in _FIELDS}
    with transaction.atomic():
        claim, created = Claim.objects.select_for_update().get_or_create(source_id=record.source_id, defaults=values)
        if created:
            return "created"
        changed = [f for f, v in values.items() if getattr(claim, f) != v]
        if not changed:
            return "unchanged"
        for f in changed:
            setattr(claim, f, values[f])
        claim.save(update_fields=[*changed, "updated_at"])
        return "updated"


# --- matching -----------------------------------------------------------------

# Vectors of texts the matcher embeds again and again (claims, their folded form, confirmed
# posts' folded form), by (model id, text hash): each is encoded once per process, and again
# only after an edit changes its text.
_text_vectors: dict[tuple[str, str], np.ndarray] = {}
_text_vectors_lock = threading.Lock()
TEXT_VECTORS_MAX = 50_000


def text_vectors(texts: list[str]) -> np.ndarray:
    """The texts' embeddings, in order, from the in-process cache or one encode call."""
    embedder = get_embedder()
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    keys = [(embedder.model_id, hashlib.sha1(t.encode("utf-8", "surrogatepass")).hexdigest()) for t in texts]
    with _text_vectors_lock:
        found = {k: _text_vectors[k] for k in keys if k in _text_vectors}
    missing = {k: i for i, k in enumerate(keys) if k not in found}
    if missing:
        fresh = dict(zip(missing, embedder.encode([texts[i] for i in missing.values()])))
        found.update(fresh)
        with _text_vectors_lock:
            if len(_text_vectors) + len(fresh) > TEXT_VECTORS_MAX:
                _text_vectors.clear()
            _text_vectors.update(fresh)
    return np.stack([found[k] for k in keys]).astype(np.float32)


def claim_vectors(*, claims: list[Claim]) -> np.ndarray:
    """The claims' embeddings, in order."""
    return text_vectors([c.text for c in claims])


def _post_vectors(posts: list[Post]) -> np.ndarray:
    """Stored vectors for the current model; the few posts without one are encoded now."""
    embedder = get_embedder()
    stored = dict(
        Embedding.objects.filter(post_id__in=[p.pk for p in posts], model_id=embedder.model_id).values_list(
            "post_id", "vector"
        )
    )
    dim = embedder.dim
    out = np.zeros((len(posts), dim), dtype=np.float32)
    todo = []
    for i, p in enumerate(posts):
        blob = stored.get(p.pk)
        if blob is not None and len(bytes(blob)) == dim * 4:
            out[i] = vectors_from_bytes([blob], dim=dim)[0]
        else:
            todo.append(i)
    if todo:
        encoded = embedder.encode([posts[i].text for i in todo])
        for i, v in zip(todo, encoded):
            out[i] = v
    return out


@dataclass
class Source:
    """Something a post is compared to on behalf of a claim: its text or a confirmed post."""

    claim: Claim
    text: str
    label: str  # "claim" or "post:<id>"


@dataclass
class MatchResult:
    posts: int = 0
    matches: int = 0
    flags_created: int = 0
    flag_ids: list[int] = field(default_factory=list)


@dataclass
class Sources:
    """What posts are compared to, with the embeddings of their original and folded texts."""

    items: list[Source]
    vectors: np.ndarray
    folded: np.ndarray


def _sources() -> Sources:
    """Every claim, plus every post a reviewer confirmed as repeating one (its exemplars)."""
    claims = list(Claim.objects.order_by("id"))
    sources = [Source(c, c.text, "claim") for c in claims]
    vectors = [claim_vectors(claims=claims)]
    by_id = {c.pk: c for c in claims}
    confirmed = list(
        ClaimMatch.objects.filter(status=ClaimMatch.Status.CONFIRMED, stance=ClaimMatch.Stance.ASSERTS)
        .select_related("post")
        .order_by("id")
    )
    if confirmed:
        posts = [m.post for m in confirmed]
        vectors.append(_post_vectors(posts))
        sources += [Source(by_id[m.claim_id], m.post.text, f"post:{m.post_id}") for m in confirmed]
    folded = text_vectors([matching.text_for_embedding(s.text) for s in sources])
    return Sources(sources, np.concatenate(vectors) if sources else folded, folded)


@dataclass
class Candidate:
    claim: Claim
    source: Source
    cosine: float
    lexical: float
    score: float


def post_best_matches(*, text: str, vector: np.ndarray, folded: np.ndarray, sources: Sources,
                      threshold: float | None = None) -> list[Candidate]:
    """The claims a post matches at or above the threshold, best first, one candidate per claim.

    ``vector`` and ``folded`` embed the post's text and ``matching.text_for_embedding`` of it.
    Lexical overlap is computed for the ``CANDIDATES_PER_POST`` sources nearest by embedding.
    """
    threshold = matching.MATCH_THRESHOLD if threshold is None else threshold
    if not sources.items:
        return []
    cosines = matching.best_cosines(vector=vector, folded=folded, sources=sources.vectors,
                                    folded_sources=sources.folded)
    order = np.argsort(-cosines)[: matching.CANDIDATES_PER_POST]
    post = matching.text_prepare(text)
    best: dict[int, Candidate] = {}
    for i in order:
        source = sources.items[int(i)]
        cosine = float(cosines[i])
        lexical = matching.lexical_overlap(matching.text_prepare(source.text), post)
        score = matching.combined_score(cosine=cosine, lexical=lexical)
        if score < threshold:
            continue
        current = best.get(source.claim.pk)
        if current is None or score > current.score:
            best[source.claim.pk] = Candidate(source.claim, source, cosine, lexical, score)
    return sorted(best.values(), key=lambda c: (-c.score, c.claim.pk))


def _evidence(post: Post, candidate: Candidate, stance: matching.Stance) -> list[dict]:
    claim = candidate.claim
    items = []
    span = matching.match_span(matching.text_prepare(candidate.source.text), matching.text_prepare(post.text))
    if span is not None:
        items.append({
            "start": span[0], "end": span[1], "text": post.text[span[0]: span[1]], "rule": f"claim:{claim.pk}",
            "role": "claim",
        })
    items.append({
        "rule": f"claim:{claim.pk}", "role": "claim", "claim_id": claim.pk, "claim": claim.text[:500],
        "verdict": claim.verdict, "rating": claim.rating_label, "publisher": claim.publisher,
        "review_url": claim.review_url, "score": round(candidate.score, 4), "exemplar": candidate.source.label,
    })
    items += [{"rule": f"stance:{c['cue']}", "role": "dampener", "cue": c["cue"], "quote": c["text"]}
              for c in stance.cues]
    return items


def posts_match_claims(*, post_ids: list[int]) -> MatchResult:
    """Compare pending or processed posts to the claim bank; store matches and misinformation flags.

    1. Sources: every claim's text, and every post a reviewer confirmed as
       repeating a claim (an exemplar of that claim).
    2. Per post: embedding cosine to each source (the better of original and
       folded texts), lexical overlap for the
       nearest ones, the combined score (``monitor.claims.matching``); a match
       per claim at or above the threshold, its stance (repeats, or quotes /
       denies / debunks).
    3. Store one ``ClaimMatch`` per (post, claim), updating score and evidence
       but never a reviewer's status.
    4. One misinformation flag per post (category false_claim, no community)
       for the best match that repeats a false or misleading claim and was not
       rejected; the match points to it.

    Safe to run twice: the same rows, no second flag.
    """
    result = MatchResult()
    posts = list(
        Post.objects.filter(pk__in=post_ids, status__in=[Post.Status.PENDING, Post.Status.PROCESSED])
        .select_related("cluster")
        .order_by("id")
    )
    if not posts or not Claim.objects.exists():
        return result
    sources = _sources()
    vectors = _post_vectors(posts)
    folded = get_embedder().encode([matching.text_for_embedding(p.text) for p in posts])
    now = timezone.now()
    for post, vector, folded_vector in zip(posts, vectors, folded):
        result.posts += 1
        candidates = post_best_matches(text=post.text, vector=vector, folded=folded_vector, sources=sources)
        if not candidates:
            continue
        with transaction.atomic():
            flag_id = _post_store(post, candidates, now=now, result=result)
        if flag_id is not None:
            result.flag_ids.append(flag_id)
    return result


def _post_store(post: Post, candidates: list[Candidate], *, now, result: MatchResult) -> int | None:
    from monitor.priority import post_flag_priority

    rows = []
    stances = {}
    for c in candidates:
        stance = matching.post_stance(
            claim=matching.text_prepare(c.source.text), post=matching.text_prepare(post.text)
        )
        stances[c.claim.pk] = stance
        rows.append(ClaimMatch(
            post=post, claim=c.claim, score=round(c.score, 4),
            stance=ClaimMatch.Stance.ASSERTS if stance.asserts else ClaimMatch.Stance.DEBUNKS,
            method={
                "name": matching.METHOD, "cosine": round(c.cosine, 4), "lexical": round(c.lexical, 4),
                "threshold": matching.MATCH_THRESHOLD, "exemplar": c.source.label,
                "model_id": get_embedder().model_id,
            },
            evidence=_evidence(post, c, stance),
        ))
    ClaimMatch.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["post", "claim"],
        update_fields=["score", "stance", "method", "evidence", "updated_at"],
    )
    result.matches += len(rows)
    stored = {
        m.claim_id: m for m in ClaimMatch.objects.filter(post=post, claim_id__in=[c.claim.pk for c in candidates])
    }
    best = next(
        (
            c for c in candidates
            if stances[c.claim.pk].asserts
            and c.claim.verdict in FLAGGED_VERDICTS
            and stored[c.claim.pk].status != ClaimMatch.Status.REJECTED
        ),
        None,
    )
    if best is None:
        return None
    match = stored[best.claim.pk]
    flag = Flag.objects.filter(post=post, kind=Flag.Kind.MISINFORMATION, community__isnull=True).first()
    if flag is None:
        flag = Flag(
            post=post, kind=Flag.Kind.MISINFORMATION, community=None, category=Flag.Category.FALSE_CLAIM,
            categories=[Flag.Category.FALSE_CLAIM], score=round(best.score, 4), evidence=match.evidence,
            detector=matching.METHOD,
            priority=post_flag_priority(
                post=post, categories=[Flag.Category.FALSE_CLAIM], score=min(1.0, best.score), now=now
            ),
        )
        # A concurrent run may have created it since: the partial unique constraint decides.
        Flag.objects.bulk_create([flag], ignore_conflicts=True)
        flag = Flag.objects.filter(post=post, kind=Flag.Kind.MISINFORMATION, community__isnull=True).first()
        if flag is not None:
            result.flags_created += 1
    if flag is not None and match.flag_id != flag.pk:
        ClaimMatch.objects.filter(pk=match.pk).update(flag=flag)
    return flag.pk if flag is not None else None


# --- review -------------------------------------------------------------------


def claim_match_review(*, match_id: int, status: str, actor=None, note: str = "") -> ClaimMatch:
    """A reviewer confirms or rejects a match. A confirmed match that repeats the claim
    becomes one of the claim's exemplars for the next posts."""
    if status not in (ClaimMatch.Status.CONFIRMED, ClaimMatch.Status.REJECTED, ClaimMatch.Status.OPEN):
        raise ValueError(f"unknown status {status!r}")
    with transaction.atomic():
        match = ClaimMatch.objects.select_for_update().get(pk=match_id)
        previous = match.status
        match.status = status
        match.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor, action=f"claim_match.{status}", obj=match,
            data={"previous": previous, "claim_id": match.claim_id, "post_id": match.post_id, "note": note},
        )
    return match


def claim_matches_follow_decision(*, flag_ids: list[int], action: str, actor=None) -> int:
    """A reviewer's decision on misinformation flags decides the claim matches behind them.

    Confirming a flag confirms its match (which then serves as an exemplar of
    the claim for the next posts); dismissing it rejects the match (no new flag
    for that post and claim). Escalating leaves the match open; reverting the
    decision reopens it. Each change is
    audited by ``claim_match_review``. Returns how many matches changed.
    """
    status = {
        "confirm": ClaimMatch.Status.CONFIRMED,
        "dismiss": ClaimMatch.Status.REJECTED,
        "revert": ClaimMatch.Status.OPEN,  # an undone decision reopens the match with the flag
    }.get(action)
    if status is None or not flag_ids:
        return 0
    ids = list(
        ClaimMatch.objects.filter(flag_id__in=flag_ids, flag__kind=Flag.Kind.MISINFORMATION)
        .exclude(status=status)
        .values_list("id", flat=True)
    )
    for match_id in ids:
        claim_match_review(match_id=match_id, status=status, actor=actor, note=f"flag {action}")
    return len(ids)


# --- editing the bank -----------------------------------------------------------

CLAIM_EDITABLE = ("text", "verdict", "rating_label", "language", "publisher", "url", "review_url",
                  "claim_author", "published_at", "claimed_at")


def claim_save(*, actor, values: dict, claim_id: int | None = None) -> Claim:
    """Create a claim (``claim_id`` None) or edit one, with a ``claim.create`` / ``claim.update`` audit event.

    ``values`` holds validated ``CLAIM_EDITABLE`` fields (the dashboard's form
    checks them). A claim created here is keyed by a hash of its publisher and
    text, as an import without review URL would be, so importing the same
    fact-check later updates it instead of duplicating it. The audit event
    names the fields that changed, with old and new values.
    """
    values = {k: v for k, v in values.items() if k in CLAIM_EDITABLE}
    with transaction.atomic():
        if claim_id is None:
            review_url = values.get("review_url") or ""
            if review_url:
                source_id = f"url:{review_url}"[:255]
            else:
                digest = hashlib.sha256(f"{values.get('publisher', '')}\n{values['text']}".encode()).hexdigest()
                source_id = f"sha256:{digest}"
            claim = Claim(source_id=source_id, **values)
            claim.full_clean()
            claim.save()
            audit_record(actor=actor, action="claim.create", obj=claim,
                         data={"fields": {k: _plain(v) for k, v in values.items()}})
            return claim
        claim = Claim.objects.select_for_update().get(pk=claim_id)
        changes = {k: [_plain(getattr(claim, k)), _plain(v)] for k, v in values.items() if getattr(claim, k) != v}
        if not changes:
            return claim
        for k in changes:
            setattr(claim, k, values[k])
        claim.full_clean(exclude=["source_id"])
        claim.save(update_fields=[*changes, "updated_at"])
        audit_record(actor=actor, action="claim.update", obj=claim, data={"changes": changes})
        return claim


def _plain(value):
    return value.isoformat() if hasattr(value, "isoformat") else value
