"""How fast is the review queue page with 100,000 flags?

Fills a throwaway database of its own with N flags (default 100,000) on N
posts, some in near-duplicate clusters, a tenth of them claimed, a fifth
decided, then requests the queue page with Django's test Client (the whole
request: middleware, session, permissions, the query, the template) and prints
the median and 95th-percentile time, and the number of SQL queries per page.

Three pages are timed, each ``--requests`` times after two warm-up requests:

1. ``queue``: the default open queue, first page (50 flags).
2. ``queue filtered``: ``?category=incitement&language=fr&platform=x``.
3. ``flag``: one flag's page (claim, neighbours, context, near-duplicates).

The database is a SQLite file in a temporary folder (default), or, with
``--database-url postgres://…/NAME``, a PostgreSQL database NAME that the script
drops and creates (never give it a database you want to keep)::

    .venv/bin/python bench/review_queue.py
    .venv/bin/python bench/review_queue.py --database-url postgres://postgres@127.0.0.1:5432/vigie_bench_queue

The last line is machine-readable::

    RESULT flags=100000 queue_median_ms=… queue_p95_ms=… queries=…
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH = 5000


def _recreate_postgres(url: str) -> None:
    import psycopg
    from urllib.parse import urlsplit

    name = urlsplit(url).path.lstrip("/")
    if not name or name in ("postgres", "template0", "template1"):
        raise SystemExit(f"refusing to drop {name!r}: name a throwaway database")
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _setup(database_url: str | None, data_dir: str) -> None:
    os.environ["MONITOR_DATA_DIR"] = data_dir
    os.environ.pop("REDIS_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
        _recreate_postgres(database_url)
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitor.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _fill(n: int, seed: int = 7) -> None:
    """N posts and N flags in batches: 1 in 4 posts in a cluster of 2 to 20, a tenth claimed, a fifth decided."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from monitor.models import Cluster, Community, Flag, Post
    from monitor.roles import roles_ensure, user_set_role

    rng = random.Random(seed)
    roles_ensure()
    User = get_user_model()
    reviewer = User.objects.create_user(username="bench-reviewer", password="x")
    other = User.objects.create_user(username="bench-other", password="x")
    user_set_role(user=reviewer, role="reviewer")
    user_set_role(user=other, role="reviewer")
    communities = [Community.objects.create(slug=s, name=s.title()) for s in ("peul", "dogon", "touareg", "bambara")]
    categories = [c.value for c in Flag.Category]
    now = timezone.now()
    clusters: list[int] = []
    made = 0
    while made < n:
        size = min(BATCH, n - made)
        new_clusters = Cluster.objects.bulk_create([Cluster(size=rng.randint(2, 20)) for _ in range(size // 40 + 1)])
        clusters.extend(c.pk for c in new_clusters)
        posts = Post.objects.bulk_create([
            Post(
                platform=rng.choice(["x", "facebook", "telegram"]),
                external_id=f"bench-{made + i}",
                author_pseudonym=f"a_{rng.randrange(20000):08x}",
                text=f"Post {made + i}: les Peuls dehors, texte de remplissage numéro {made + i}",
                language=rng.choice(["fr", "fr", "en", "bm"]),
                created_at=now - timedelta(minutes=rng.randrange(60 * 24 * 30)),
                likes=rng.randrange(1000),
                status=Post.Status.PROCESSED,
                cluster_id=rng.choice(clusters) if rng.random() < 0.25 else None,
            )
            for i in range(size)
        ])
        flags = []
        for post in posts:
            roll = rng.random()
            status = Flag.Status.OPEN
            if roll < 0.2:
                status = rng.choice([Flag.Status.CONFIRMED, Flag.Status.DISMISSED, Flag.Status.ESCALATED])
            claimed = status == Flag.Status.OPEN and rng.random() < 0.1
            flags.append(Flag(
                post=post, kind=Flag.Kind.INCITEMENT, community=rng.choice(communities),
                category=rng.choice(categories), score=rng.random(), detector="bench",
                evidence=[{"start": 8, "end": 13, "text": "Peuls", "rule": "community:peul", "role": "target"}],
                status=status, priority=rng.random() * 300,
                claimed_by=rng.choice([reviewer, other]) if claimed else None,
                claimed_until=now + timedelta(minutes=5) if claimed else None,
            ))
        Flag.objects.bulk_create(flags)
        made += size
        print(f"  filled {made}/{n}", file=sys.stderr, end="\r")
    print(file=sys.stderr)


def _time(client, url: str, requests: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        assert client.get(url).status_code == 200, url
    times = []
    queries = 0
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        queries = len(captured.captured_queries)
    times.sort()
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return statistics.median(times), p95, queries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flags", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--database-url", default=None, help="a throwaway PostgreSQL database (dropped!)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="vigie-bench-queue-") as data_dir:
        _setup(args.database_url, data_dir)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from monitor.models import Flag

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        started = time.perf_counter()
        _fill(args.flags)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        fill_s = time.perf_counter() - started
        client = Client()
        client.force_login(get_user_model().objects.get(username="bench-reviewer"))
        flag_id = Flag.objects.filter(status="open", claimed_by__isnull=True, post__cluster__isnull=False) \
            .order_by("-priority").values_list("pk", flat=True).first()
        print(f"database: {connection.vendor}, {Flag.objects.count()} flags "
              f"({Flag.objects.filter(status='open').count()} open), filled in {fill_s:.1f} s")
        print(f"{'page':<16} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        results = {}
        for name, url in [
            ("queue", "/"),
            ("queue filtered", "/?category=incitement&language=fr&platform=x"),
            ("flag", f"/flags/{flag_id}/"),
        ]:
            median, p95, queries = _time(client, url, args.requests)
            results[name] = (median, p95, queries)
            print(f"{name:<16} {median:>10.1f} {p95:>8.1f} {queries:>8}")
        median, p95, queries = results["queue"]
        print(f"RESULT flags={args.flags} queue_median_ms={median:.1f} queue_p95_ms={p95:.1f} queries={queries}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
