"""python manage.py detect --input IN.jsonl --output OUT.jsonl — run the detector on a file of posts.

Input: one JSON object per line, ``{"id": ..., "text": ...}`` (an optional
``"language"`` is used as given). Output: one line per input line, in the same
order: ``{"id", "flagged", "community", "categories", "score", "language",
"evidence"}``, the community being the highest-scoring one. ``-`` means
stdin/stdout. No database and no services: the posts are read, embedded and
detected in batches inside this process, so any number of lines fits in memory.
A line that is not a JSON object with a string ``text`` still gets its output
line, unflagged, with an ``error``.
"""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager

from django.core.management.base import BaseCommand, CommandError

BATCH = 512


@contextmanager
def _open(path: str, mode: str):
    if path == "-":
        yield sys.stdin if "r" in mode else sys.stdout
        return
    try:
        handle = open(path, mode, encoding="utf-8", newline="\n" if "w" in mode else None)  # noqa: SIM115
    except OSError as exc:
        raise CommandError(f"cannot open {path}: {exc.strerror or exc}") from None
    with handle:
        yield handle


def result_record(*, post_id, text: str, language: str, detections: list, threshold: float) -> dict:
    """The output line for one post: its best detection, or an unflagged record."""
    best = max(detections, key=lambda d: d.score, default=None)
    return {
        "id": post_id,
        "flagged": bool(best is not None and best.score >= threshold),
        "community": best.community if best else None,
        "categories": list(best.categories) if best else [],
        "score": round(float(best.score), 4) if best else 0.0,
        "language": language,
        "evidence": list(best.evidence) if best else [],
    }


class Command(BaseCommand):
    help = (
        "Detect hostile speech against protected communities in a JSONL file of {\"id\", \"text\"} "
        "lines; write one JSON line per input line, in order. '-' is stdin/stdout."
    )

    def add_arguments(self, parser):
        parser.add_argument("--input", required=True, help="JSONL file, or - for stdin")
        parser.add_argument("--output", required=True, help="JSONL file, or - for stdout")
        parser.add_argument("--batch-size", type=int, default=BATCH, help=f"posts per batch (default {BATCH})")

    def handle(self, *args, input: str, output: str, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        from monitor.detection import detect_texts, detection_threshold

        threshold = detection_threshold()
        counts = {"lines": 0, "flagged": 0, "errors": 0}
        with _open(input, "r") as source, _open(output, "w") as sink:
            batch: list[tuple[int, object, str | None, str, str | None]] = []

            def flush() -> None:
                self._flush(batch, sink, detect_texts, threshold, counts)
                batch.clear()

            for number, line in enumerate(source, start=1):
                if not line.strip():
                    continue
                batch.append((number, *_parse(line)))
                if len(batch) >= batch_size:
                    flush()
            flush()
            sink.flush()
        self.stderr.write(f"detect: {counts['lines']} posts, {counts['flagged']} flagged, {counts['errors']} errors")

    def _flush(self, batch, sink, detect_texts, threshold, counts) -> None:
        from monitor.detection.language import language_detect

        if not batch:
            return
        good = [(k, item) for k, item in enumerate(batch) if item[3] is None]
        texts = [item[2] for _, item in good]
        languages = [item[4] or language_detect(item[2]) for _, item in good]
        results = dict(zip((k for k, _ in good), zip(languages, detect_texts(texts, languages=languages))))
        for k, (number, post_id, text, error, _lang) in enumerate(batch):
            counts["lines"] += 1
            if error is not None:
                counts["errors"] += 1
                self.stderr.write(f"line {number}: {error}")
                record = result_record(post_id=post_id, text="", language="other", detections=[], threshold=threshold)
                record["error"] = error
            else:
                language, detections = results[k]
                record = result_record(post_id=post_id, text=text, language=language, detections=detections,
                                       threshold=threshold)
                counts["flagged"] += record["flagged"]
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")


def _parse(line: str) -> tuple[object, str | None, str | None, str | None]:
    """(id, text, error, language) of one input line."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"not JSON ({exc.msg})", None
    if not isinstance(obj, dict):
        return None, None, "not a JSON object", None
    post_id, text = obj.get("id"), obj.get("text")
    if not isinstance(text, str):
        return post_id, None, "no string 'text'", None
    language = obj.get("language") if isinstance(obj.get("language"), str) and obj.get("language") else None
    return post_id, text, None, language
