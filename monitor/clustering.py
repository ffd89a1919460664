"""Near-duplicate clusters: one review decision can cover every copy of a post.

A post joins the cluster of its most similar already-clustered post when their
*near-duplicate score* reaches ``MONITOR_CLUSTER_THRESHOLD``; otherwise it
starts a new cluster. The score mixes two signals:

    score = (1 - w) * cosine(embeddings) + w * lexical(texts)

with ``w = MONITOR_CLUSTER_LEXICAL_WEIGHT``. The embedding alone reads an
obfuscated spelling (P3uls, détetse) as new words, and rates a counter-speech
post quoting a hateful one ("if you say 'I hate X' you are a bigot") as close
to it. ``lexical`` is the Dice coefficient of the character 3-grams of both
texts after the detector's normaliser (no case, accents, leetspeak, spaced-out
or repeated letters; URLs and @handles removed; punctuation dropped). It
forgives a few changed letters, and it is symmetric: a long quote around a
short post shares all of the short post's 3-grams but few of its own, so it
scores low. ``w`` and the threshold were chosen by measurement on labelled
pairs (``bench/cluster_threshold.py``; figures in the README); ``w = 0`` is
the cosine-only rule.

Assignment runs inside the index writer (one at a time), so the order is well
defined and a post is never assigned twice.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Max, Min, Q
from django.utils import timezone

from monitor.detection.normalise import text_normalise
from monitor.index import VectorIndex
from monitor.models import Cluster, Post, post_time

NEIGHBOURS = 16
# Characters of a post compared lexically: enough to tell copies apart, bounded cost.
LEXICAL_CHARS = 4000
_WORDS = re.compile(r"[^\W_]+")
# Velocity is measured over the last day of a cluster's activity.
GROWTH_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Assignment:
    post_id: int
    cluster_id: int
    similarity: float | None  # near-duplicate score; None when the post started its cluster


@lru_cache(maxsize=4096)
def text_shingles(text: str) -> frozenset[str]:
    """The character 3-grams of ``text`` after normalisation (words joined by one space).

    Cached: the stored neighbours a batch is compared with are often the same from batch to batch."""
    folded = " ".join(_WORDS.findall(text_normalise(text[:LEXICAL_CHARS]).text))
    padded = f" {folded} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2)) if folded else frozenset()


def lexical_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two shingle sets: symmetric, 1.0 for the same text, 0.0 if nothing shared."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def near_duplicate_score(*, cosine: float, lexical: float, weight: float | None = None) -> float:
    """``(1 - w) * cosine + w * lexical`` with ``w = MONITOR_CLUSTER_LEXICAL_WEIGHT`` unless given."""
    w = settings.MONITOR_CLUSTER_LEXICAL_WEIGHT if weight is None else weight
    return (1.0 - w) * float(cosine) + w * float(lexical)


def clusters_assign(
    *,
    post_ids: list[int],
    vectors: np.ndarray,
    index: VectorIndex,
    threshold: float | None = None,
    weight: float | None = None,
) -> list[Assignment]:
    """Assign each not-yet-clustered post to a cluster; return what was assigned.

    ``index`` must not contain the batch's vectors yet. Steps:
    1. Search the index for each post's nearest neighbours, and compare the
       posts of the batch with each other. Only pairs whose cosine could still
       reach the threshold with a perfect lexical match are kept.
    2. In post-id order, score each clustered candidate (index neighbour or
       earlier post of the batch) by the near-duplicate score and take the
       best one at or above the threshold.
    3. Record the assignment with a conditional update, so a retried batch
       cannot count a post twice.
    """
    threshold = settings.MONITOR_CLUSTER_THRESHOLD if threshold is None else threshold
    weight = settings.MONITOR_CLUSTER_LEXICAL_WEIGHT if weight is None else weight
    # The lowest cosine that, with lexical = 1, still reaches the threshold.
    floor = threshold if weight <= 0 else (threshold - weight) / (1.0 - weight)
    order = sorted(range(len(post_ids)), key=lambda i: post_ids[i])
    post_ids = [int(post_ids[i]) for i in order]
    vectors = vectors[order]

    posts = {
        p.pk: p
        for p in Post.objects.filter(pk__in=post_ids).only("id", "cluster_id", "created_at", "ingested_at", "text")
    }
    neighbours = index.search(vectors=vectors, k=NEIGHBOURS)
    neighbour_ids = {n.post_id for row in neighbours for n in row if n.score >= floor}
    cluster_of: dict[int, int] = {}
    texts: dict[int, str] = {pk: p.text for pk, p in posts.items()}
    for pk, cluster_id, text in Post.objects.filter(pk__in=neighbour_ids, cluster__isnull=False).values_list(
        "id", "cluster_id", "text"
    ):
        cluster_of[pk] = cluster_id
        texts[pk] = text
    shingles: dict[int, frozenset[str]] = {}

    def score(a: int, b: int, cosine: float) -> float:
        if weight <= 0:
            return float(cosine)
        for pk in (a, b):
            if pk not in shingles:
                shingles[pk] = text_shingles(texts.get(pk, ""))
        return near_duplicate_score(cosine=cosine, lexical=lexical_similarity(shingles[a], shingles[b]), weight=weight)

    batch_sims = vectors @ vectors.T if len(vectors) else np.zeros((0, 0))

    decisions: list[tuple[Post, int | str]] = []
    similarity_of: dict[int, float | None] = {}
    for i, post_id in enumerate(post_ids):
        post = posts.get(post_id)
        if post is None:
            continue  # deleted meanwhile
        if post.cluster_id is not None:
            cluster_of[post_id] = post.cluster_id
            continue
        pairs = [
            (n.post_id, n.score)
            for n in neighbours[i]
            if n.score >= floor and n.post_id in cluster_of and n.post_id != post_id
        ]
        pairs += [
            (post_ids[j], float(batch_sims[i, j]))
            for j in range(i)
            if batch_sims[i, j] >= floor and post_ids[j] in cluster_of
        ]
        # Best score wins; on a tie, the older cluster, so the order of the index does not matter
        # (a cluster started in this batch is newer than every stored one, and ordered by its first post).
        # Pairs go by falling cosine, and the texts are compared only while a perfect lexical
        # match could still beat the best so far.
        best = None
        for other, cosine in sorted(pairs, key=lambda p: (-p[1], p[0])):
            bound = (1.0 - weight) * cosine + weight if weight > 0 else cosine
            if bound < threshold or (best is not None and bound < best[0]):
                break
            value = score(post_id, other, cosine)
            candidate = (value, cluster_of[other])
            if value >= threshold and (best is None or (value, -_age(candidate[1])) > (best[0], -_age(best[1]))):
                best = candidate
        target: int | str = best[1] if best else f"{NEW}{post_id}"
        cluster_of[post_id] = target
        similarity_of[post_id] = best[0] if best else None
        decisions.append((post, target))

    # One transaction and a handful of queries for the batch: a crash leaves no half-counted cluster.
    with transaction.atomic():
        written = _clusters_write(decisions)
    return [Assignment(post_id=post.pk, cluster_id=written[post.pk], similarity=similarity_of[post.pk])
            for post, _ in decisions if post.pk in written]


# A cluster started by the batch being assigned: "new:<id of its first post>" until it is stored.
NEW = "new:"


def _age(cluster: int | str) -> float:
    """Stored clusters by id, then clusters started in this batch by their first post."""
    return float(cluster) if isinstance(cluster, int) else 1e18 + float(cluster[len(NEW):])


def _clusters_write(decisions: list[tuple[Post, int | str]]) -> dict[int, int]:
    """Store the batch's decisions (post → stored cluster id, or ``NEW + first post id``) in a few queries.

    Only posts still without a cluster are assigned (a retried batch counts each post once); a new
    cluster is created only when its first post is; sizes and first/last seen grow by the posts
    assigned. Returns post id → its cluster id, also for posts that already had one.
    """
    if not decisions:
        return {}
    ids = [post.pk for post, _ in decisions]
    # Locked (PostgreSQL) until the batch commits, so sizes count exactly the posts assigned here.
    free = set(Post.objects.select_for_update().filter(pk__in=ids, cluster__isnull=True).values_list("pk", flat=True))
    members: dict[int | str, list[Post]] = {}
    for post, target in decisions:
        if post.pk in free:
            members.setdefault(target, []).append(post)

    def seen(post: Post):
        return post.created_at or post.ingested_at

    # New clusters, created with their final size and dates (their first post is among the free ones).
    new_keys = [k for k in members if isinstance(k, str) and int(k[len(NEW):]) in free]
    created = Cluster.objects.bulk_create([
        Cluster(representative_id=int(k[len(NEW):]), size=len(members[k]),
                first_seen=min(seen(p) for p in members[k]), last_seen=max(seen(p) for p in members[k]))
        for k in new_keys
    ])
    real: dict[int | str, int] = {k: c.pk for k, c in zip(new_keys, created)}
    assigned = {p.pk: (real.get(k, k)) for k, ps in members.items() for p in ps if k in real or isinstance(k, int)}
    # One statement run for every post (executemany): the ORM's CASE expressions cost more than the update.
    table, column, pk = Post._meta.db_table, Post._meta.get_field("cluster").column, Post._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if assigned:
            cursor.executemany(
                f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE {quote(pk)} = %s AND {quote(column)} IS NULL",
                [(cluster_id, post_id) for post_id, cluster_id in assigned.items()],
            )
        # Stored clusters grow by the posts that joined them, with their first and last seen widened.
        grown = [(k, ps) for k, ps in members.items() if isinstance(k, int)]
        if grown:
            least, greatest = ("MIN", "MAX") if connection.vendor == "sqlite" else ("LEAST", "GREATEST")
            size, first, last = (quote(Cluster._meta.get_field(f).column) for f in ("size", "first_seen", "last_seen"))
            adapt = connection.ops.adapt_datetimefield_value
            cursor.executemany(
                f"UPDATE {quote(Cluster._meta.db_table)} SET {size} = {size} + %s, "
                f"{first} = {least}({first}, %s), {last} = {greatest}({last}, %s) "
                f"WHERE {quote(Cluster._meta.pk.column)} = %s",
                [(len(ps), adapt(min(seen(p) for p in ps)), adapt(max(seen(p) for p in ps)), k) for k, ps in grown],
            )
    out = dict(assigned)
    taken = [pk for pk in ids if pk not in out]
    if taken:
        out.update(Post.objects.filter(pk__in=taken, cluster__isnull=False).values_list("pk", "cluster_id"))
    return out


def _cluster_join(*, post: Post, cluster_id: int | None) -> int:
    """Put one post in ``cluster_id`` (or a new cluster); see ``_clusters_write``."""
    target: int | str = cluster_id if cluster_id is not None else f"{NEW}{post.pk}"
    with transaction.atomic():
        return _clusters_write([(post, target)])[post.pk]


@dataclass(frozen=True)
class ClusterActivity:
    """A cluster's size, first and last post, and how many posts it gained lately."""

    cluster_id: int
    size: int
    first_seen: datetime | None
    last_seen: datetime | None
    last_hour: int  # posts seen in the hour before ``now``
    last_day: int  # posts seen in the 24 hours before ``now``


def clusters_activity(*, cluster_ids: list[int], now: datetime | None = None) -> dict[int, ClusterActivity]:
    """Size, first/last seen and growth per hour and per day up to ``now``, for each cluster (one query).

    Counted from the cluster's posts (a post's time is ``post_time()``); a
    cluster with no post left is absent. ``clusters_growth`` is the same per-day
    count, anchored at each cluster's latest post instead of ``now`` (what the
    priority score uses while a backlog is processed).
    """
    now = now or timezone.now()
    rows = (
        Post.objects.filter(cluster_id__in=cluster_ids)
        .annotate(seen=post_time())
        .values("cluster_id")
        .annotate(
            size=Count("id"),
            first=Min("seen"),
            last=Max("seen"),
            hour=Count("id", filter=Q(seen__gte=now - timedelta(hours=1), seen__lte=now)),
            day=Count("id", filter=Q(seen__gte=now - timedelta(days=1), seen__lte=now)),
        )
    )
    return {
        row["cluster_id"]: ClusterActivity(
            cluster_id=row["cluster_id"], size=row["size"], first_seen=row["first"], last_seen=row["last"],
            last_hour=row["hour"], last_day=row["day"],
        )
        for row in rows
    }


def clusters_growth(*, cluster_ids: list[int]) -> dict[int, int]:
    """Posts that joined each cluster in the 24 hours up to its latest post (one query)."""
    rows = (
        Post.objects.filter(cluster_id__in=cluster_ids)
        .annotate(seen=post_time())
        .filter(seen__gte=F("cluster__last_seen") - GROWTH_WINDOW)
        .values("cluster_id")
        .annotate(n=Count("id"))
    )
    return {row["cluster_id"]: row["n"] for row in rows}
