"""How urgent a flag is: the number the review queue is sorted by.

A pure function of what the detector found and what the platform reported,
so it can be recomputed any time: ``flags_reprioritise`` does it for the open
flags of clusters that grew.
"""
from __future__ import annotations

import math
from datetime import datetime

from django.utils import timezone

# How grave each category is, before the detector's confidence.
CATEGORY_WEIGHTS: dict[str, float] = {
    "incitement": 1.0,
    "threat": 1.0,
    "dehumanisation": 0.85,
    "collective_blame": 0.75,
    "exclusion": 0.7,
    "slur": 0.6,
    "false_claim": 0.6,
    "derogation": 0.5,
}
# A category the table does not know yet still counts, as a middling one.
DEFAULT_WEIGHT = 0.5

FOLLOWERS_WEIGHT = 0.15
ENGAGEMENT_WEIGHT = 0.2
SPREAD_WEIGHT = 0.3
VELOCITY_WEIGHT = 0.25
HALF_LIFE_HOURS = 48.0
# Views are cheap and huge; a hundred views weigh about one like.
VIEWS_PER_INTERACTION = 100.0


def flag_priority(
    *,
    categories: list[str],
    score: float,
    followers: int | None,
    likes: int,
    shares: int,
    replies: int,
    views: int,
    cluster_size: int,
    created_at: datetime | None,
    now: datetime | None = None,
    cluster_growth: int = 0,
) -> float:
    """Return the flag's priority, higher = more urgent (0 to roughly 1,000).

    ``priority = 100 × severity × (1 + reach) × (1 + spread) × (1 + velocity) × freshness``

    1. ``severity = max(weight[c] for c in categories) × clamp(score, 0, 1)``;
       weights: incitement and threat 1.0, dehumanisation 0.85, collective_blame
       0.75, exclusion 0.7, slur 0.6, false_claim 0.6, derogation 0.5, anything
       else (or no category) 0.5.
    2. ``reach = 0.15 × log10(1 + followers) + 0.2 × log10(1 + engagement)``
       with ``engagement = likes + 2 × shares + replies + views / 100`` (shares
       count double: each one puts the post in front of a new audience). Unknown
       followers count as 0. A million followers adds 0.9; 10,000 interactions 0.8.
    3. ``spread = 0.3 × log2(cluster_size)``: the same text posted 16 times adds 1.2,
       a single post 0.
    4. ``velocity = 0.25 × log2(1 + cluster_growth)`` where ``cluster_growth`` is
       the number of posts that joined the cluster in the 24 hours up to its latest
       post (``monitor.clustering.clusters_growth``): 15 copies in a day add 1.0, so a
       narrative spreading now outranks an equally large one that has gone quiet.
    5. ``freshness = 0.5 + 0.5 × 2^(−age_hours / 48)``: from 1 for a new post down
       to 0.5, never lower, because an old call to violence still needs a decision;
       a fresh one can still be stopped before it spreads. Unknown or future
       ``created_at`` counts as new.

    Negative counts are treated as 0, a non-finite score as 0. Only ``now`` defaults to the clock.
    """
    weights = [CATEGORY_WEIGHTS.get(c, DEFAULT_WEIGHT) for c in categories] or [DEFAULT_WEIGHT]
    score = float(score)
    severity = max(weights) * (min(max(score, 0.0), 1.0) if math.isfinite(score) else 0.0)

    engagement = max(likes, 0) + 2 * max(shares, 0) + max(replies, 0) + max(views, 0) / VIEWS_PER_INTERACTION
    reach = FOLLOWERS_WEIGHT * math.log10(1 + max(followers or 0, 0)) + ENGAGEMENT_WEIGHT * math.log10(1 + engagement)

    spread = SPREAD_WEIGHT * math.log2(max(cluster_size, 1))
    velocity = VELOCITY_WEIGHT * math.log2(1 + max(cluster_growth, 0))

    freshness = 1.0
    if created_at is not None:
        age_hours = max(((now or timezone.now()) - created_at).total_seconds() / 3600.0, 0.0)
        freshness = 0.5 + 0.5 * 2.0 ** (-age_hours / HALF_LIFE_HOURS)

    return 100.0 * severity * (1.0 + reach) * (1.0 + spread) * (1.0 + velocity) * freshness


def post_flag_priority(*, post, categories: list[str], score: float, cluster_growth: int = 1, now=None) -> float:
    """``flag_priority`` for a flag on ``post`` (a ``Post`` with its cluster loaded)."""
    return flag_priority(
        categories=categories,
        score=score,
        followers=post.author_followers,
        likes=post.likes,
        shares=post.shares,
        replies=post.replies,
        views=post.views,
        cluster_size=post.cluster.size if post.cluster_id else 1,
        cluster_growth=cluster_growth,
        created_at=post.created_at,
        now=now,
    )
