"""Build a week's narratives and read them back.

``narratives_build`` groups every post of an ISO week that has an embedding
(flagged or not) into narratives, labels them and keeps their ids stable:

1. Load the week's vectors (post time is ``coalesce(created_at, ingested_at)``),
   in post-id order, for the configured embedding model.
2. Group them (``grouping.vectors_group``: sample, PCA, HDBSCAN, merge of
   groups with close centroids, nearest centroid for the rest; noise stays
   unassigned).
3. Give each group an id: first match it to the narratives an earlier run of
   the same week produced (so a re-run keeps its ids), then to the previous
   week's narratives (so a continuing story keeps its id), one-to-one by
   centroid cosine at or above ``MONITOR_NARRATIVE_MATCH_THRESHOLD``; the rest
   are new narratives.
4. In one transaction, replace the week's ``NarrativeWeek`` and
   ``NarrativeMember`` rows, then count flagged members and pick the dominant
   community in the database.
"""
from __future__ import annotations

import logging
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q

from monitor.embeddings import get_embedder, vector_to_bytes
from monitor.models import Embedding, Post
from monitor.narratives.grouping import Grouping, match_one_to_one, nearest_centroid, vectors_group
from monitor.narratives.models import Narrative, NarrativeMember, NarrativeWeek
from monitor.narratives.terms import distinctive_terms, terms_label
from monitor.weeks import previous_week, week_bounds, week_days

logger = logging.getLogger(__name__)

# Posts per narrative whose text feeds its terms (the most central ones), and of the noise as background.
TERM_POSTS = 500
BACKGROUND_POSTS = 2000
EXAMPLES = 3


@dataclass(frozen=True)
class NarrativeBuildResult:
    week: str
    posts: int  # posts of the week with an embedding of the current model
    narratives: int
    new: int
    continued: int  # narratives that also have a row in the previous week
    noise: int  # posts left in no narrative


@dataclass(frozen=True)
class NarrativeTrend:
    narrative_id: int
    label: str
    terms: list[str]
    community_id: int | None
    size: int
    previous_size: int  # 0 when the narrative had no row the week before
    growth: int  # size - previous_size
    growth_ratio: float | None  # size / previous_size; None when previous_size is 0
    flagged: int
    daily: dict[str, int]
    example_post_ids: list[int] = field(default_factory=list)  # up to 3, most central first


def _week_posts(week: str, model_id: str) -> tuple[np.ndarray, np.ndarray, list]:
    """Step 1: (post ids, vectors, post times) of the week, in post-id order."""
    start, end = week_bounds(week)
    in_week = Q(post__created_at__gte=start, post__created_at__lt=end) | Q(
        post__created_at__isnull=True, post__ingested_at__gte=start, post__ingested_at__lt=end
    )
    rows = (
        Embedding.objects.filter(in_week, model_id=model_id)
        .order_by("post_id")
        .values_list("post_id", "dim", "vector", "post__created_at", "post__ingested_at")
    )
    ids: list[int] = []
    blobs: list[bytes] = []
    times: list = []
    dim = None
    skipped = 0
    for post_id, d, blob, created, ingested in rows.iterator(chunk_size=5000):
        dim = d if dim is None else dim
        blob = bytes(blob)
        if d != dim or len(blob) != 4 * dim:
            skipped += 1
            continue
        ids.append(post_id)
        blobs.append(blob)
        times.append(created or ingested)
    if skipped:
        logger.warning("narratives %s: skipped %d embeddings of another dimension", week, skipped)
    if not ids:
        return np.zeros(0, np.int64), np.zeros((0, 0), np.float32), []
    vectors = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dim).astype(np.float32)
    return np.asarray(ids, dtype=np.int64), vectors, times


def _centroids_of(rows: list[NarrativeWeek], dim: int) -> np.ndarray:
    if not rows:
        return np.zeros((0, dim), np.float32)
    return np.stack([np.frombuffer(bytes(r.centroid), dtype="<f4") for r in rows]).astype(np.float32)


def _assign_ids(week: str, grouping: Grouping, dim: int) -> tuple[list[int | None], set[int]]:
    """Step 3: the narrative id for each group (None: new), and the ids this week's earlier run had."""
    threshold = settings.MONITOR_NARRATIVE_MATCH_THRESHOLD
    k = len(grouping.centroids)
    ids: list[int | None] = [None] * k
    same_all = list(NarrativeWeek.objects.filter(week=week).order_by("narrative_id"))
    same = [r for r in same_all if len(r.centroid) == 4 * dim]
    before = [
        r
        for r in NarrativeWeek.objects.filter(week=previous_week(week)).order_by("narrative_id")
        if len(r.centroid) == 4 * dim
    ]
    taken: set[int] = set()
    for rows in (same, before):
        rows = [r for r in rows if r.narrative_id not in taken]
        free = [g for g in range(k) if ids[g] is None]
        if not rows or not free:
            continue
        sims = grouping.centroids[free] @ _centroids_of(rows, dim).T
        for gi, ri in match_one_to_one(sims, threshold=threshold).items():
            ids[free[gi]] = rows[ri].narrative_id
            taken.add(rows[ri].narrative_id)
    return ids, {r.narrative_id for r in same_all}


def narratives_build(*, week: str) -> NarrativeBuildResult:
    """Group ``week``'s posts into narratives and store them; idempotent (see the module docstring)."""
    week_bounds(week)  # a clear ValueError before any work
    model_id = get_embedder().model_id
    post_ids, vectors, times = _week_posts(week, model_id)
    n = len(post_ids)
    dim = vectors.shape[1] if n else 0
    grouping = vectors_group(
        vectors if n else np.zeros((0, 1), np.float32),
        min_size=settings.MONITOR_NARRATIVE_MIN_SIZE,
        join_threshold=settings.MONITOR_NARRATIVE_JOIN_THRESHOLD,
        merge_threshold=settings.MONITOR_NARRATIVE_MERGE_THRESHOLD,
        sample_size=settings.MONITOR_NARRATIVE_SAMPLE,
        random_state=0,
    )
    k = len(grouping.centroids)
    labels, sims = grouping.labels, grouping.similarity

    # Members of each group, most central first (ties by post id).
    members: list[np.ndarray] = []
    for g in range(k):
        idx = np.flatnonzero(labels == g)
        members.append(idx[np.lexsort((post_ids[idx], -sims[idx]))])

    texts = dict(
        Post.objects.filter(pk__in=[int(post_ids[i]) for m in members for i in m[:TERM_POSTS]]).values_list("id", "text")
    )
    noise_idx = np.flatnonzero(labels < 0)
    if len(noise_idx) > BACKGROUND_POSTS:
        noise_idx = np.sort(np.random.default_rng(0).choice(noise_idx, BACKGROUND_POSTS, replace=False))
    background = list(Post.objects.filter(pk__in=[int(post_ids[i]) for i in noise_idx]).values_list("text", flat=True))
    terms = distinctive_terms(
        [[texts.get(int(post_ids[i]), "") for i in m[:TERM_POSTS]] for m in members], background=background
    )

    days = week_days(week)

    with transaction.atomic():
        _lock_week(week)
        ids, earlier = _assign_ids(week, grouping, dim)
        NarrativeMember.objects.filter(week=week).delete()
        NarrativeWeek.objects.filter(week=week).delete()
        for g in range(k):
            if ids[g] is None:
                rep = int(post_ids[members[g][0]])
                ids[g] = Narrative.objects.create(
                    label=terms_label(terms[g]), terms=terms[g], representative_post_id=rep, first_week=week, last_week=week
                ).pk
        week_rows = []
        for g in range(k):
            counts = Counter(_utc_day(times[i]) for i in members[g])
            daily = {d: int(counts.get(d, 0)) for d in days}
            week_rows.append(
                NarrativeWeek(
                    narrative_id=ids[g],
                    week=week,
                    size=len(members[g]),
                    flagged=0,
                    daily=daily,
                    centroid=vector_to_bytes(grouping.centroids[g]),
                    representative_post_id=int(post_ids[members[g][0]]),
                    terms=terms[g],
                )
            )
        NarrativeWeek.objects.bulk_create(week_rows, batch_size=1000)
        NarrativeMember.objects.bulk_create(
            (
                NarrativeMember(narrative_id=ids[g], post_id=int(post_ids[i]), week=week, similarity=float(sims[i]))
                for g in range(k)
                for i in members[g]
            ),
            batch_size=5000,
        )
        _count_flags(week)
        _refresh_narratives(week, set(ids) | earlier)

    previous = set(
        NarrativeWeek.objects.filter(week=previous_week(week), narrative_id__in=ids).values_list("narrative_id", flat=True)
    )
    result = NarrativeBuildResult(
        week=week,
        posts=n,
        narratives=k,
        new=k - len(previous),
        continued=len(previous),
        noise=int(n - sum(len(m) for m in members)),
    )
    logger.info("narratives %s", result)
    return result


def _lock_week(week: str) -> None:
    """Serialise concurrent builds of one week (PostgreSQL; SQLite already runs one writer at a time).

    The lock is taken before the ids are matched, so a second build waits and
    then sees the first one's rows: same ids, no duplicate memberships.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(f"vigie:narratives:{week}".encode())])


def _utc_day(dt: datetime) -> str:
    return dt.astimezone(UTC).date().isoformat()


def _count_flags(week: str) -> None:
    """Step 4: flagged members per narrative, in the database."""
    flagged = dict(
        NarrativeMember.objects.filter(week=week, post__flags__isnull=False)
        .values("narrative_id")
        .annotate(n=Count("post_id", distinct=True))
        .values_list("narrative_id", "n")
    )
    rows = list(NarrativeWeek.objects.filter(week=week, narrative_id__in=flagged))
    for row in rows:
        row.flagged = flagged[row.narrative_id]
    NarrativeWeek.objects.bulk_update(rows, ["flagged"], batch_size=1000)


def _refresh_narratives(week: str, narrative_ids: set[int]) -> None:
    """Set first/last week, and the latest week's label, terms, example and community; drop empty narratives."""
    communities: dict[int, Counter] = {}
    for nid, community_id, n in (
        NarrativeMember.objects.filter(week=week, narrative_id__in=narrative_ids, post__flags__community__isnull=False)
        .values("narrative_id", "post__flags__community_id")
        .annotate(n=Count("post_id", distinct=True))
        .values_list("narrative_id", "post__flags__community_id", "n")
    ):
        communities.setdefault(nid, Counter())[community_id] = n
    weeks_of: dict[int, list[NarrativeWeek]] = {}
    for row in NarrativeWeek.objects.filter(narrative_id__in=narrative_ids).defer("centroid").order_by("week"):
        weeks_of.setdefault(row.narrative_id, []).append(row)
    for narrative in Narrative.objects.filter(pk__in=narrative_ids):
        rows = weeks_of.get(narrative.pk)
        if not rows:
            narrative.delete()  # only an earlier run of this week had it
            continue
        latest = rows[-1]
        narrative.first_week, narrative.last_week = rows[0].week, latest.week
        narrative.terms = latest.terms
        narrative.label = terms_label(latest.terms)
        narrative.representative_post_id = latest.representative_post_id
        if latest.week == week:
            counts = communities.get(narrative.pk)
            # Most flagged posts wins; ties go to the lowest community id, so re-runs agree.
            narrative.community_id = min(counts, key=lambda c: (-counts[c], c)) if counts else None
        narrative.save()


def narratives_growing(*, week: str, limit: int = 10) -> list[NarrativeTrend]:
    """The week's narratives ordered by growth over the previous week, then size (then id)."""
    week_bounds(week)
    rows = list(NarrativeWeek.objects.filter(week=week).select_related("narrative").defer("centroid", "narrative__terms"))
    before = dict(
        NarrativeWeek.objects.filter(week=previous_week(week), narrative_id__in=[r.narrative_id for r in rows]).values_list(
            "narrative_id", "size"
        )
    )
    rows.sort(key=lambda r: (-(r.size - before.get(r.narrative_id, 0)), -r.size, r.narrative_id))
    rows = rows[: max(limit, 0)]
    examples: dict[int, list[int]] = {}
    for r in rows:
        examples[r.narrative_id] = list(
            NarrativeMember.objects.filter(narrative_id=r.narrative_id, week=week)
            .order_by("-similarity", "post_id")
            .values_list("post_id", flat=True)[:EXAMPLES]
        )
    trends = []
    for r in rows:
        prev = before.get(r.narrative_id, 0)
        trends.append(
            NarrativeTrend(
                narrative_id=r.narrative_id,
                label=terms_label(r.terms) or r.narrative.label,
                terms=list(r.terms),
                community_id=r.narrative.community_id,
                size=r.size,
                previous_size=prev,
                growth=r.size - prev,
                growth_ratio=(r.size / prev) if prev else None,
                flagged=r.flagged,
                daily=dict(r.daily),
                example_post_ids=examples[r.narrative_id],
            )
        )
    return trends


def narratives_for_posts(*, post_ids: list[int]) -> dict[int, int | None]:
    """Each post's narrative: its membership (latest week), else the nearest recent narrative, else None.

    "Recent" is a narrative whose latest week is among the last
    ``MONITOR_NARRATIVE_LOOKBACK_WEEKS`` built weeks; "nearest" compares the
    post's vector with that latest week's centroid and needs
    ``MONITOR_NARRATIVE_JOIN_THRESHOLD``, the threshold the weekly build uses.
    """
    post_ids = [int(p) for p in dict.fromkeys(post_ids)]
    result: dict[int, int | None] = {p: None for p in post_ids}
    if not post_ids:
        return result
    for post_id, narrative_id, _week in (
        NarrativeMember.objects.filter(post_id__in=post_ids).order_by("post_id", "week").values_list("post_id", "narrative_id", "week")
    ):
        result[post_id] = narrative_id  # later weeks overwrite earlier ones
    missing = [p for p in post_ids if result[p] is None]
    if not missing:
        return result
    weeks = list(
        NarrativeWeek.objects.order_by("-week").values_list("week", flat=True).distinct()[: settings.MONITOR_NARRATIVE_LOOKBACK_WEEKS]
    )
    if not weeks:
        return result
    latest: dict[int, NarrativeWeek] = {}
    for row in NarrativeWeek.objects.filter(week__in=weeks).order_by("week", "narrative_id").only("narrative_id", "week", "centroid"):
        latest[row.narrative_id] = row  # the latest week wins
    model_id = get_embedder().model_id
    found = list(Embedding.objects.filter(post_id__in=missing, model_id=model_id).order_by("post_id").values_list("post_id", "vector"))
    by_dim: dict[int, list[NarrativeWeek]] = {}
    for row in latest.values():
        by_dim.setdefault(len(row.centroid) // 4, []).append(row)
    for dim, rows in by_dim.items():
        rows.sort(key=lambda r: r.narrative_id)
        batch = [(pid, bytes(v)) for pid, v in found if len(v) == 4 * dim]
        if not batch:
            continue
        vectors = np.frombuffer(b"".join(v for _, v in batch), dtype="<f4").reshape(len(batch), dim)
        labels, _ = nearest_centroid(
            vectors, _centroids_of(rows, dim), threshold=settings.MONITOR_NARRATIVE_JOIN_THRESHOLD
        )
        for (pid, _), label in zip(batch, labels):
            if label >= 0:
                result[pid] = rows[int(label)].narrative_id
    return result
