"""python manage.py rebuild_index — recreate the FAISS index from the database.

The index kind follows the number of stored vectors (see ``monitor.index``):
exact search up to ``MONITOR_INDEX_EXACT_MAX``, an IVF index trained on a
sample beyond. The command says which it chose and why. ``--check`` only
describes the saved index and says whether a rebuild is due.
"""
from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from monitor.embeddings import get_embedder
from monitor.index import (
    KINDS,
    IndexMismatch,
    index_advice,
    index_build_from_database,
    index_load,
    index_path,
    index_plan,
    index_save,
    index_writer_lock,
)
from monitor.models import Embedding


class Command(BaseCommand):
    help = "Rebuild the FAISS index from the embeddings stored in the database (the index is derived state)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            choices=KINDS,
            help="force an index kind instead of choosing by size (flat: exact; ivf: approximate)",
        )
        parser.add_argument(
            "--check", action="store_true", help="describe the saved index and say whether a rebuild is due; change nothing"
        )

    def handle(self, *args, **options):
        model_id = get_embedder().model_id
        if options["check"]:
            return self._check(model_id)
        row = Embedding.objects.filter(model_id=model_id).values("dim").first()
        if row is None:
            self.stdout.write(f"no embeddings stored for {model_id}; nothing to index")
            return
        count = Embedding.objects.filter(model_id=model_id).count()
        plan = index_plan(count=count, kind=options["kind"])
        self.stdout.write(f"{plan.kind}: {plan.reason}")
        started = time.perf_counter()
        with index_writer_lock():
            index = index_build_from_database(model_id=model_id, dim=row["dim"], kind=options["kind"])
            path = index_save(index)
        self.stdout.write(
            f"indexed {len(index)} vectors of {model_id} into {path} in {time.perf_counter() - started:.1f}s: "
            f"{index.describe()}"
        )
        if index.kind == "ivf":
            p = index.params
            self.stdout.write(
                f"nprobe={p['nprobe']}: the smallest that reaches recall@10 >= {p['target_recall']} "
                f"(MONITOR_INDEX_TARGET_RECALL) on {p['tune_queries']} sampled posts against exact search; "
                f"training {p['train_s']}s, adding {p['add_s']}s, tuning {p['tune_s']}s"
            )
        if advice := index_advice(index):
            self.stdout.write(f"note: {advice}")
        others = Embedding.objects.exclude(model_id=model_id).count()
        if others:
            self.stderr.write(
                f"{others} stored vectors were made by another model and are not indexed "
                f"(MONITOR_EMBEDDING_MODEL now names {model_id})"
            )

    def _check(self, model_id: str) -> None:
        try:
            index = index_load()
        except (IndexMismatch, RuntimeError, ValueError) as error:
            self.stdout.write(f"{index_path()} is unreadable ({error}): run rebuild_index")
            return
        if index is None:
            self.stdout.write(f"no index at {index_path()}: the next indexing batch or rebuild_index creates it")
            return
        stored = Embedding.objects.filter(model_id=model_id).count()
        self.stdout.write(f"{index_path()}: {index.describe()}; model {index.model_id}; {stored} vectors stored for {model_id}")
        if index.model_id != model_id:
            self.stdout.write(f"rebuild due: the index holds {index.model_id} vectors, the configured model is {model_id}")
        elif advice := index_advice(index):
            self.stdout.write(f"rebuild due: {advice}")
        else:
            self.stdout.write("no rebuild due")
