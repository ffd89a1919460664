"""Read queries for the dashboard and the API. Nothing here writes."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from monitor.models import AuditEvent, Community, Flag, ReviewDecision

EVIDENCE_ROLES = ("target", "hostile", "dampener")
# A span whose role is missing or unknown is still shown, as a plain hit.
HIT = "hit"
# When spans of the same length overlap, the more alarming role shows.
_ROLE_RANK = {"hostile": 0, "target": 1, "dampener": 2, HIT: 3}
# Evidence is the detector's output; a pathological list must not make a page slow.
MAX_SPANS = 500

Segments = list[tuple[str, str | None]]


def flags_queue(
    *, status: str = "open", community: str | None = None, limit: int = 50, offset: int = 0
) -> list[Flag]:
    """Flags in ``status``, most urgent first (``-priority``, then newest).

    ``community`` is a community slug. Posts and communities come in the same
    query, so a page costs one query however many flags it shows.
    """
    flags = Flag.objects.filter(status=status).select_related("post", "community")
    if community:
        flags = flags.filter(community__slug=community)
    flags = flags.order_by("-priority", "-created_at", "-id")
    offset, limit = max(offset, 0), max(limit, 0)
    return list(flags[offset : offset + limit])


def flag_get(*, flag_id: int) -> Flag:
    """One flag with its post, community and cluster (``Flag.DoesNotExist`` if absent)."""
    return Flag.objects.select_related("post", "post__cluster", "community").get(pk=flag_id)


def flag_decisions(*, flag_id: int) -> list[ReviewDecision]:
    """The decisions taken on a flag, newest first, with their reviewers."""
    return list(
        ReviewDecision.objects.filter(flag_id=flag_id).select_related("reviewer").order_by("-created_at", "-id")
    )


def communities_list() -> list[Community]:
    """All communities, by name (for filters)."""
    return list(Community.objects.order_by("name"))


def audit_events(*, limit: int = 100) -> list[AuditEvent]:
    """The latest audit events with their actors, newest first."""
    return list(AuditEvent.objects.select_related("actor").order_by("-created_at", "-id")[: max(limit, 0)])


def post_external_url(*, url: str) -> str:
    """``url`` if it is an http(s) link, else "" (a ``javascript:`` URL must never become a link)."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return ""


def flag_evidence(*, evidence: Any) -> list[dict[str, Any]]:
    """Evidence entries as uniform dicts (start, end, text, rule, role), malformed ones skipped."""
    if not isinstance(evidence, list):
        return []
    rows = []
    for item in evidence[:MAX_SPANS]:
        if not isinstance(item, dict):
            continue
        rows.append(
            {
                "start": _as_int(item.get("start")),
                "end": _as_int(item.get("end")),
                "text": item.get("text") if isinstance(item.get("text"), str) else "",
                "rule": str(item.get("rule") or ""),
                "role": item.get("role") if item.get("role") in EVIDENCE_ROLES else HIT,
            }
        )
    return rows


def flag_segments(*, text: str, evidence: list[dict]) -> Segments:
    """Split ``text`` into ``(segment, role)`` pieces; ``role`` is None outside every span.

    Joining the segments gives back ``text`` exactly. The template escapes each
    segment and wraps those with a role in ``<mark class="hit-{role}">``.

    1. Each span is checked against the text: offsets are clamped to the text;
       if the span carries its ``text`` and the offsets do not point at it
       (even ignoring case), the nearest occurrence of that text is used, and a
       span whose text is nowhere in the post is dropped.
    2. Every span start and end cuts the text into elementary pieces.
    3. A piece covered by several spans takes the role of the shortest one (a
       target inside a hostile phrase stays visible), ties going to the more
       alarming role: hostile, target, dampener, hit.
    4. Neighbouring pieces with the same role are joined.
    """
    if not text:
        return []
    spans = _spans(text, evidence)
    bounds = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    segments: Segments = []
    for a, b in zip(bounds, bounds[1:]):
        active = [span for span in spans if span[0] <= a and span[1] >= b]
        role = min(active, key=lambda s: (s[1] - s[0], _ROLE_RANK[s[2]]))[2] if active else None
        if segments and segments[-1][1] == role:
            segments[-1] = (segments[-1][0] + text[a:b], role)
        else:
            segments.append((text[a:b], role))
    return segments


def flag_excerpt(*, text: str, evidence: list[dict], max_chars: int = 240) -> Segments:
    """Like ``flag_segments`` but cut to about ``max_chars`` around the first hit, with "…" marks."""
    segments = flag_segments(text=text, evidence=evidence)
    if len(text) <= max_chars:
        return segments
    first_hit, pos = 0, 0
    for segment, role in segments:
        if role is not None:
            first_hit = pos
            break
        pos += len(segment)
    start = max(0, min(first_hit - max_chars // 3, len(text) - max_chars))
    if start > 0:
        # Start on a word boundary when one is close.
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    end = min(len(text), start + max_chars)

    clipped: Segments = [("…", None)] if start > 0 else []
    pos = 0
    for segment, role in segments:
        a, b = max(pos, start), min(pos + len(segment), end)
        if a < b:
            clipped.append((segment[a - pos : b - pos], role))
        pos += len(segment)
    if end < len(text):
        clipped.append(("…", None))
    return clipped


def _as_int(value: Any) -> int | None:
    # bool is an int in Python; a JSON true is not an offset.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _spans(text: str, evidence: Any) -> list[tuple[int, int, str]]:
    n = len(text)
    spans = []
    for row in flag_evidence(evidence=evidence):
        start, end, quoted = row["start"], row["end"], row["text"]
        if start is not None and end is not None:
            start, end = max(0, min(start, n)), max(0, min(end, n))
        points_at_quote = (
            start is not None and end is not None and text[start:end].lower() == quoted.lower()
        )
        if quoted and not points_at_quote:
            located = _locate(text, quoted, near=start or 0)
            if located is None:
                continue
            start, end = located
        if start is None or end is None or end <= start:
            continue
        spans.append((start, end, row["role"]))
    return spans


def _locate(text: str, quoted: str, *, near: int) -> tuple[int, int] | None:
    """The occurrence of ``quoted`` in ``text`` closest to ``near`` (exact, else ignoring case)."""
    haystacks = [(text, quoted)]
    lowered = text.lower()
    if len(lowered) == len(text):  # lower() can change lengths (e.g. "İ"); offsets must stay true
        haystacks.append((lowered, quoted.lower()))
    for haystack, needle in haystacks:
        best, i = None, haystack.find(needle)
        while i != -1:
            if best is None or abs(i - near) < abs(best - near):
                best = i
            if i >= near:  # later occurrences are only farther away
                break
            i = haystack.find(needle, i + 1)
        if best is not None:
            return best, best + len(needle)
    return None
