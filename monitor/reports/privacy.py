"""The small-count rule of reports, and pseudonyms and text safe to publish.

Any count from 1 to ``MONITOR_REPORT_MIN_COUNT - 1`` is shown as "< N"; zero is
shown as 0 (an empty cell says nothing about a person, and hiding it would
make every quiet cell look busy). A change between two counts is shown only
when both counts are: otherwise the difference could give a hidden count away.
"""
from __future__ import annotations

import hashlib
import hmac
import re

from django.conf import settings

MAX_EXAMPLE_CHARS = 400
# @mentions can name the author (or other people): reports never show a handle.
_MENTION = re.compile(r"(?<![\w@])@[\w.]{1,64}", re.UNICODE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def min_count() -> int:
    return int(settings.MONITOR_REPORT_MIN_COUNT)


def count_cell(n: int) -> dict:
    """``{"n": n or None when hidden, "shown": "12" | "< 5" | "0"}``."""
    n = int(n)
    threshold = min_count()
    if 0 < n < threshold:
        return {"n": None, "shown": f"< {threshold}"}
    return {"n": n, "shown": str(n)}


def change_cell(current: dict, previous: dict) -> dict:
    """Week-on-week change between two count cells; hidden unless both are shown."""
    if current["n"] is None or previous["n"] is None:
        return {"delta": None, "shown": "—", "pct": None}
    delta = current["n"] - previous["n"]
    pct = None if previous["n"] == 0 else round(100.0 * delta / previous["n"], 1)
    shown = f"{delta:+d}" + ("" if pct is None else f" ({pct:+.0f}%)")
    return {"delta": delta, "shown": shown, "pct": pct}


def share_cell(part: int, whole: int) -> dict:
    """A percentage, hidden when the whole or either part is a hidden count."""
    if whole == 0:
        return {"pct": None, "shown": "—"}
    threshold = min_count()
    if whole < threshold or 0 < part < threshold or 0 < whole - part < threshold:
        return {"pct": None, "shown": f"hidden (n < {threshold})"}
    pct = round(100.0 * part / whole, 1)
    return {"pct": pct, "shown": f"{pct:.0f}%"}


def pseudonym(kind: str, value: object) -> str:
    """A short stable pseudonym (``kind-xxxxxxxx``) from a keyed hash: no handle, no user name."""
    digest = hmac.new(
        settings.MONITOR_PSEUDONYM_KEY.encode(), f"report:{kind}:{value}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{kind}-{digest[:8]}"


def text_safe(text: str, *, handle: str = "") -> str:
    """Post text fit for a report: valid Unicode, no handles or links, bounded length.

    The result is still hostile text: HTML escapes it, CSV neutralises formulas.
    """
    text = (text or "").encode("utf-8", errors="replace").decode("utf-8", errors="replace")
    # Control characters (other than newlines) have no business in a report.
    text = "".join(ch if ch.isprintable() or ch in "\n" else " " for ch in text)
    text = _MENTION.sub("@…", text)
    text = _URL.sub("[link]", text)
    handle = (handle or "").lstrip("@")
    if len(handle) >= 3:  # shorter "handles" would blank ordinary words
        text = re.sub(re.escape(handle), "[author]", text, flags=re.IGNORECASE)
    text = " ".join(text.split())
    if len(text) > MAX_EXAMPLE_CHARS:
        text = text[: MAX_EXAMPLE_CHARS - 1] + "…"
    return text
