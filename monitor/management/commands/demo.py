"""python manage.py demo — the embedded demo: data, pipeline, users, then the dashboard.

1. Prepare the database (migrations, communities, roles).
2. Import ``seeds/demo_posts.jsonl`` (idempotent: a second run adds nothing).
3. Run the pipeline on every pending post in this process.
4. Create the demo reviewer and lead.
5. Serve the dashboard on 127.0.0.1:8000 (unless --no-serve).
"""
from __future__ import annotations

import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from monitor.models import Flag, Post
from monitor.narratives.services import narratives_build
from monitor.reports.services import report_build_weekly
from monitor.weeks import week_of

DEMO_USERS = (("reviewer", "reviewer"), ("lead", "lead"), ("researcher", "researcher"))
DEMO_PASSWORD = "vigie-demo-2026"


class Command(BaseCommand):
    help = "Set up the embedded demo (SQLite, in-process pipeline) and serve the dashboard."

    def add_arguments(self, parser):
        parser.add_argument("--no-serve", action="store_true", help="prepare everything, do not start the server")
        parser.add_argument("--addr", default="127.0.0.1:8000", help="address:port to serve on")
        parser.add_argument("--posts", default=None, help="a JSONL file in Vigie's schema (default: the seeds)")

    def handle(self, *args, no_serve: bool, addr: str, posts: str | None, **options):
        from monitor.importers import iter_import_items, posts_ingest_items
        from monitor.pipeline import posts_process
        from monitor.roles import user_create

        call_command("setup", stdout=self.stdout)
        path = Path(posts or settings.MONITOR_SEEDS_DIR / "demo_posts.jsonl")
        summary = posts_ingest_items(
            iter_import_items(path, fmt="jsonl"),
            source="demo",
            on_new=lambda ids: None,  # processed below, in this process, with progress
            on_problem=lambda item: self.stderr.write(f"{path}:{item.position}: {item.error or item.skipped}"),
        )
        self.stdout.write(f"demo posts: {summary.line()}")

        pending = list(Post.objects.filter(status=Post.Status.PENDING).order_by("id").values_list("id", flat=True))
        started = time.perf_counter()
        size = settings.MONITOR_PIPELINE_BATCH_SIZE
        for start in range(0, len(pending), size):
            posts_process(post_ids=pending[start : start + size])
            self.stdout.write(f"  processed {min(start + size, len(pending))}/{len(pending)}")
        if pending:
            self.stdout.write(f"pipeline: {len(pending)} posts in {time.perf_counter() - started:.1f}s")
        open_flags = Flag.objects.filter(status=Flag.Status.OPEN).count()
        self.stdout.write(f"open flags in the queue: {open_flags}")

        # Narratives and a trend report for every week the demo posts cover (idempotent: rebuilt alike).
        for week in _weeks_covered():
            built = narratives_build(week=week)
            report_build_weekly(week=week)
            self.stdout.write(f"week {week}: {built.posts} posts, {built.narratives} narratives, report stored")

        for username, role in DEMO_USERS:
            user_create(username=username, password=DEMO_PASSWORD, role=role)
        url = f"http://{addr}/"
        self.stdout.write(self.style.SUCCESS(f"\nVigie is ready at {url}"))
        self.stdout.write(f"  reviewer login: reviewer / {DEMO_PASSWORD}")
        self.stdout.write(f"  lead login:     lead / {DEMO_PASSWORD}")
        self.stdout.write(f"  researcher:     researcher / {DEMO_PASSWORD}\n")
        if not no_serve:
            call_command("runserver", addr, use_reloader=False)


def _weeks_covered() -> list[str]:
    """The ISO weeks of the stored posts' times, oldest first."""
    times = Post.objects.values_list("created_at", "ingested_at")
    return sorted({week_of(created or ingested) for created, ingested in times})
