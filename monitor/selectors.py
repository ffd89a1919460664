"""Read queries for the dashboard and the API. Nothing here writes."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Iterator
from urllib.parse import urlsplit

from django.db.models import Count, Q
from django.utils import timezone

from monitor.clustering import clusters_activity
from monitor.models import AuditEvent, Community, Flag, ReviewDecision, ReviewerSettings

EVIDENCE_ROLES = ("target", "hostile", "dampener")
# A span whose role is missing or unknown is still shown, as a plain hit.
HIT = "hit"
# When spans of the same length overlap, the more alarming role shows.
_ROLE_RANK = {"hostile": 0, "target": 1, "dampener": 2, HIT: 3}
# Evidence is the detector's output; a pathological list must not make a page slow.
MAX_SPANS = 500

Segments = list[tuple[str, str | None]]



def filters_as_query(filters) -> dict[str, str]:
    """A filters dataclass's set fields as query parameters (dates as YYYY-MM-DD), for links."""
    out = {}
    for f in fields(filters):
        value = getattr(filters, f.name)
        if value not in ("", None):
            out[f.name] = value.isoformat() if isinstance(value, date) else str(value)
    return out


def ascii_digits(value: str) -> bool:
    """Whether a query parameter is a plain number: "²" or "١٢" pass ``str.isdigit`` but are no id."""
    return value.isascii() and value.isdigit()


@dataclass(frozen=True)
class QueueFilters:
    """What the queue shows. Empty fields do not filter; ``mine`` keeps the user's claimed flags."""

    status: str = Flag.Status.OPEN.value
    community: str = ""
    category: str = ""
    language: str = ""
    platform: str = ""
    cluster: int | None = None
    mine: bool = False

    @classmethod
    def from_query(cls, query) -> "QueueFilters":
        """Parse a query dict leniently: an unknown status or a malformed cluster id is ignored."""
        status = query.get("status") or Flag.Status.OPEN.value
        if status not in Flag.Status.values:
            status = Flag.Status.OPEN.value
        category = query.get("category") or ""
        cluster = query.get("cluster") or ""
        return cls(
            status=status,
            community=(query.get("community") or "")[:64],
            category=category if category in Flag.Category.values else "",
            language=(query.get("language") or "")[:8],
            platform=(query.get("platform") or "")[:32],
            cluster=int(cluster) if ascii_digits(cluster) and len(cluster) < 12 else None,
            mine=query.get("mine") in ("1", "on", "true"),
        )

    def as_query(self) -> dict[str, str]:
        """The non-default filters as query parameters (status only when not open)."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "status" and value == Flag.Status.OPEN.value:
                continue
            if value not in ("", None, False):
                out[f.name] = "1" if value is True else str(value)
        return out


def _queue_rows(filters: QueueFilters, *, user=None, now: datetime | None = None):
    flags = Flag.objects.filter(status=filters.status)
    if filters.community:
        flags = flags.filter(community__slug=filters.community)
    if filters.category:
        flags = flags.filter(category=filters.category)
    if filters.language:
        flags = flags.filter(post__language=filters.language)
    if filters.platform:
        flags = flags.filter(post__platform=filters.platform)
    if filters.cluster is not None:
        flags = flags.filter(post__cluster_id=filters.cluster)
    if filters.mine and user is not None:
        flags = flags.filter(claimed_by=user, claimed_until__gte=now or timezone.now())
    return flags


QUEUE_ORDER = ("-priority", "-created_at", "-id")


def flags_queue(
    *,
    status: str = "open",
    community: str | None = None,
    limit: int = 50,
    offset: int = 0,
    filters: QueueFilters | None = None,
    user=None,
    available_to=None,
    now: datetime | None = None,
) -> list[Flag]:
    """Flags matching ``filters`` (or just ``status`` and ``community``), most urgent first.

    Order: ``-priority``, then newest, then highest id. ``available_to`` (a user)
    leaves out flags another reviewer holds an unexpired claim on. Posts,
    communities and claim holders come in the same query, so a page costs one
    query however many flags it shows.
    """
    filters = filters or QueueFilters(status=status, community=community or "")
    now = now or timezone.now()
    flags = _queue_rows(filters, user=user, now=now).select_related("post", "community", "claimed_by")
    if available_to is not None:
        flags = flags.exclude(Q(claimed_until__gte=now) & ~Q(claimed_by=available_to) & Q(claimed_by__isnull=False))
    flags = flags.order_by(*QUEUE_ORDER)
    offset, limit = max(offset, 0), max(limit, 0)
    return list(flags[offset : offset + limit])


def flag_neighbours(
    *, flag: Flag, filters: QueueFilters, user, now: datetime | None = None
) -> tuple[int | None, int | None]:
    """The ids of the flags just before and after ``flag`` in the queue's order (None at the ends).

    Keyset comparisons on (priority, created_at, id), so it costs two indexed
    queries wherever the flag sits. Flags another reviewer holds are skipped.
    """
    now = now or timezone.now()
    rows = _queue_rows(filters, user=user, now=now).exclude(pk=flag.pk).exclude(
        Q(claimed_until__gte=now) & ~Q(claimed_by=user) & Q(claimed_by__isnull=False)
    )
    p, c, i = flag.priority, flag.created_at, flag.pk
    after = Q(priority__lt=p) | Q(priority=p, created_at__lt=c) | Q(priority=p, created_at=c, id__lt=i)
    before = Q(priority__gt=p) | Q(priority=p, created_at__gt=c) | Q(priority=p, created_at=c, id__gt=i)
    # The plain range on priority lets SQLite use the (status, priority) index despite the ORs.
    following = rows.filter(after, priority__lte=p).order_by(*QUEUE_ORDER).values_list("pk", flat=True).first()
    previous = (
        rows.filter(before, priority__gte=p).order_by("priority", "created_at", "id").values_list("pk", flat=True).first()
    )
    return previous, following


@dataclass
class FlagContext:
    """What a reviewer needs around a flag to decide it."""

    author_confirmed: int = 0
    cluster_size: int = 0
    cluster_last_hour: int = 0
    cluster_last_day: int = 0
    cluster_flags: list = None  # [(flag, latest decision or None)], near-duplicates first open, then decided
    cluster_open: int = 0
    cluster_decided: int = 0


CLUSTER_FLAGS_SHOWN = 20


def flag_context(*, flag: Flag, now: datetime | None = None) -> FlagContext:
    """The author's history, the cluster's size and growth, and its other flags with their decisions.

    At most four queries, whatever the sizes: the author's confirmed flags, the
    cluster's growth, its other flags (the first ``CLUSTER_FLAGS_SHOWN``, with
    counts by status) and their latest decisions.
    """
    now = now or timezone.now()
    post = flag.post
    ctx = FlagContext(cluster_flags=[])
    ctx.author_confirmed = (
        Flag.objects.filter(post__author_pseudonym=post.author_pseudonym, status=Flag.Status.CONFIRMED)
        .exclude(pk=flag.pk)
        .count()
    )
    if post.cluster_id is None:
        return ctx
    activity = clusters_activity(cluster_ids=[post.cluster_id], now=now)[post.cluster_id]
    ctx.cluster_size, ctx.cluster_last_hour, ctx.cluster_last_day = activity.size, activity.last_hour, activity.last_day
    others = Flag.objects.filter(post__cluster_id=post.cluster_id).exclude(pk=flag.pk)
    counts = others.aggregate(
        open=Count("id", filter=Q(status=Flag.Status.OPEN)),
        decided=Count("id", filter=Q(status__in=[Flag.Status.CONFIRMED, Flag.Status.DISMISSED])),
    )
    ctx.cluster_open, ctx.cluster_decided = counts["open"], counts["decided"]
    shown = list(others.select_related("post").order_by("status", "-priority", "id")[:CLUSTER_FLAGS_SHOWN])
    latest: dict[int, ReviewDecision] = {}
    if shown:
        for decision in (
            ReviewDecision.objects.filter(flag_id__in=[f.pk for f in shown])
            .select_related("reviewer")
            .order_by("flag_id", "-created_at", "-id")
        ):
            latest.setdefault(decision.flag_id, decision)
    ctx.cluster_flags = [(f, latest.get(f.pk)) for f in shown]
    return ctx


def reviewer_settings_get(*, user) -> ReviewerSettings:
    """``user``'s settings, or unsaved defaults (blur on) when they never changed them."""
    row = ReviewerSettings.objects.filter(user_id=user.pk).first()
    return row or ReviewerSettings(user_id=user.pk)


def decision_batch_summary(*, batch: str) -> dict:
    """How many decisions a cluster batch holds and how many of them were undone."""
    rows = ReviewDecision.objects.filter(batch=batch)
    return rows.aggregate(
        decided=Count("id", filter=~Q(action=ReviewDecision.Action.REVERT)),
        reverted=Count("id", filter=Q(action=ReviewDecision.Action.REVERT)),
    )


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page and its CSV export show. Empty fields do not filter.

    ``action`` is exact, or a prefix when it ends in "." (``flag.`` is every flag
    event); ``actor`` is a username; ``since`` and ``until`` are UTC days, both
    included.
    """

    action: str = ""
    actor: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None
    until: date | None = None

    def as_query(self) -> dict[str, str]:
        """The set filters as query parameters (dates as YYYY-MM-DD)."""
        return filters_as_query(self)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _audit_rows(filters: AuditFilters | None):
    rows = AuditEvent.objects.select_related("actor")
    if filters is None:
        return rows
    if filters.action.endswith("."):
        rows = rows.filter(action__startswith=filters.action)
    elif filters.action:
        rows = rows.filter(action=filters.action)
    if filters.actor:
        rows = rows.filter(actor__username=filters.actor)
    if filters.object_type:
        rows = rows.filter(object_type=filters.object_type)
    if filters.object_id:
        rows = rows.filter(object_id=filters.object_id)
    if filters.since:
        rows = rows.filter(created_at__gte=_day_start(filters.since))
    if filters.until:
        rows = rows.filter(created_at__lt=_day_start(filters.until + timedelta(days=1)))
    return rows


def audit_events_iter(
    *, filters: AuditFilters | None = None, since: datetime | None = None, until: datetime | None = None
) -> Iterator[AuditEvent]:
    """The audit events matching ``filters``, oldest first, streamed in chunks (for the CSV export).

    One query whatever the number of rows (actors come with it).
    """
    rows = _audit_rows(filters).order_by("created_at", "id")
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    if until is not None:
        rows = rows.filter(created_at__lt=until)
    return rows.iterator(chunk_size=2000)


def reviewer_stats(*, since: datetime | None = None) -> list[dict]:
    """Per reviewer: decisions by action (reverts excluded) and how many of theirs were reverted."""
    rows = ReviewDecision.objects.all()
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    return list(
        rows.values("reviewer__username")
        .annotate(
            total=Count("id", filter=~Q(action=ReviewDecision.Action.REVERT)),
            confirm=Count("id", filter=Q(action=ReviewDecision.Action.CONFIRM)),
            dismiss=Count("id", filter=Q(action=ReviewDecision.Action.DISMISS)),
            escalate=Count("id", filter=Q(action=ReviewDecision.Action.ESCALATE)),
            reverted=Count("id", filter=Q(reverted_by__isnull=False)),
        )
        .order_by("reviewer__username")
    )


def flag_get(*, flag_id: int) -> Flag:
    """One flag with its post, community and cluster (``Flag.DoesNotExist`` if absent)."""
    return Flag.objects.select_related("post", "post__cluster", "community", "claimed_by").get(pk=flag_id)


def flag_decisions(*, flag_id: int) -> list[ReviewDecision]:
    """The decisions taken on a flag, newest first, with their reviewers."""
    return list(
        ReviewDecision.objects.filter(flag_id=flag_id)
        .select_related("reviewer", "reverts")
        .order_by("-created_at", "-id")
    )


def communities_list() -> list[Community]:
    """All communities, by name (for filters)."""
    return list(Community.objects.order_by("name"))


def audit_events(*, limit: int = 100, filters: AuditFilters | None = None) -> list[AuditEvent]:
    """The latest audit events matching ``filters``, with their actors, newest first (one query)."""
    return list(_audit_rows(filters).order_by("-created_at", "-id")[: max(limit, 0)])


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
