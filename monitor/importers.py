"""Reading export files into validated post records, one item per thing in the file.

Four formats, all ending in ``record_from_dict`` (monitor/ingest.py):

- ``jsonl``: Vigie's own schema, one JSON object per line.
- ``csv``: Vigie's own schema as columns; a header row is required.
- ``telegram``: a Telegram Desktop JSON export (one chat, or the whole account).
- ``x``: X API v2 responses as twarc2 saves them (one page per line), a single
  page, or streamed tweets (one tweet per line).

``iter_import_items`` yields an ``ImportItem`` for every record, reject and skip,
with a position a person can find in the file ("line 17", "message 12 in chat
'Name'"). A bad line never stops an import; only a file that cannot be read at
all raises ``ImportFileError``. ``posts_ingest_items`` stores the records in
batches and counts what happened.

Line-based formats are read in binary and decoded line by line, so a file of any
size streams and a stray invalid UTF-8 byte costs one line, not the import.
"""
from __future__ import annotations

import codecs
import csv
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from monitor.ingest import KNOWN_FIELDS, PostRecord, posts_ingest, record_from_dict

FORMATS = ("jsonl", "csv", "telegram", "x")
CSV_REQUIRED_COLUMNS = ("platform", "id", "text")
# How much of a file the sniffer looks at: enough for the first lines of any
# format, small enough to be instant on a multi-gigabyte export.
SNIFF_BYTES = 1024 * 1024
SNIFF_LINES = 50
# A single pretty-printed X page is loaded whole; anything bigger is surely JSON lines.
MAX_SINGLE_DOCUMENT_BYTES = 256 * 1024 * 1024
# X's pseudo-languages: und (undetermined), zxx (no text), qme (media only), qst (very
# short), qam (mentions only), qct (cashtags only), qht (hashtags only). None is a language.
X_NO_LANGUAGE = {"und", "zxx", "qme", "qst", "qam", "qct", "qht"}
X_ENVELOPE_KEYS = {"data", "includes", "meta", "errors", "matching_rules", "__twarc"}
TELEGRAM_EXPORT_KEYS = {"personal_information", "profile_pictures", "contacts", "frequent_contacts", "left_chats"}

ProgressCallback = Callable[[int, int], None]


class ImportFileError(Exception):
    """The file as a whole cannot be imported (unreadable, unknown format, bad CSV header)."""


@dataclass(frozen=True)
class ImportItem:
    """One thing found in an import file: exactly one of record, error or skipped is set."""

    position: str
    record: PostRecord | None = None
    error: str | None = None
    skipped: str | None = None

    def __post_init__(self) -> None:
        if sum(value is not None for value in (self.record, self.error, self.skipped)) != 1:
            raise ValueError("an ImportItem has exactly one of record, error or skipped")


@dataclass
class ImportSummary:
    """Counts of one import; ``line()`` is the summary the ingest command prints."""

    new: int = 0
    duplicate: int = 0
    rejected: int = 0
    skipped: int = 0

    def line(self) -> str:
        return f"new: {self.new}, duplicate: {self.duplicate}, rejected: {self.rejected}, skipped: {self.skipped}"


# --- detection -------------------------------------------------------------------


def detect_format(path: Path) -> str:
    """Guess the format of an import file: "jsonl", "csv", "telegram" or "x".

    1. A ``.csv`` extension means CSV.
    2. Otherwise the first lines are read as JSON lines; the first object that says
       what it is decides (Telegram keys, an X ``data`` envelope, a Vigie record).
    3. If no line is a JSON object on its own (a pretty-printed document), the keys
       of the outermost object are read from the start of the file.

    Raises ``ImportFileError`` when the file cannot be read or the format cannot be told.
    """
    if path.suffix.lower() == ".csv":
        return "csv"
    try:
        with path.open("rb") as handle:
            prefix = handle.read(SNIFF_BYTES)
            whole = not handle.read(1)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = prefix.decode("utf-8", "replace").lstrip("\ufeff")
    if not text.strip():
        raise ImportFileError(f"{path} is empty")

    lines = text.split("\n")
    if not whole:
        lines = lines[:-1]  # the last one may be cut off by the prefix
    fallback = None
    seen = 0
    for line in lines:
        if not line.strip():
            continue
        seen += 1
        if seen > SNIFF_LINES:
            break
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            if seen == 1 and line.strip() in ("{", "["):
                break  # the start of a pretty-printed document
            continue
        kind = _classify(value)
        if kind == "undecided":
            fallback = "x"
        elif kind is not None:
            return kind
    if fallback:
        return fallback

    keys = _top_level_keys(text)
    if "messages" in keys or "chats" in keys or keys & TELEGRAM_EXPORT_KEYS:
        return "telegram"
    if "data" in keys or (keys and keys <= X_ENVELOPE_KEYS):
        return "x"
    if text.lstrip()[:1] in ("{", "["):
        raise ImportFileError(
            f"cannot tell the format of {path}: a JSON document that is neither a Telegram export "
            "nor an X API page; Vigie's own schema is JSON lines (one object per line)"
        )
    raise ImportFileError(
        f"cannot tell the format of {path}: it is not JSON; name a CSV file *.csv or pass --format"
    )


def _classify(value: Any) -> str | None:
    """What one parsed JSON line says about its file: a format, "undecided", or None."""
    if not isinstance(value, dict) or not value:
        return None
    if isinstance(value.get("messages"), list) or isinstance(value.get("chats"), dict):
        return "telegram"
    if "platform" in value:
        return "jsonl"
    data = value.get("data")
    if _tweet_like(data) or (isinstance(data, list) and any(_tweet_like(t) for t in data)):
        return "x"
    if _tweet_like(value) and ("author_id" in value or "edit_history_tweet_ids" in value or "__twarc" in value):
        return "x"  # one tweet per line, as ``twarc2 flatten`` writes
    if set(value) <= X_ENVELOPE_KEYS:
        return "undecided"  # an X page with no tweets (errors only, empty result)
    return "jsonl"


def _tweet_like(value: Any) -> bool:
    return isinstance(value, dict) and "id" in value and "text" in value


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')


def _top_level_keys(text: str) -> set[str]:
    """Keys of the outermost JSON object, as far as ``text`` goes (a sniff, not a parser)."""
    keys: set[str] = set()
    depth = 0
    candidate: str | None = None
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        if token.startswith('"'):
            candidate = token[1:-1] if depth == 1 else None
            continue
        if token == ":" and candidate is not None:
            keys.add(candidate)
        elif token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
            if depth <= 0:
                break  # end of the first document
        candidate = None
    return keys


# --- reading ---------------------------------------------------------------------


def iter_import_items(
    path: Path,
    *,
    fmt: str,
    on_progress: ProgressCallback | None = None,
) -> Iterator[ImportItem]:
    """Yield one ``ImportItem`` per record, reject or skipped entry of an import file.

    ``fmt`` is one of ``FORMATS``. ``on_progress(done, total)`` is called as the file
    is read: in bytes for JSONL, CSV and X, in messages for Telegram.
    Raises ``ImportFileError`` (or ``OSError``) only when the whole file is unusable.
    """
    readers = {"jsonl": _jsonl_items, "csv": _csv_items, "telegram": _telegram_items, "x": _x_items}
    if fmt not in readers:
        raise ImportFileError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return readers[fmt](path, on_progress=on_progress)


def _validate(position: str, data: Any, *, raw: dict[str, Any] | None = None) -> ImportItem:
    try:
        return ImportItem(position, record=record_from_dict(data, raw=raw))
    except (ValueError, OverflowError) as exc:
        # RecordError is a ValueError; OverflowError is an infinite count (JSON 1e999)
        # that int() refuses. Either way it is this record's fault, not the import's.
        return ImportItem(position, error=str(exc))


def _numbered_lines(
    handle: IO[bytes], *, on_progress: ProgressCallback | None
) -> Iterator[tuple[int, bytes]]:
    """Physical lines of a binary file, numbered from 1, with progress in bytes."""
    total = os.fstat(handle.fileno()).st_size
    done = 0
    for number, line in enumerate(handle, start=1):
        done += len(line)
        if on_progress is not None:
            on_progress(done, total)
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        yield number, line


def _decode_json_line(line: bytes) -> Any:
    """Parse one JSON line; raises ``ValueError`` with a message fit for a person."""
    try:
        # Without its line ending, so the decoder's column points into this line.
        text = line.rstrip(b"\r\n").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not valid UTF-8 (byte 0x{line[exc.start]:02x} at byte {exc.start + 1})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # The decoder's own "line 1 column 45" would contradict our line number.
        raise ValueError(f"malformed JSON at column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise ValueError("malformed JSON: nested too deeply") from None


def _jsonl_items(path: Path, *, on_progress: ProgressCallback | None) -> Iterator[ImportItem]:
    with path.open("rb") as handle:
        for number, line in _numbered_lines(handle, on_progress=on_progress):
            if not line.strip():
                continue
            position = f"line {number}"
            try:
                value = _decode_json_line(line)
            except ValueError as exc:
                yield ImportItem(position, error=str(exc))
                continue
            yield _validate(position, value)


def _csv_items(path: Path, *, on_progress: ProgressCallback | None) -> Iterator[ImportItem]:
    with path.open("rb") as handle:
        # surrogateescape keeps invalid bytes as lone surrogates instead of failing the
        # whole file; they cannot be quotes, commas or newlines, so parsing is unaffected,
        # and the row holding them is reported below.
        lines = (
            line.decode("utf-8", "surrogateescape")
            for _, line in _numbered_lines(handle, on_progress=on_progress)
        )
        reader = csv.reader(lines)
        try:
            header_row = next(reader, None)
        except csv.Error as exc:
            raise ImportFileError(f"{path}: the header row is not valid CSV: {exc}") from None
        header = _csv_header(path, header_row)
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield ImportItem(f"line {start}", error=f"not valid CSV: {exc}")
                if reader.line_num < start:
                    return  # the reader made no progress; stop rather than spin
                continue
            if not row or row == [""]:
                continue  # a blank line
            position = f"line {start}"
            if len(row) > len(header):
                yield ImportItem(position, error=f"the row has {len(row)} cells; the header has {len(header)}")
                continue
            data = dict(zip(header, row + [""] * (len(header) - len(row))))
            bad = _undecodable_cell(data)
            if bad is not None:
                yield ImportItem(position, error=bad)
                continue
            yield _validate(position, data)


def _csv_header(path: Path, row: list[str] | None) -> list[str]:
    """Column names, with Vigie's own fields matched case-insensitively."""
    if not row:
        raise ImportFileError(f"{path}: a header row is required (columns: {', '.join(CSV_REQUIRED_COLUMNS)}, ...)")
    if _undecodable_cell({"header": ",".join(row)}) is not None:
        raise ImportFileError(f"{path}: the header row is not valid UTF-8")
    header = []
    for name in row:
        name = name.strip()
        header.append(name.lower() if name.lower() in KNOWN_FIELDS else name)
    missing = [column for column in CSV_REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            f"{path}: the header has no {', '.join(repr(c) for c in missing)} column "
            f"(found: {', '.join(repr(c) for c in header)})"
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise ImportFileError(f"{path}: the header names {', '.join(repr(c) for c in repeated)} more than once")
    return header


def _undecodable_cell(data: dict[str, str]) -> str | None:
    """Report the first byte that was not UTF-8 (kept as a lone surrogate by surrogateescape)."""
    for column, value in data.items():
        for char in value:
            if "\udc80" <= char <= "\udcff":
                return f"not valid UTF-8 (byte 0x{ord(char) - 0xDC00:02x} in column '{column}')"
    return None


# --- Telegram Desktop ------------------------------------------------------------


def _telegram_items(path: Path, *, on_progress: ProgressCallback | None) -> Iterator[ImportItem]:
    # An export is one JSON document; Telegram Desktop writes it in one piece, so it
    # is read in one piece (a streaming parser would be a dependency for little gain).
    try:
        with path.open("rb") as handle:
            document = json.load(handle)
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"{path} is not valid UTF-8 (at byte {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise ImportFileError(f"{path} is not a Telegram export: nested too deeply") from None
    chats = _telegram_chats(path, document)
    total = sum(len(chat["messages"]) for chat in chats if isinstance(chat.get("messages"), list))
    done = 0
    for chat in chats:
        messages = chat.get("messages")
        if not isinstance(messages, list):
            continue
        for message in messages:
            done += 1
            if on_progress is not None:
                on_progress(done, total)
            yield _telegram_item(chat, message)


def _telegram_chats(path: Path, document: Any) -> list[dict[str, Any]]:
    """The chats of a single-chat export or of a full account export (left chats too)."""
    if isinstance(document, dict) and isinstance(document.get("messages"), list):
        return [document]
    if isinstance(document, dict) and isinstance(document.get("chats"), dict):
        chats: list[dict[str, Any]] = []
        for section in ("chats", "left_chats"):
            listing = document.get(section)
            if isinstance(listing, dict) and isinstance(listing.get("list"), list):
                chats.extend(chat for chat in listing["list"] if isinstance(chat, dict))
        return chats
    raise ImportFileError(f"{path} is not a Telegram Desktop export (no 'messages' or 'chats' at the top level)")


def _telegram_item(chat: dict[str, Any], message: Any) -> ImportItem:
    chat_id = chat.get("id")
    chat_name = chat.get("name") or (f"#{chat_id}" if chat_id is not None else "?")
    if not isinstance(message, dict):
        return ImportItem(f"a message in chat '{chat_name}'", error="the message is not a JSON object")
    message_id = message.get("id")
    position = f"message {message_id} in chat '{chat_name}'"
    if message_id is None or isinstance(message_id, (dict, list)):
        return ImportItem(position, error="the message has no id")
    if chat_id is None or isinstance(chat_id, (dict, list)):
        return ImportItem(position, error="the chat has no id")
    kind = message.get("type")
    if kind != "message":
        action = message.get("action")
        return ImportItem(position, skipped=f"{kind or 'untyped'} message" + (f" ({action})" if action else ""))
    text = _telegram_text(message.get("text"))
    if not text.strip():
        media = message.get("media_type") or ("photo" if "photo" in message else None)
        return ImportItem(position, skipped="no text" + (f" ({media})" if media else ""))
    data = {
        "platform": "telegram",
        # Message ids restart in every chat; only the pair is unique.
        "id": f"{chat_id}:{message_id}",
        "text": text,
        "author_id": message.get("from_id") or "",
        "author_handle": message.get("from") or "",
        # date_unixtime is the true instant. Exports older than 2021 lack it; their
        # "date" is the exporting computer's local time, read as UTC (the Sahel's
        # zones are UTC and UTC+1, so at worst an hour off).
        "created_at": message.get("date_unixtime") or message.get("date"),
    }
    return _validate(position, data, raw={**message, "chat_id": chat_id, "chat_name": chat.get("name")})


def _telegram_text(value: Any) -> str:
    """Plain text of a message: a string, or a list of strings and entities {"type", "text"}."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for part in value:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return ""


# --- X API v2 --------------------------------------------------------------------


def _x_items(path: Path, *, on_progress: ProgressCallback | None) -> Iterator[ImportItem]:
    document = _x_single_document(path)
    if document is not None:
        if on_progress is not None:
            size = path.stat().st_size
            on_progress(size, size)  # read whole already
        pages = document if isinstance(document, list) else [document]
        for number, page in enumerate(pages, start=1):
            yield from _x_page_items(page, where=f"page {number}" if isinstance(document, list) else "")
        return
    with path.open("rb") as handle:
        for number, line in _numbered_lines(handle, on_progress=on_progress):
            if not line.strip():
                continue
            try:
                page = _decode_json_line(line)
            except ValueError as exc:
                yield ImportItem(f"line {number}", error=str(exc))
                continue
            yield from _x_page_items(page, where=f"line {number}")


def _x_single_document(path: Path) -> Any:
    """The whole file as one JSON value if it is a pretty-printed page (or list of pages), else None.

    Raises ``ImportFileError`` for a pretty-printed document that does not parse.
    """
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                first = line
                break
        else:
            return None
    # A pretty-printed document opens with a bracket alone on its line; anything else
    # is JSON lines (perhaps with a broken first line), and is never read whole.
    if first.strip().lstrip(codecs.BOM_UTF8) not in (b"{", b"[") or path.stat().st_size > MAX_SINGLE_DOCUMENT_BYTES:
        return None
    try:
        with path.open("rb") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        raise ImportFileError(f"{path} is not valid JSON: {exc}") from None


def _x_page_items(page: Any, *, where: str) -> Iterator[ImportItem]:
    """Items of one X API v2 response: a page ("data" list), a streamed tweet or a flattened one."""
    prefix = f"{where}, " if where else ""
    if not isinstance(page, dict):
        yield ImportItem(where or "document", error=f"expected a JSON object, got {type(page).__name__}")
        return
    if "data" in page:
        data = page["data"]
        tweets = data if isinstance(data, list) else [data]
        includes = page.get("includes") if isinstance(page.get("includes"), dict) else {}
        users = includes.get("users") if isinstance(includes.get("users"), list) else []
    elif _tweet_like(page):
        # twarc2 flatten: the tweet itself, its author expanded under "author".
        tweets = [page]
        users = [page["author"]] if isinstance(page.get("author"), dict) else []
    else:
        tweets, users = [], []
    users_by_id = {str(u.get("id")): u for u in users if isinstance(u, dict)}
    for index, tweet in enumerate(tweets, start=1):
        tweet_id = tweet.get("id") if isinstance(tweet, dict) else None
        position = f"{prefix}tweet {tweet_id}" if tweet_id is not None else f"{prefix}tweet #{index}"
        if not isinstance(tweet, dict):
            yield ImportItem(position, error=f"a tweet must be a JSON object, got {type(tweet).__name__}")
            continue
        yield _validate(position, _x_record(tweet, users_by_id), raw=tweet)

    # API errors (deleted or protected tweets, rate limits) are about the source, not
    # the file: they are reported as skipped, with X's own words.
    errors = page.get("errors")
    for error in errors if isinstance(errors, list) else []:
        resource = (error.get("resource_id") or error.get("value")) if isinstance(error, dict) else None
        position = f"{prefix}tweet {resource}" if resource else (where or "document")
        yield ImportItem(position, skipped=f"X API error: {_x_error_text(error)}")
    if not tweets and not (isinstance(errors, list) and errors):
        if isinstance(page.get("meta"), dict) and page["meta"].get("result_count") == 0:
            return  # an empty result page: nothing was there
        keys = ", ".join(sorted(map(str, page))[:6])
        yield ImportItem(where or "document", skipped=f"no tweets here (keys: {keys})")


def _x_error_text(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    title = error.get("title") or error.get("type") or "error"
    detail = error.get("detail") or error.get("message") or ""
    return f"{title}: {detail}" if detail else str(title)


def _x_record(tweet: dict[str, Any], users_by_id: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Map one X API v2 tweet to Vigie's schema."""
    author_id = tweet.get("author_id")
    user = users_by_id.get(str(author_id), {}) if author_id is not None else {}
    username = user.get("username") if isinstance(user.get("username"), str) else ""
    user_metrics = user.get("public_metrics") if isinstance(user.get("public_metrics"), dict) else {}
    metrics = tweet.get("public_metrics") if isinstance(tweet.get("public_metrics"), dict) else {}
    text = tweet.get("text")
    note = tweet.get("note_tweet")
    # Posts longer than 280 characters arrive truncated in "text"; the full text is the note.
    if isinstance(note, dict) and isinstance(note.get("text"), str) and note["text"].strip():
        text = note["text"]
    if isinstance(text, str):
        # X escapes exactly these three in tweet text; undo it (ampersand last) so the
        # stored text is what the author typed. The template escapes it again for display.
        text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    language = tweet.get("lang") if isinstance(tweet.get("lang"), str) else ""
    tweet_id = tweet.get("id")
    shares = _add_counts(metrics.get("retweet_count"), metrics.get("quote_count"))
    return {
        "platform": "x",
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "author_handle": username,
        "author_followers": user_metrics.get("followers_count"),
        "created_at": tweet.get("created_at"),
        "language": "" if language.lower() in X_NO_LANGUAGE else language,
        "likes": metrics.get("like_count"),
        "shares": shares,
        "replies": metrics.get("reply_count"),
        "views": metrics.get("impression_count"),
        "url": _x_url(tweet_id, username),
    }


def _add_counts(*values: Any) -> Any:
    """Sum counts that are ints; anything else passes through for validation to reject."""
    present = [v for v in values if v is not None]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return sum(present) if present else None
    return next(v for v in present if not (isinstance(v, int) and not isinstance(v, bool)))


def _x_url(tweet_id: Any, username: str) -> str:
    if not isinstance(tweet_id, (str, int)) or isinstance(tweet_id, bool) or not str(tweet_id).isdigit():
        return ""
    if username and re.fullmatch(r"\w{1,50}", username):
        return f"https://x.com/{username}/status/{tweet_id}"
    return f"https://x.com/i/web/status/{tweet_id}"


# --- storing ---------------------------------------------------------------------


def posts_ingest_items(
    items: Iterable[ImportItem],
    *,
    source: str,
    batch_size: int = 500,
    on_problem: Callable[[ImportItem], None] | None = None,
    on_new: Callable[[list[int]], None] | None = None,
) -> ImportSummary:
    """Store the records among ``items`` in batches and count new, duplicate, rejected and skipped.

    Each batch is one ``posts_ingest`` call (one transaction), so an interrupted import
    keeps what it stored and a re-run adds only the rest. ``on_problem`` sees every
    rejected or skipped item as it passes, for reporting. ``on_new`` is passed on to
    ``posts_ingest`` (default: enqueue the pipeline after each batch commits).
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    summary = ImportSummary()
    batch: list[PostRecord] = []

    def flush() -> None:
        result = posts_ingest(batch, source=source, on_new=on_new)
        summary.new += result.new
        summary.duplicate += result.duplicates
        batch.clear()

    for item in items:
        if item.record is not None:
            batch.append(item.record)
            if len(batch) >= batch_size:
                flush()
            continue
        if item.error is not None:
            summary.rejected += 1
        else:
            summary.skipped += 1
        if on_problem is not None:
            on_problem(item)
    if batch:
        flush()
    return summary
