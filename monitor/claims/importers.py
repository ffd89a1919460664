"""Reading fact-checks from files: schema.org ClaimReview JSON-LD and CSV.

Pure parsing, no database: ``iter_claim_records(path)`` yields, for each entry
in file order, either a ``ClaimRecord`` or a ``BadEntry`` that says where it
was and what is wrong, so an import can report it and go on.

JSON (``.json``, ``.jsonld``) may hold a single ClaimReview object, a list of
them, or an object with ``@graph`` (as fact-checkers embed it in their
pages); ``.jsonl`` holds one of those per line. Fields read:

- ``claimReviewed`` → text (required)
- ``reviewRating.alternateName`` → verdict through ``VERDICT_WORDS``; failing
  that ``ratingValue`` placed between ``worstRating`` and ``bestRating``
- ``url`` → review_url; ``datePublished`` → published_at; ``inLanguage`` →
  language; ``author`` (name) → publisher
- ``itemReviewed.datePublished`` → claimed_at; ``itemReviewed.author`` (name)
  → claim_author; ``itemReviewed.appearance``/``firstAppearance``/``url`` → url
- ``invented`` (not schema.org) marks Vigie's own seed examples

CSV: a header row with ``claim`` (or ``text``) and ``verdict`` required;
optional ``language, published_at, publisher, url, review_url, claim_author,
claimed_at, source_id, invented``. ``verdict`` is one of false, misleading,
true, unproven or any word ``VERDICT_WORDS`` knows ("Faux", "Trompeur").
"""
from __future__ import annotations

import csv
import hashlib
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

VERDICTS = ("false", "misleading", "true", "unproven")

# Rating words fact-checkers use (folded: lower case, no accents), French and English.
VERDICT_WORDS: dict[str, str] = {
    **{w: "false" for w in (
        "false", "faux", "fausse", "fake", "intox", "infox", "pants on fire", "incorrect", "fabricated",
        "fabrique", "invente", "wrong", "mostly false", "plutot faux", "archi faux", "completement faux",
        "infonde", "baseless", "hoax", "canular",
    )},
    **{w: "misleading" for w in (
        "misleading", "trompeur", "trompeuse", "partly false", "partially false", "half true", "mixture",
        "partiellement faux", "en partie faux", "missing context", "manque de contexte", "hors contexte",
        "out of context", "decontextualise", "exaggerated", "exagere", "altered", "manipule", "manipulated",
        "satire", "distorted", "deforme", "imprecis", "inexact", "mostly true but", "recycled", "recycle",
    )},
    **{w: "true" for w in ("true", "vrai", "vraie", "correct", "accurate", "mostly true", "plutot vrai", "exact")},
    **{w: "unproven" for w in (
        "unproven", "unverified", "non prouve", "non verifie", "invérifiable", "inverifiable", "unsupported",
        "no evidence", "pas de preuve", "sans preuve", "indetermine", "a verifier", "research in progress",
        "unproven claim", "douteux",
    )},
}


@dataclass(frozen=True)
class ClaimRecord:
    """One claim ready to store; ``position`` says where it came from ("item 3", "line 7")."""

    position: str
    source_id: str
    text: str
    verdict: str
    rating_label: str = ""
    language: str = ""
    published_at: datetime | None = None
    publisher: str = ""
    url: str = ""
    review_url: str = ""
    claim_author: str = ""
    claimed_at: datetime | None = None
    invented: bool = False


@dataclass(frozen=True)
class BadEntry:
    """An entry that cannot be imported, and why."""

    position: str
    reason: str


class ClaimFileError(ValueError):
    """The file as a whole cannot be read (not JSON, no header, unknown extension)."""


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFD", value.casefold())
    text = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(text.replace("-", " ").replace("_", " ").split())


def verdict_from_words(label: str) -> str | None:
    """A verdict for a rating word ("Faux", "Partly false"), or None when it says nothing known."""
    folded = _fold(label).strip(" .!")
    if folded in VERDICTS:
        return folded
    if folded in VERDICT_WORDS:
        return VERDICT_WORDS[folded]
    # Longer labels ("Faux : la vidéo date de 2019"): the longest known phrase they start with.
    for word in sorted(VERDICT_WORDS, key=len, reverse=True):
        if folded.startswith((word + " ", word + ":")):
            return VERDICT_WORDS[word]
    return None


def verdict_from_rating(value: Any, *, best: Any = None, worst: Any = None) -> str | None:
    """A verdict from a numeric rating placed on its scale (schema.org defaults: 1 worst, 5 best)."""
    try:
        v = float(value)
        hi = float(best) if best not in (None, "") else 5.0
        lo = float(worst) if worst not in (None, "") else 1.0
    except (TypeError, ValueError):
        return None
    if hi <= lo or not lo <= v <= hi:
        return None
    position = (v - lo) / (hi - lo)
    if position <= 0.25:
        return "false"
    if position < 0.75:
        return "misleading"
    return "true"


def _name(value: Any) -> str:
    """A schema.org Person/Organization (or a list of them, or a plain string) as one name."""
    if isinstance(value, list):
        return ", ".join(n for n in (_name(v) for v in value) if n)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("alternateName") or value.get("url") or "").strip()
    if isinstance(value, str):
        return value.strip()
    return ""


def _date(value: Any, *, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"{field} is not a date: {value!r}")
    text = value.strip()
    parsed = parse_datetime(text)
    if parsed is None:
        day = parse_date(text[:10]) if len(text) >= 10 else None
        if day is None:
            raise ValueError(f"{field} is not an ISO date: {value!r}")
        parsed = datetime(day.year, day.month, day.day)
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, UTC)
    return parsed


def _language(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("alternateName") or value.get("name") or ""
    text = str(value or "").strip().lower()
    names = {"french": "fr", "francais": "fr", "français": "fr", "english": "en", "anglais": "en"}
    text = names.get(text, text)
    return text.split("-")[0][:8]


def _appearance_url(item: dict[str, Any]) -> str:
    for key in ("appearance", "firstAppearance"):
        value = item.get(key)
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, dict) and v.get("url"):
                return str(v["url"])
            if isinstance(v, str) and v.startswith("http"):
                return v
    url = item.get("url") or item.get("sameAs")
    return str(url) if isinstance(url, str) else ""


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in ("", "0", "false", "no", "non"):
        return False
    if text in ("1", "true", "yes", "oui"):
        return True
    raise ValueError(f"invented is not a boolean: {value!r}")


def source_key(*, review_url: str, publisher: str, text: str) -> str:
    """The key that makes an import idempotent: the review's URL, else a hash of publisher + claim."""
    if review_url:
        return f"url:{review_url.strip()}"[:255]
    digest = hashlib.sha256(f"{_fold(publisher)}\n{_fold(text)}".encode()).hexdigest()
    return f"sha256:{digest}"


def claim_review_record(data: Any, *, position: str) -> ClaimRecord:
    """One ClaimReview object as a ``ClaimRecord``; ValueError says what is wrong with it."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a ClaimReview object, got {type(data).__name__}")
    kind = data.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    if kind is not None and "ClaimReview" not in kinds:
        raise ValueError(f"@type is {kind!r}, not ClaimReview")
    text = data.get("claimReviewed")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("claimReviewed is missing or empty")
    rating = data.get("reviewRating")
    if isinstance(rating, list):
        rating = rating[0] if rating else None
    if not isinstance(rating, dict):
        raise ValueError("reviewRating is missing")
    label = str(rating.get("alternateName") or rating.get("name") or "").strip()
    verdict = verdict_from_words(label) if label else None
    if verdict is None:
        verdict = verdict_from_rating(
            rating.get("ratingValue"), best=rating.get("bestRating"), worst=rating.get("worstRating")
        )
    if verdict is None:
        raise ValueError(f"reviewRating has no verdict Vigie knows (alternateName {label!r}, "
                         f"ratingValue {rating.get('ratingValue')!r})")
    item = data.get("itemReviewed") if isinstance(data.get("itemReviewed"), dict) else {}
    review_url = str(data.get("url") or "").strip()
    publisher = _name(data.get("author")) or _name(data.get("publisher"))
    return ClaimRecord(
        position=position,
        source_id=source_key(review_url=review_url, publisher=publisher, text=text),
        text=text.strip(),
        verdict=verdict,
        rating_label=label[:128],
        language=_language(data.get("inLanguage") or item.get("inLanguage")),
        published_at=_date(data.get("datePublished"), field="datePublished"),
        publisher=publisher[:255],
        url=_appearance_url(item)[:2048],
        review_url=review_url[:2048],
        claim_author=_name(item.get("author"))[:255],
        claimed_at=_date(item.get("datePublished"), field="itemReviewed.datePublished"),
        invented=_truthy(data.get("invented")),
    )


def _json_objects(document: Any, *, prefix: str) -> Iterator[tuple[str, Any]]:
    """(position, object) for a single object, a list, or an object with @graph."""
    if isinstance(document, dict) and isinstance(document.get("@graph"), list):
        for i, obj in enumerate(document["@graph"], start=1):
            yield f"{prefix}@graph item {i}", obj
    elif isinstance(document, list):
        for i, obj in enumerate(document, start=1):
            if isinstance(obj, dict) and isinstance(obj.get("@graph"), list):
                yield from _json_objects(obj, prefix=f"{prefix}item {i} ")
            else:
                yield f"{prefix}item {i}", obj
    else:
        yield f"{prefix}item 1" if prefix else "document", document


def _records(objects: Iterator[tuple[str, Any]]) -> Iterator[ClaimRecord | BadEntry]:
    for position, obj in objects:
        try:
            yield claim_review_record(obj, position=position)
        except ValueError as exc:
            yield BadEntry(position, str(exc))


def _csv_records(path: Path) -> Iterator[ClaimRecord | BadEntry]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if not ({"claim", "text"} & set(header)) or "verdict" not in header:
            raise ClaimFileError(f"{path}: the CSV header needs claim (or text) and verdict; got {header}")
        reader.fieldnames = header
        for row in reader:
            position = f"line {reader.line_num}"
            try:
                yield _csv_record(row, position=position)
            except ValueError as exc:
                yield BadEntry(position, str(exc))


def _csv_record(row: dict[str, Any], *, position: str) -> ClaimRecord:
    if None in row:
        raise ValueError("more cells than header columns")
    cell = {k: (v or "").strip() for k, v in row.items()}
    text = cell.get("claim") or cell.get("text") or ""
    if not text:
        raise ValueError("claim is empty")
    verdict = verdict_from_words(cell.get("verdict", ""))
    if verdict is None:
        raise ValueError(f"unknown verdict {cell.get('verdict')!r}")
    review_url = cell.get("review_url", "")
    publisher = cell.get("publisher", "")
    return ClaimRecord(
        position=position,
        source_id=(cell.get("source_id") or source_key(review_url=review_url, publisher=publisher, text=text))[:255],
        text=text,
        verdict=verdict,
        rating_label=cell.get("verdict", "")[:128],
        language=_language(cell.get("language", "")),
        published_at=_date(cell.get("published_at"), field="published_at"),
        publisher=publisher[:255],
        url=cell.get("url", "")[:2048],
        review_url=review_url[:2048],
        claim_author=cell.get("claim_author", "")[:255],
        claimed_at=_date(cell.get("claimed_at"), field="claimed_at"),
        invented=_truthy(cell.get("invented")),
    )


def iter_claim_records(path: Path) -> Iterator[ClaimRecord | BadEntry]:
    """Every entry of a ClaimReview JSON/JSON-LD/JSONL or CSV file, good or bad, in file order."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from _csv_records(path)
    elif suffix in (".json", ".jsonld"):
        try:
            document = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ClaimFileError(f"{path}: not valid JSON: {exc}") from exc
        yield from _records(_json_objects(document, prefix=""))
    elif suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8-sig") as handle:
            for n, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    document = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield BadEntry(f"line {n}", f"not valid JSON: {exc.msg}")
                    continue
                yield from _records(_json_objects(document, prefix=f"line {n} "))
    else:
        raise ClaimFileError(f"{path}: unknown extension {suffix!r}; use .json, .jsonld, .jsonl or .csv")
