"""Near-duplicate clusters: one review decision can cover every copy of a post.

A post joins the cluster of its most similar already-clustered post when the
cosine similarity reaches ``MONITOR_CLUSTER_THRESHOLD``; otherwise it starts a
new cluster. Assignment runs inside the index writer (one at a time), so the
order is well defined and a post is never assigned twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F
from django.db.models.functions import Coalesce, Greatest, Least

from monitor.index import VectorIndex
from monitor.models import Cluster, Post

NEIGHBOURS = 16
# Velocity is measured over the last day of a cluster's activity.
GROWTH_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Assignment:
    post_id: int
    cluster_id: int
    similarity: float | None  # None when the post started its cluster


def clusters_assign(
    *, post_ids: list[int], vectors: np.ndarray, index: VectorIndex, threshold: float | None = None
) -> list[Assignment]:
    """Assign each not-yet-clustered post to a cluster; return what was assigned.

    ``index`` must not contain the batch's vectors yet. Steps:
    1. Search the index for each post's nearest neighbours, and compare the
       posts of the batch with each other.
    2. In post-id order, take the most similar clustered candidate (index
       neighbour or earlier post of the batch) above the threshold.
    3. Record the assignment with a conditional update, so a retried batch
       cannot count a post twice.
    """
    threshold = settings.MONITOR_CLUSTER_THRESHOLD if threshold is None else threshold
    order = sorted(range(len(post_ids)), key=lambda i: post_ids[i])
    post_ids = [int(post_ids[i]) for i in order]
    vectors = vectors[order]

    posts = {p.pk: p for p in Post.objects.filter(pk__in=post_ids).only("id", "cluster_id", "created_at", "ingested_at")}
    neighbours = index.search(vectors=vectors, k=NEIGHBOURS)
    neighbour_ids = {n.post_id for row in neighbours for n in row if n.score >= threshold}
    cluster_of = dict(Post.objects.filter(pk__in=neighbour_ids, cluster__isnull=False).values_list("id", "cluster_id"))
    batch_sims = vectors @ vectors.T if len(vectors) else np.zeros((0, 0))

    assignments: list[Assignment] = []
    # One transaction for the batch: fewer commits, and a crash leaves no half-counted cluster.
    with transaction.atomic():
        for i, post_id in enumerate(post_ids):
            post = posts.get(post_id)
            if post is None:
                continue  # deleted meanwhile
            if post.cluster_id is not None:
                cluster_of[post_id] = post.cluster_id
                continue
            candidates = [
                (n.score, cluster_of[n.post_id])
                for n in neighbours[i]
                if n.score >= threshold and n.post_id in cluster_of and n.post_id != post_id
            ]
            candidates += [
                (float(batch_sims[i, j]), cluster_of[post_ids[j]])
                for j in range(i)
                if batch_sims[i, j] >= threshold and post_ids[j] in cluster_of
            ]
            best = max(candidates, key=lambda c: c[0], default=None)
            cluster_id = _cluster_join(post=post, cluster_id=best[1] if best else None)
            similarity = best[0] if best else None
            cluster_of[post_id] = cluster_id
            assignments.append(Assignment(post_id=post_id, cluster_id=cluster_id, similarity=similarity))
    return assignments


def _cluster_join(*, post: Post, cluster_id: int | None) -> int:
    """Put ``post`` in ``cluster_id`` (or a new cluster) and update the cluster's size and dates.

    The conditional update makes a retried batch count each post once.
    """
    seen = post.created_at or post.ingested_at
    if cluster_id is None:
        cluster_id = Cluster.objects.create(representative_id=post.pk, size=0, first_seen=seen, last_seen=seen).pk
    if Post.objects.filter(pk=post.pk, cluster__isnull=True).update(cluster_id=cluster_id):
        Cluster.objects.filter(pk=cluster_id).update(
            size=F("size") + 1,
            first_seen=Least(F("first_seen"), seen),
            last_seen=Greatest(F("last_seen"), seen),
        )
    return cluster_id


def clusters_growth(*, cluster_ids: list[int]) -> dict[int, int]:
    """Posts that joined each cluster in the 24 hours up to its latest post (one query)."""
    rows = (
        Post.objects.filter(cluster_id__in=cluster_ids)
        .annotate(seen=Coalesce("created_at", "ingested_at"))
        .filter(seen__gte=F("cluster__last_seen") - GROWTH_WINDOW)
        .values("cluster_id")
        .annotate(n=Count("id"))
    )
    return {row["cluster_id"]: row["n"] for row in rows}
