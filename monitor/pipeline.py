"""The processing pipeline over post ids: embed, index and cluster, detect.

Each stage is a plain function over a list of ids, safe to run twice on the
same ids and safe to run after a crash part-way through:

- ``posts_embed`` skips posts that already have a vector for the current model.
- ``posts_index`` skips ids already in the index and posts already clustered.
- ``posts_detect`` only touches posts still ``pending``; flags are unique per
  (post, kind, community) in the database; the post becomes ``processed`` with
  a conditional update, so it is processed once.

Celery tasks in ``workers/tasks.py`` call these; so do the demo and benches.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from monitor.clustering import clusters_assign, clusters_growth
from monitor.embeddings import get_embedder, vector_to_bytes, vectors_from_bytes
from monitor.index import index_for_writing, index_save, index_writer_lock
from monitor.models import Community, Embedding, Flag, Post

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class TransientError(Exception):
    """A failure that may succeed on retry (database or broker briefly away)."""


class PermanentError(Exception):
    """A failure that will not succeed on retry; the posts are marked failed with the reason."""


@dataclass
class DetectResult:
    processed: int = 0
    flags_created: int = 0
    flag_ids: list[int] = field(default_factory=list)


def _pending(post_ids: list[int]):
    return Post.objects.filter(pk__in=post_ids, status=Post.Status.PENDING)


def posts_embed(*, post_ids: list[int]) -> list[int]:
    """Embed the pending posts that have no vector for the current model, in one encode call.

    Returns the ids of pending posts that now have a vector (ready for indexing).
    """
    embedder = get_embedder()
    posts = list(_pending(post_ids).only("id", "text").order_by("id"))
    if not posts:
        return []
    have = set(
        Embedding.objects.filter(post_id__in=[p.pk for p in posts], model_id=embedder.model_id).values_list(
            "post_id", flat=True
        )
    )
    todo = [p for p in posts if p.pk not in have]
    if todo:
        _embeddings_store(embedder, [(p.pk, p.text) for p in todo])
    return [p.pk for p in posts]


def _embeddings_store(embedder, posts: list[tuple[int, str]]) -> None:
    """Encode (post id, text) pairs in one call and store the vectors. A vector from another model
    is replaced: a model change is an explicit re-embed."""
    vectors = embedder.encode([text for _, text in posts])
    Embedding.objects.bulk_create(
        [
            Embedding(post_id=pk, model_id=embedder.model_id, dim=vectors.shape[1], vector=vector_to_bytes(v))
            for (pk, _), v in zip(posts, vectors)
        ],
        update_conflicts=True,
        unique_fields=["post"],
        update_fields=["model_id", "dim", "vector"],
    )


def posts_reembed(*, batch_size: int = 1000, limit: int | None = None) -> int:
    """Give every post whose stored vector is missing or was made by another model a vector of the
    configured one (after ``MONITOR_EMBEDDING_MODEL`` changes), whatever the post's status.

    Batches in post-id order, one encode call and one upsert each; safe to interrupt and run
    again (a post already done is skipped). Clusters and flags are kept as they are. Returns how
    many posts were embedded; the index is then rebuilt with ``rebuild_index``.
    """
    embedder = get_embedder()
    done, last_id = 0, 0
    while limit is None or done < limit:
        size = batch_size if limit is None else min(batch_size, limit - done)
        posts = list(
            Post.objects.filter(pk__gt=last_id)
            .exclude(embedding__model_id=embedder.model_id)
            .order_by("pk")
            .values_list("pk", "text")[:size]
        )
        if not posts:
            break
        _embeddings_store(embedder, posts)
        done += len(posts)
        last_id = posts[-1][0]
    return done


def posts_index(*, post_ids: list[int]) -> list[int]:
    """Add the posts' vectors to the FAISS index and assign near-duplicate clusters.

    Runs under the single-writer lock: load the latest saved index, assign
    clusters against it, add the vectors, save atomically. Returns the ids
    handled (pending posts with a vector for the current model).
    """
    model_id = get_embedder().model_id
    rows = list(
        Embedding.objects.filter(post_id__in=post_ids, model_id=model_id, post__status=Post.Status.PENDING)
        .order_by("post_id")
        .values_list("post_id", "dim", "vector")
    )
    if not rows:
        return []
    dim = rows[0][1]
    ids = [pid for pid, _, _ in rows]
    vectors = vectors_from_bytes([v for _, _, v in rows], dim=dim)
    with index_writer_lock():
        index, rebuilt = index_for_writing(model_id=model_id, dim=dim)
        clusters_assign(post_ids=ids, vectors=vectors, index=index)
        if index.add(ids=ids, vectors=vectors) or rebuilt:
            index_save(index)
    return ids


def _post_flags(
    *,
    post: Post,
    language: str,
    communities: dict[str, Community],
    threshold: float,
    now,
    detections=None,
    growth: dict[int, int] | None = None,
) -> list[Flag]:
    """The flags the detector raises on one post (not saved).

    ``detections``: the detector's findings when the caller ran it on a batch
    with the stored vectors (``posts_detect``); otherwise it is run here.
    """
    from monitor.communities import communities_load
    from monitor.detection import detect_text
    from monitor.priority import post_flag_priority

    if detections is None:
        detections = detect_text(post.text, language=language)
    flags = []
    for detection in detections:
        if detection.score < threshold:
            continue
        if detection.community not in communities:
            communities_load()  # seeds changed since the last load
            communities.update({c.slug: c for c in Community.objects.all()})
        community = communities.get(detection.community)
        if community is None:
            logger.warning("detector named unknown community %r", detection.community)
            continue
        priority = post_flag_priority(
            post=post,
            categories=list(detection.categories),
            score=float(detection.score),
            cluster_growth=(growth or {}).get(post.cluster_id, 1),
            now=now,
        )
        flags.append(
            Flag(
                post=post,
                kind=Flag.Kind.INCITEMENT,
                community=community,
                category=detection.categories[0],
                categories=list(detection.categories),
                score=round(float(detection.score), 4),
                evidence=list(detection.evidence),
                detector=detection.detector,
                priority=priority,
            )
        )
    return flags


def posts_detect(*, post_ids: list[int]) -> DetectResult:
    """Run detection and claim matching on pending posts, create flags, mark the posts processed.

    One transaction for the batch: a crash leaves the whole batch pending, and a
    post already marked processed (by a concurrent run) is not counted again.
    """
    from monitor.claims.services import posts_match_claims
    from monitor.detection import detect_texts, detection_threshold
    from monitor.detection.language import language_detect

    result = DetectResult()
    posts = list(_pending(post_ids).select_related("cluster").order_by("id"))
    if not posts:
        return result
    communities = {c.slug: c for c in Community.objects.all()}
    threshold = detection_threshold()
    now = timezone.now()
    languages = [post.language or language_detect(post.text) for post in posts]
    found = detect_texts([p.text for p in posts], languages=languages, vectors=_post_vectors(posts))
    # Misinformation before the posts count as processed, so a crash here is retried
    # like any other (matching is idempotent: one match per post and claim, one flag).
    posts_match_claims(post_ids=[p.pk for p in posts])
    cluster_ids = sorted({p.cluster_id for p in posts if p.cluster_id})
    growth = clusters_growth(cluster_ids=cluster_ids)
    with transaction.atomic():
        # The posts still pending, locked (PostgreSQL) so a concurrent run of the same batch waits and
        # then finds them processed: each post is processed and counted once.
        still = set(_pending([p.pk for p in posts]).select_for_update().values_list("pk", flat=True))
        flags: list[Flag] = []
        by_language: dict[str, list[int]] = {}
        for post, language, detections in zip(posts, languages, found):
            if post.pk not in still:
                continue
            flags += _post_flags(
                post=post, language=language, communities=communities, threshold=threshold, now=now,
                detections=detections, growth=growth,
            )
            by_language.setdefault(language, []).append(post.pk)
        Flag.objects.bulk_create(flags, ignore_conflicts=True, batch_size=500)
        for language, ids in by_language.items():
            result.processed += _pending(ids).update(
                status=Post.Status.PROCESSED, processed_at=now, status_changed_at=now, language=language, error=""
            )
        result.flags_created += len(flags)
        flags_reprioritise(cluster_ids=cluster_ids, growth=growth, now=now)
    return result


def flags_reprioritise(*, cluster_ids: list[int], growth: dict[int, int] | None = None, now=None) -> int:
    """Recompute the priority of the open flags in these clusters (their size and velocity changed).

    Called after each batch, so a flag whose post is being copied fast climbs the queue.
    """
    from monitor.priority import post_flag_priority

    if not cluster_ids:
        return 0
    growth = clusters_growth(cluster_ids=cluster_ids) if growth is None else growth
    now = now or timezone.now()
    flags = list(
        Flag.objects.filter(post__cluster_id__in=cluster_ids, status=Flag.Status.OPEN).select_related(
            "post", "post__cluster"
        )
    )
    for flag in flags:
        flag.priority = post_flag_priority(
            post=flag.post,
            categories=list(flag.categories or [flag.category]),
            score=flag.score,
            cluster_growth=growth.get(flag.post.cluster_id, 1),
            now=now,
        )
    Flag.objects.bulk_update(flags, ["priority"], batch_size=500)
    return len(flags)


def _post_vectors(posts: list[Post]):
    """The posts' stored embeddings for the current model, in order; the missing ones encoded now."""
    import numpy as np

    embedder = get_embedder()
    stored = dict(
        Embedding.objects.filter(post_id__in=[p.pk for p in posts], model_id=embedder.model_id).values_list(
            "post_id", "vector"
        )
    )
    missing = [p for p in posts if p.pk not in stored]
    if len(missing) == len(posts):
        return None  # the detector embeds what it needs (only posts that name a community)
    have = [p for p in posts if p.pk in stored]
    dim = len(bytes(stored[have[0].pk])) // 4
    by_id = dict(zip((p.pk for p in have), vectors_from_bytes([stored[p.pk] for p in have], dim=dim)))
    if missing:
        by_id.update(zip((p.pk for p in missing), embedder.encode([p.text for p in missing])))
    return np.stack([by_id[p.pk] for p in posts])


def posts_process(*, post_ids: list[int]) -> DetectResult:
    """Every stage in this process, in order (the embedded mode, the demo, benches)."""
    ids = posts_embed(post_ids=post_ids)
    ids = posts_index(post_ids=ids)
    return posts_detect(post_ids=ids)


def posts_mark_failed(*, post_ids: list[int], reason: str) -> int:
    """Mark pending posts failed with a reason a person can read in the UI."""
    now = timezone.now()
    return _pending(post_ids).update(status=Post.Status.FAILED, error=reason[:2000], status_changed_at=now)


def posts_stale_pending(*, older_than: timedelta | None = None, limit: int = 10000) -> list[int]:
    """Pending posts untouched for too long: their message was lost or never sent.

    Each call counts an attempt and touches the row; after ``MAX_ATTEMPTS`` the
    post is marked failed instead of being retried for ever.
    """
    age = older_than if older_than is not None else timedelta(seconds=settings.MONITOR_STALE_PENDING_SECONDS)
    now = timezone.now()
    stale = list(
        Post.objects.filter(status=Post.Status.PENDING, status_changed_at__lt=now - age)
        .order_by("id")
        .values_list("id", "attempts")[:limit]
    )
    give_up = [pid for pid, attempts in stale if attempts + 1 >= MAX_ATTEMPTS]
    retry = [pid for pid, attempts in stale if attempts + 1 < MAX_ATTEMPTS]
    if give_up:
        posts_mark_failed(post_ids=give_up, reason=f"still pending after {MAX_ATTEMPTS} attempts")
    from django.db.models import F

    Post.objects.filter(pk__in=retry, status=Post.Status.PENDING).update(
        attempts=F("attempts") + 1, status_changed_at=now
    )
    return retry
