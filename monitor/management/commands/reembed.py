"""python manage.py reembed — vectors of the configured model for posts embedded by another one.

After ``MONITOR_EMBEDDING_MODEL`` changes (the default became the multilingual
Universal Sentence Encoder), stored vectors of the former model are neither
searched nor indexed. This embeds those posts again with the configured model,
in batches (safe to interrupt and re-run), then rebuilds the index. Clusters
and flags are kept as they are; retrain the detector for the new model with
``train_detector`` if it was trained with another one.
"""
from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from monitor.embeddings import get_embedder
from monitor.pipeline import posts_reembed


class Command(BaseCommand):
    help = "Embed again, with the configured model, every post whose vector was made by another model; rebuild the index."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000, help="posts per encode call (default 1000)")
        parser.add_argument("--limit", type=int, default=None, help="stop after this many posts")
        parser.add_argument("--no-rebuild", action="store_true", help="do not rebuild the index afterwards")

    def handle(self, *args, **options):
        if options["batch_size"] < 1 or (options["limit"] is not None and options["limit"] < 1):
            raise CommandError("--batch-size and --limit must be at least 1")
        count = posts_reembed(batch_size=options["batch_size"], limit=options["limit"])
        self.stdout.write(f"embedded {count} posts with {get_embedder().model_id}")
        if count and not options["no_rebuild"]:
            call_command("rebuild_index", stdout=self.stdout, stderr=self.stderr)
