"""Cluster size, first/last seen and growth per hour and per day, and where the flag page shows them."""
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from monitor.clustering import _cluster_join, clusters_activity, clusters_growth
from monitor.models import Cluster


def _cluster(make_post, ages_hours, now):
    posts = [make_post(text=f"copie {k}", created_at=now - timedelta(hours=h)) for k, h in enumerate(ages_hours)]
    cluster_id = _cluster_join(post=posts[0], cluster_id=None)
    for post in posts[1:]:
        _cluster_join(post=post, cluster_id=cluster_id)
    return cluster_id, posts


def test_activity_gives_size_dates_and_growth_per_hour_and_per_day(make_post):
    now = timezone.now()
    cluster_id, _ = _cluster(make_post, [0.2, 0.5, 3, 20, 30, 72], now)
    other_id, _ = _cluster(make_post, [100], now)

    activity = clusters_activity(cluster_ids=[cluster_id, other_id], now=now)

    a = activity[cluster_id]
    assert (a.size, a.last_hour, a.last_day) == (6, 2, 4)
    assert a.first_seen == now - timedelta(hours=72) and a.last_seen == now - timedelta(hours=0.2)
    assert (activity[other_id].last_hour, activity[other_id].last_day, activity[other_id].size) == (0, 0, 1)
    # clusters_growth anchors the day at the latest post instead of now.
    assert clusters_growth(cluster_ids=[cluster_id, other_id]) == {cluster_id: 4, other_id: 1}
    assert clusters_activity(cluster_ids=[]) == {}


def test_joining_twice_counts_once_and_keeps_the_dates(make_post):
    now = timezone.now()
    cluster_id, posts = _cluster(make_post, [1, 5], now)
    _cluster_join(post=posts[1], cluster_id=cluster_id)
    cluster = Cluster.objects.get(pk=cluster_id)
    assert cluster.size == 2
    assert (cluster.first_seen, cluster.last_seen) == (now - timedelta(hours=5), now - timedelta(hours=1))


def test_the_flag_page_shows_growth_per_hour_and_per_day(client, reviewer, make_post, make_flag):
    now = timezone.now()
    cluster_id, posts = _cluster(make_post, [0.1, 0.3, 2, 30], now)
    flag = make_flag(post=posts[0])
    client.force_login(reviewer)
    html = client.get(reverse("dashboard:flag", args=[flag.pk])).content.decode()
    a = clusters_activity(cluster_ids=[cluster_id])[cluster_id]
    assert f"{a.size} near-identical posts" in html
    assert f"{a.last_hour} in the last hour" in html and f"{a.last_day} in the last day" in html
    assert (a.last_hour, a.last_day) == (2, 3)
