"""Turning records from the outside world into stored posts, exactly once.

Every source (file importers, the REST API) goes through the same two steps:

1. ``record_from_dict`` validates one record in Vigie's own schema and returns
   a ``PostRecord`` or raises ``RecordError`` with a message a person can act on.
2. ``posts_ingest`` stores a batch of records. The unique constraint on
   ``(platform, external_id)`` makes a repeated post a no-op, so re-running an
   import or re-sending an API batch never adds a row. Pipeline work is
   enqueued only after the transaction commits.

Vigie's schema (JSONL lines, CSV columns, API objects):

    platform (required)  short name: x, telegram, facebook, tiktok, web, ...
    id       (required)  the post's id on that platform
    text     (required)  the post's text
    author_id, author_handle, author_followers
    created_at           ISO 8601 (naive means UTC) or Unix seconds
    url, language, likes, shares, replies, views
"""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from monitor.models import Post

PLATFORM_RE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_ID_CHARS = 191
MAX_HANDLE_CHARS = 255
MAX_URL_CHARS = 2048
COUNT_FIELDS = ("likes", "shares", "replies", "views")
KNOWN_FIELDS = {
    "platform", "id", "text", "author_id", "author_handle", "author_followers",
    "created_at", "url", "language", "raw", *COUNT_FIELDS,
}


class RecordError(ValueError):
    """A record that cannot become a post; the message says why."""


@dataclass(frozen=True)
class PostRecord:
    """A validated post, ready to store."""

    platform: str
    external_id: str
    text: str
    author_id: str = ""
    author_handle: str = ""
    author_followers: int | None = None
    created_at: datetime | None = None
    url: str = ""
    language: str = ""
    likes: int = 0
    shares: int = 0
    replies: int = 0
    views: int = 0
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    """What one call to ``posts_ingest`` did."""

    new_ids: list[int] = field(default_factory=list)
    duplicates: int = 0

    @property
    def new(self) -> int:
        return len(self.new_ids)


def author_pseudonym(*, platform: str, author_id: str) -> str:
    """Keyed pseudonym of an author: stable for one deployment, unlinkable without the key."""
    if not author_id:
        return ""
    digest = hmac.new(
        settings.MONITOR_PSEUDONYM_KEY.encode("utf-8"),
        f"{platform}\x1f{author_id}".encode("utf-8"),
        hashlib.sha256,
    ).hexdigest()
    return f"a_{digest[:20]}"


def clean_text(value: str, *, what: str, max_chars: int) -> str:
    """Normalise hostile text: NFC, no NUL, no lone surrogates, bounded length."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RecordError(f"{what} is not valid Unicode (lone surrogate at position {exc.start})") from None
    # PostgreSQL cannot store NUL in text; it carries no meaning in a post.
    value = unicodedata.normalize("NFC", value.replace("\x00", ""))
    if len(value) > max_chars:
        raise RecordError(f"{what} has {len(value)} characters; the limit is {max_chars}")
    return value


def clean_raw(value: Any, *, depth: int = 0) -> Any:
    """Make an arbitrary JSON value storable: drop NUL, replace lone surrogates."""
    if depth > 64:
        raise RecordError("raw record is nested too deeply")
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {clean_raw(str(k), depth=depth + 1): clean_raw(v, depth=depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_raw(v, depth=depth + 1) for v in value]
    return value


def _string(data: dict[str, Any], key: str, *, required: bool = False, max_chars: int = 255) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise RecordError(f"missing required field '{key}'")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RecordError(f"field '{key}' must be a string, got {type(value).__name__}")
    text = clean_text(str(value), what=f"field '{key}'", max_chars=max_chars).strip()
    if required and not text:
        raise RecordError(f"field '{key}' is empty")
    return text


def _count(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError(f"field '{key}' must be a non-negative integer")
    if isinstance(value, str):
        value = value.strip().replace(",", "").replace("_", "")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise RecordError(f"field '{key}' must be a non-negative integer, got {value!r}") from None
    if number < 0 or number > 2**62:
        raise RecordError(f"field '{key}' is out of range: {number}")
    return number


def parse_timestamp(value: Any) -> datetime | None:
    """Parse ISO 8601 (naive means UTC) or Unix seconds into an aware UTC datetime."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RecordError("field 'created_at' must be a date")
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d{9,11}(\.\d+)?", value.strip())):
        try:
            return datetime.fromtimestamp(float(value), tz=dt_timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise RecordError(f"field 'created_at' is not a valid Unix time: {value!r}") from None
    if not isinstance(value, str):
        raise RecordError("field 'created_at' must be an ISO 8601 string or Unix seconds")
    text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value.strip()
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise RecordError(f"field 'created_at' is not an ISO 8601 date: {value!r}")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt_timezone.utc)
    return parsed.astimezone(dt_timezone.utc)


def record_from_dict(data: Any, *, raw: dict[str, Any] | None = None) -> PostRecord:
    """Validate one record in Vigie's schema. Raises ``RecordError`` with the reason.

    ``raw`` is the original record as the platform gave it (kept for audit);
    it defaults to ``data`` itself.
    """
    if not isinstance(data, dict):
        raise RecordError(f"a record must be a JSON object, got {type(data).__name__}")
    platform = _string(data, "platform", required=True, max_chars=32).lower()
    if not PLATFORM_RE.match(platform):
        raise RecordError(f"field 'platform' must be a short lowercase name, got {platform!r}")
    external_id = _string(data, "id", required=True, max_chars=MAX_ID_CHARS)
    text_value = data.get("text")
    if not isinstance(text_value, str):
        raise RecordError("missing required field 'text'" if text_value is None else "field 'text' must be a string")
    text = clean_text(text_value, what="field 'text'", max_chars=settings.MONITOR_MAX_TEXT_CHARS).strip()
    if not text:
        raise RecordError("field 'text' is empty")
    url = _string(data, "url", max_chars=MAX_URL_CHARS)
    if url and not re.match(r"^https?://", url, re.IGNORECASE):
        raise RecordError(f"field 'url' must be an http(s) URL, got {url[:80]!r}")
    language = _string(data, "language", max_chars=8).lower()
    counts = {key: _count(data, key) or 0 for key in COUNT_FIELDS}
    return PostRecord(
        platform=platform,
        external_id=external_id,
        text=text,
        author_id=_string(data, "author_id", max_chars=MAX_ID_CHARS),
        author_handle=_string(data, "author_handle", max_chars=MAX_HANDLE_CHARS),
        author_followers=_count(data, "author_followers"),
        created_at=parse_timestamp(data.get("created_at")),
        url=url,
        language=language,
        raw=clean_raw(raw if raw is not None else data),
        **counts,
    )


def _post_from_record(record: PostRecord, *, source: str, batch_id: str) -> Post:
    return Post(
        ingest_batch=batch_id,
        platform=record.platform,
        external_id=record.external_id,
        author_pseudonym=author_pseudonym(platform=record.platform, author_id=record.author_id or record.author_handle),
        author_handle=record.author_handle,
        author_followers=record.author_followers,
        text=record.text,
        language=record.language,
        created_at=record.created_at,
        url=record.url,
        likes=record.likes,
        shares=record.shares,
        replies=record.replies,
        views=record.views,
        raw=record.raw,
        source=source,
    )


def posts_ingest(
    records: Iterable[PostRecord],
    *,
    source: str,
    on_new: Callable[[list[int]], None] | None = None,
) -> IngestResult:
    """Store records that are not stored yet; return the new ids and the duplicate count.

    1. Drop repeats inside the batch (same platform and id).
    2. Insert with ``ignore_conflicts`` so a concurrent or repeated import is a no-op.
    3. Read back which rows this call created (by its ``ingest_batch`` marker), all in one
       transaction, and call ``on_new`` with their ids after commit.

    ``on_new`` defaults to enqueuing the pipeline; pass a no-op to store only.
    """
    unique: dict[tuple[str, str], PostRecord] = {}
    in_batch_duplicates = 0
    for record in records:
        key = (record.platform, record.external_id)
        if key in unique:
            in_batch_duplicates += 1
        else:
            unique[key] = record
    result = IngestResult(duplicates=in_batch_duplicates)
    if not unique:
        return result

    batch_id = uuid.uuid4().hex
    with transaction.atomic():
        existing = _existing_keys(list(unique))
        fresh = [r for key, r in unique.items() if key not in existing]
        result.duplicates += len(unique) - len(fresh)
        if fresh:
            Post.objects.bulk_create(
                [_post_from_record(r, source=source, batch_id=batch_id) for r in fresh],
                ignore_conflicts=True,
                batch_size=500,
            )
            # ignore_conflicts gives no ids back: read them, and count rows a concurrent
            # writer inserted between our check and our insert as duplicates.
            stored = _ids_for_keys([(r.platform, r.external_id) for r in fresh], batch_id=batch_id)
            result.new_ids = sorted(stored)
            result.duplicates += len(fresh) - len(stored)
        if result.new_ids:
            ids = list(result.new_ids)
            callback = on_new or _enqueue_pipeline
            transaction.on_commit(lambda: callback(ids))
    return result


def _rows_for_keys(keys: list[tuple[str, str]]):
    """Query sets, in chunks, for the posts with these (platform, external_id) keys."""
    by_platform: dict[str, list[str]] = {}
    for platform, external_id in keys:
        by_platform.setdefault(platform, []).append(external_id)
    for platform, ids in by_platform.items():
        for start in range(0, len(ids), 500):
            yield Post.objects.filter(platform=platform, external_id__in=ids[start : start + 500])


def _existing_keys(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
    return {row for qs in _rows_for_keys(keys) for row in qs.values_list("platform", "external_id")}


def _ids_for_keys(keys: list[tuple[str, str]], *, batch_id: str) -> list[int]:
    """Ids of the rows with these keys that this call's insert created."""
    return [pk for qs in _rows_for_keys(keys) for pk in qs.filter(ingest_batch=batch_id).values_list("id", flat=True)]


def _enqueue_pipeline(ids: list[int]) -> None:
    # Imported here: workers depends on monitor, not the other way round at import time.
    from workers.tasks import enqueue_posts_process

    enqueue_posts_process(ids)
