"""Exports of search results (CSV and JSON lines): rows, cells and the size cap.

Plain functions over ``SearchHit`` objects; the views stream what they yield.

- Authors appear only as ``author_pseudonym`` (a keyed hash): never the
  handle, never ``raw``.
- Every CSV cell that a spreadsheet would run as a formula (it starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return) gets a leading ``'``
  (OWASP "CSV injection"). ``csv_safe`` is the one home of that rule.
- At most ``MONITOR_EXPORT_MAX_ROWS`` rows (100,000 by default). A longer
  result is cut, and the file says so in its last line.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.conf import settings

# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DEFAULT_MAX_ROWS = 100_000

EXPORT_COLUMNS = (
    "rank", "post_id", "score", "platform", "external_id", "url", "created_at", "language",
    "author_pseudonym", "text", "cluster_id", "cluster_size",
)


def export_max_rows() -> int:
    """The most rows one export holds (``MONITOR_EXPORT_MAX_ROWS``)."""
    return int(getattr(settings, "MONITOR_EXPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will show as text: formula-like values get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_row(hit) -> dict[str, Any]:
    """One search hit as an export row (pseudonymous: no handle, no raw payload)."""
    post = hit.post
    return {
        "rank": hit.rank,
        "post_id": post.pk,
        "score": hit.score,
        "platform": post.platform,
        "external_id": post.external_id,
        "url": post.url,
        "created_at": post.created_at.isoformat() if post.created_at else None,
        "language": post.language,
        "author_pseudonym": post.author_pseudonym,
        "text": post.text,
        "cluster_id": hit.cluster_id,
        "cluster_size": hit.cluster_size,
    }


def truncation_note(limit: int) -> str:
    return f"truncated: more than {limit} rows matched; this file holds the first {limit}. Narrow the filters."


class _Echo:
    """A file-like object whose ``write`` returns the line, for streaming ``csv.writer``."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[dict[str, Any]], *, truncated_at: int | None = None) -> Iterator[str]:
    """CSV text, line by line: the header, every row with formula-safe cells, then a truncation note if any."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        yield writer.writerow([csv_safe("" if row[c] is None else row[c]) for c in EXPORT_COLUMNS])
    if truncated_at is not None:
        yield writer.writerow([csv_safe("# " + truncation_note(truncated_at))])


def jsonl_lines(rows: Iterable[dict[str, Any]], *, truncated_at: int | None = None) -> Iterator[str]:
    """One JSON object a line; a last ``{"truncated": true, ...}`` line when the result was cut."""
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"
    if truncated_at is not None:
        yield json.dumps({"truncated": True, "limit": truncated_at, "note": truncation_note(truncated_at)}) + "\n"


def search_export_rows(*, query: str, mode: str, filters=None, like_post: int | None = None, chunk: int = 500):
    """The rows of a search's whole result set, capped; returns ``(rows iterator, truncated_at or None)``.

    The ranked ids are computed first (ids only, cap + 1 of them, so the cut is
    known before the first byte is sent); posts are then loaded ``chunk`` at a
    time while the response streams. Ranked (semantic, blended) results go at
    most ``MONITOR_SEARCH_MAX_RESULTS`` deep, as on screen; keyword and
    filter-only exports go up to the cap.
    """
    from monitor.search import search_hits, search_max_results, search_ranked

    limit = export_max_rows()
    unranked_or_keyword = like_post is None and (mode == "keyword" or not (query or "").strip())
    depth = limit + 1 if unranked_or_keyword else min(limit + 1, search_max_results())
    ranked = search_ranked(query=query, mode=mode, filters=filters, limit=depth, like_post=like_post)
    truncated_at = limit if len(ranked) > limit else None
    ranked = ranked[:limit]

    def rows() -> Iterator[dict[str, Any]]:
        for start in range(0, len(ranked), chunk):
            for hit in search_hits(
                ranked=ranked[start : start + chunk], query=query, first_rank=start + 1, highlight=False
            ):
                yield export_row(hit)

    return rows(), truncated_at
