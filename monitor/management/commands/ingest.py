"""python manage.py ingest PATH — import posts from a JSONL, CSV, Telegram or X export."""
from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from monitor.importers import FORMATS, ImportFileError, ImportItem, detect_format, iter_import_items, posts_ingest_items

MAX_ERRORS_SHOWN = 1000


class Command(BaseCommand):
    help = (
        "Import posts from a file. Re-running the same file adds nothing. Prints each rejected "
        "record as PATH:POSITION: REASON on stderr and a summary line on stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the file to import")
        parser.add_argument("--format", default="auto", choices=("auto", *FORMATS), help="default: guess from the file")
        parser.add_argument("--batch-size", type=int, default=500, help="records per transaction (default 500)")
        parser.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, path: str, format: str, batch_size: int, quiet: bool, verbosity: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"cannot read {path}: {'not a file' if file.exists() else 'no such file'}")
        try:
            fmt = detect_format(file) if format == "auto" else format
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None

        # The bar goes straight to the terminal: Django's stderr wrapper would end every
        # redraw with a newline.
        bar = tqdm(
            desc=file.name,
            unit="msg" if fmt == "telegram" else "B",
            unit_scale=fmt != "telegram",
            file=sys.stderr,
            disable=quiet or not self.stderr.isatty(),
            leave=False,
        )
        rejected = 0

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        def report(item: ImportItem) -> None:
            nonlocal rejected
            if item.error is not None:
                rejected += 1
                if rejected <= MAX_ERRORS_SHOWN:
                    self._problem(bar, f"{path}:{item.position}: {item.error}")
            elif verbosity >= 2:
                self._problem(bar, f"{path}:{item.position}: skipped: {item.skipped}")

        try:
            items = iter_import_items(file, fmt=fmt, on_progress=None if bar.disable else progress)
            summary = posts_ingest_items(items, source=fmt, batch_size=batch_size, on_problem=report)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
        finally:
            bar.close()
        if rejected > MAX_ERRORS_SHOWN:
            self.stderr.write(f"{path}: {rejected - MAX_ERRORS_SHOWN} more rejected records not shown")
        self.stdout.write(summary.line())

    def _problem(self, bar: tqdm, message: str) -> None:
        if bar.disable:
            self.stderr.write(message)
        else:
            bar.write(message, file=sys.stderr)
