"""python manage.py process_pending — run the pipeline on posts still pending."""
from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from monitor.models import Post
from monitor.pipeline import posts_process


class Command(BaseCommand):
    help = "Process every pending post in this process (or, with --enqueue, send them to the workers)."

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="send to Celery instead of running here")

    def handle(self, *args, enqueue: bool, **options):
        ids = list(Post.objects.filter(status=Post.Status.PENDING).order_by("id").values_list("id", flat=True))
        if enqueue:
            from workers.tasks import enqueue_posts_process

            enqueue_posts_process(ids)
            self.stdout.write(f"enqueued {len(ids)} pending posts")
            return
        processed = flags = 0
        size = settings.MONITOR_PIPELINE_BATCH_SIZE
        for start in range(0, len(ids), size):
            result = posts_process(post_ids=ids[start : start + size])
            processed += result.processed
            flags += result.flags_created
        self.stdout.write(f"processed: {processed}, flags: {flags}")
