"""python manage.py rebuild_index — recreate the FAISS index from the database."""
from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from monitor.embeddings import get_embedder
from monitor.index import index_build_from_database, index_save, index_writer_lock
from monitor.models import Embedding


class Command(BaseCommand):
    help = "Rebuild the FAISS index from the embeddings stored in the database (the index is derived state)."

    def handle(self, *args, **options):
        model_id = get_embedder().model_id
        row = Embedding.objects.filter(model_id=model_id).values("dim").first()
        if row is None:
            self.stdout.write(f"no embeddings stored for {model_id}; nothing to index")
            return
        started = time.perf_counter()
        with index_writer_lock():
            index = index_build_from_database(model_id=model_id, dim=row["dim"])
            path = index_save(index)
        others = Embedding.objects.exclude(model_id=model_id).count()
        self.stdout.write(
            f"indexed {len(index)} vectors of {model_id} into {path} in {time.perf_counter() - started:.1f}s"
        )
        if others:
            self.stderr.write(
                f"{others} stored vectors were made by another model and are not indexed "
                f"(MONITOR_EMBEDDING_MODEL now names {model_id})"
            )
