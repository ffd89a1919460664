"""The queue's priority: a documented, monotone function of severity, reach, spread and age."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import pytest

from monitor.priority import flag_priority

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def priority(**overrides) -> float:
    args = dict(
        categories=["incitement"],
        score=0.8,
        followers=1000,
        likes=10,
        shares=5,
        replies=2,
        views=1000,
        cluster_size=1,
        created_at=NOW,
        now=NOW,
    )
    args.update(overrides)
    return flag_priority(**args)


def test_it_matches_the_documented_formula():
    got = priority(categories=["dehumanisation"], score=0.5, followers=999, likes=7, shares=1, replies=0, views=100,
                   cluster_size=4, created_at=NOW - timedelta(hours=48))
    severity = 0.85 * 0.5
    reach = 0.15 * math.log10(1000) + 0.2 * math.log10(1 + 7 + 2 + 0 + 1)
    spread = 0.3 * 2
    freshness = 0.75
    assert got == pytest.approx(100 * severity * (1 + reach) * (1 + spread) * freshness)


def test_graver_categories_come_first():
    ordered = ["incitement", "dehumanisation", "collective_blame", "exclusion", "slur", "derogation"]
    values = [priority(categories=[c]) for c in ordered]
    assert values == sorted(values, reverse=True)
    assert priority(categories=["threat"]) == priority(categories=["incitement"])
    assert priority(categories=["false_claim"]) == priority(categories=["slur"])


def test_the_gravest_category_counts():
    assert priority(categories=["derogation", "incitement"]) == priority(categories=["incitement"])


def test_unknown_or_missing_categories_count_as_middling():
    assert priority(categories=["something_new"]) == priority(categories=["derogation"])
    assert priority(categories=[]) == priority(categories=["derogation"])


def test_a_higher_detector_score_ranks_higher():
    assert priority(score=0.9) > priority(score=0.6) > priority(score=0.1) > 0
    assert priority(score=0.0) == 0.0
    assert priority(score=5.0) == priority(score=1.0)  # clamped
    assert priority(score=-1.0) == 0.0
    assert priority(score=float("nan")) == 0.0


def test_reach_raises_priority():
    assert priority(followers=1_000_000) > priority(followers=1000) > priority(followers=None)
    assert priority(followers=0) == priority(followers=None)
    assert priority(shares=500) > priority(likes=500, shares=0) > priority(likes=0, shares=0)
    assert priority(views=1_000_000) > priority(views=0)


def test_reach_is_log_scaled():
    # A thousand times the followers adds a constant, not a factor of a thousand.
    assert priority(followers=1_000_000) / priority(followers=1000) < 2


def test_a_bigger_cluster_ranks_higher():
    assert priority(cluster_size=50) > priority(cluster_size=5) > priority(cluster_size=1)
    assert priority(cluster_size=0) == priority(cluster_size=1)


def test_older_posts_decay_but_never_below_half():
    fresh = priority(created_at=NOW)
    day = priority(created_at=NOW - timedelta(days=1))
    month = priority(created_at=NOW - timedelta(days=30))
    assert fresh > day > month >= fresh / 2
    assert priority(created_at=NOW - timedelta(hours=48)) == pytest.approx(fresh * 0.75)


def test_unknown_or_future_times_count_as_new():
    fresh = priority(created_at=NOW)
    assert priority(created_at=None) == fresh
    assert priority(created_at=NOW + timedelta(hours=3)) == fresh


def test_negative_counts_are_ignored():
    assert priority(likes=-5, shares=-5, replies=-5, views=-5, followers=-5) == priority(
        likes=0, shares=0, replies=0, views=0, followers=0
    )


def test_it_returns_a_float_and_defaults_now_to_the_clock():
    value = flag_priority(categories=["threat"], score=1.0, followers=None, likes=0, shares=0, replies=0, views=0,
                          cluster_size=1, created_at=None)
    assert isinstance(value, float) and value == pytest.approx(100.0)


def test_a_cluster_growing_fast_outranks_an_equally_large_quiet_one():
    assert priority(cluster_size=16, cluster_growth=15) > priority(cluster_size=16, cluster_growth=1)
    # 15 copies in the last day add exactly the documented 0.25 × log2(16) = 1.0.
    assert math.isclose(
        priority(cluster_size=16, cluster_growth=15) / priority(cluster_size=16, cluster_growth=0), 2.0
    )
