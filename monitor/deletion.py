"""Deleting posts for good (a takedown request, data minimisation, a mistaken import)."""
from __future__ import annotations

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from monitor.audit import audit_record
from monitor.models import Cluster, Post, ReviewDecision


def posts_delete(*, post_ids: list[int], actor) -> list[int]:
    """Delete posts and everything hanging off them; return the ids that existed and are gone. Steps:

    1. One audit event (``posts.delete``) naming the ids, platforms and external ids.
    2. Delete the rows: embeddings, flags, their decisions and claim matches go by
       cascade; the full-text entries go with them (SQLite: FTS5 triggers;
       PostgreSQL: the expression indexes). Decisions that revert one another
       are unlinked first, as that link protects them.
    3. Recount the sizes of the clusters the posts were in.
    4. Once the transaction commits, remove the vectors from the FAISS index.
       Until then (or if that fails) search still never shows them: results are
       always read back from the database.
    """
    from monitor.search import posts_remove_from_index

    ids = sorted({int(pid) for pid in post_ids})
    with transaction.atomic():
        posts = list(
            Post.objects.select_for_update().filter(pk__in=ids).values("id", "platform", "external_id", "cluster_id")
        )
        found = [row["id"] for row in posts]
        if not found:
            return []
        audit_record(
            actor=actor,
            action="posts.delete",
            data={"post_ids": found, "posts": [f"{r['platform']}:{r['external_id']}" for r in posts]},
        )
        ReviewDecision.objects.filter(flag__post_id__in=found, reverts__isnull=False).update(reverts=None)
        Post.objects.filter(pk__in=found).delete()
        clusters = {row["cluster_id"] for row in posts if row["cluster_id"]}
        if clusters:
            counts = Post.objects.filter(cluster_id=OuterRef("pk")).values("cluster_id").annotate(n=Count("id"))
            Cluster.objects.filter(pk__in=clusters).update(size=Coalesce(Subquery(counts.values("n")[:1]), 0))
        transaction.on_commit(lambda: posts_remove_from_index(post_ids=found))
    return found
