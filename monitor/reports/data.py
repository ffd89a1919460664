"""The numbers of the weekly trend report, computed from the database.

``report_data_build(week=...)`` returns a JSON-ready dict in which every count
has already passed the small-count rule (``privacy.count_cell``) and no
author handle appears: it is what gets stored, rendered and exported.

A post belongs to the week holding its time, ``coalesce(created_at,
ingested_at)``; a flag to the week of its post; a review decision to the week
it was made. "Flags" means flags not dismissed by a reviewer (open,
escalated or confirmed).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from monitor.models import Community, Flag, Post, ReviewDecision, post_time
from monitor.weeks import previous_week, week_bounds, week_days

from .gazetteer import gazetteer_load
from .privacy import change_cell, count_cell, min_count, pseudonym, share_cell, text_safe

TOP_NARRATIVES = 10
EXAMPLES_PER_NARRATIVE = 3
HISTORY_WEEKS = 4
TOP_CLAIMS = 15
FASTEST_CLAIMS = 5
BREAKDOWNS = ("community", "category", "language", "platform")
# Flags that count in the report: a dismissed flag was a detector mistake.
COUNTED = ~Q(status=Flag.Status.DISMISSED)


def flags_in(start: datetime, end: datetime) -> QuerySet:
    """Counted flags whose post's time lies in [start, end)."""
    return (
        Flag.objects.filter(COUNTED)
        .annotate(t=post_time("post__"))
        .filter(t__gte=start, t__lt=end)
    )


def _breakdown(current: QuerySet, previous: QuerySet, field: str, labels: dict[str, str]) -> list[dict]:
    now = Counter({(k if k is not None else ""): n for k, n in current.values_list(field).annotate(n=Count("id"))})
    before = Counter({(k if k is not None else ""): n for k, n in previous.values_list(field).annotate(n=Count("id"))})
    rows = []
    for key in sorted(set(now) | set(before), key=lambda k: (-now[k], -before[k], str(k))):
        cur, prev = count_cell(now[key]), count_cell(before[key])
        rows.append({
            "key": str(key), "label": labels.get(str(key), str(key) or "(none)"),
            "current": cur, "previous": prev, "change": change_cell(cur, prev),
        })
    return rows


def _flag_breakdowns(week: str) -> dict[str, Any]:
    start, end = week_bounds(week)
    pstart, pend = week_bounds(previous_week(week))
    current, previous = flags_in(start, end), flags_in(pstart, pend)
    communities = {str(pk): name for pk, name in Community.objects.values_list("pk", "name")}
    communities[""] = "(no community)"
    fields = {
        "community": ("community_id", communities),
        "category": ("category", {k: str(v) for k, v in Flag.Category.choices}),
        "language": ("post__language", {"": "(unknown)"}),
        "platform": ("post__platform", {}),
    }
    out = {name: _breakdown(current, previous, field, labels) for name, (field, labels) in fields.items()}
    total_now, total_before = count_cell(current.count()), count_cell(previous.count())
    posts = Post.objects.annotate(t=post_time()).filter(t__gte=start, t__lt=end).count()
    return {
        "breakdowns": out,
        "totals": {
            "flags": total_now, "previous_flags": total_before,
            "change": change_cell(total_now, total_before), "posts": count_cell(posts),
        },
    }


def _example_posts(post_ids: list[int]) -> list[dict]:
    posts = Post.objects.filter(pk__in=post_ids[: EXAMPLES_PER_NARRATIVE * 3]).only(
        "id", "text", "author_pseudonym", "author_handle", "platform", "created_at", "ingested_at"
    )
    by_id = {p.pk: p for p in posts}
    examples = []
    for pk in post_ids:
        post = by_id.get(pk)
        if post is None:
            continue
        examples.append({
            "post_id": post.pk,
            "author": pseudonym("author", post.author_pseudonym),
            "platform": post.platform,
            "time": (post.created_at or post.ingested_at).isoformat(),
            "text": text_safe(post.text, handle=post.author_handle),
        })
        if len(examples) == EXAMPLES_PER_NARRATIVE:
            break
    return examples


def _narratives(week: str) -> list[dict]:
    # Imported here: the narratives app is optional for every other part of the report.
    from monitor.narratives.models import NarrativeWeek
    from monitor.narratives.services import narratives_growing

    trends = narratives_growing(week=week, limit=TOP_NARRATIVES)
    history_weeks = []
    w = week
    for _ in range(HISTORY_WEEKS):
        w = previous_week(w)
        history_weeks.append(w)
    history_weeks.reverse()
    ids = [t.narrative_id for t in trends]
    sizes: dict[tuple[int, str], int] = {
        (nid, wk): size
        for nid, wk, size in NarrativeWeek.objects.filter(narrative_id__in=ids, week__in=history_weeks).values_list(
            "narrative_id", "week", "size"
        )
    }
    communities = dict(Community.objects.values_list("pk", "name"))
    out = []
    for trend in trends:
        size, prev = count_cell(trend.size), count_cell(trend.previous_size)
        daily = trend.daily or {}
        out.append({
            "narrative_id": trend.narrative_id,
            "label": text_safe(str(trend.label)),
            "terms": [text_safe(str(t)) for t in (trend.terms or [])][:10],
            "community_id": trend.community_id,
            "community": communities.get(trend.community_id, "(no community)"),
            "size": size,
            "previous_size": prev,
            "growth": change_cell(size, prev),
            "flagged": count_cell(trend.flagged),
            "daily": [{"day": day, "count": count_cell(int(daily.get(day, 0)))} for day in week_days(week)],
            "history": [{"week": wk, "size": count_cell(sizes.get((trend.narrative_id, wk), 0))} for wk in history_weeks]
            + [{"week": week, "size": size}],
            "examples": _example_posts(list(trend.example_post_ids or [])),
        })
    return out


def _places(week: str) -> list[dict]:
    start, end = week_bounds(week)
    gazetteer = gazetteer_load()
    counts: Counter = Counter()
    texts = Post.objects.filter(pk__in=flags_in(start, end).values("post_id")).values_list("text", flat=True)
    for text in texts.iterator(chunk_size=2000):
        for place in gazetteer.places_in(text):
            counts[place] += 1
    return [
        {"name": p.name, "country": p.country, "region": p.region, "kind": p.kind, "posts": count_cell(n)}
        for p, n in sorted(counts.items(), key=lambda item: (-item[1], item[0].name))
    ]


def _reviewers(week: str) -> dict[str, Any]:
    start, end = week_bounds(week)
    decisions = ReviewDecision.objects.filter(created_at__gte=start, created_at__lt=end)
    per = Counter()
    per_action: Counter = Counter()
    for reviewer_id, action, n in decisions.values_list("reviewer_id", "action").annotate(n=Count("id")):
        per[reviewer_id] += n
        per_action[(reviewer_id, action)] += n
    rows = []
    for reviewer_id, n in sorted(per.items(), key=lambda item: -item[1]):
        row = {"reviewer": pseudonym("reviewer", reviewer_id), "decisions": count_cell(n)}
        for action in (ReviewDecision.Action.CONFIRM, ReviewDecision.Action.DISMISS, ReviewDecision.Action.ESCALATE):
            row[action.value] = count_cell(per_action[(reviewer_id, action.value)])
        rows.append(row)
    # Decisions that still stand (not reverted) say what share of decided flags were real.
    standing = decisions.filter(reverted_by__isnull=True)
    confirmed = standing.filter(action=ReviewDecision.Action.CONFIRM).count()
    dismissed = standing.filter(action=ReviewDecision.Action.DISMISS).count()
    rows.sort(key=lambda r: r["reviewer"])
    return {
        "rows": rows,
        "decisions": count_cell(sum(per.values())),
        "decided": count_cell(confirmed + dismissed),
        "confirmed": count_cell(confirmed),
        "confirmed_share": share_cell(confirmed, confirmed + dismissed),
    }


def _claims(week: str) -> dict[str, Any]:
    from monitor.claims.models import ClaimMatch

    start, end = week_bounds(week)
    pstart, pend = week_bounds(previous_week(week))

    def counts(a, b) -> Counter:
        matches = (
            ClaimMatch.objects.exclude(status=ClaimMatch.Status.REJECTED)
            .filter(stance=ClaimMatch.Stance.ASSERTS)
            .annotate(t=post_time("post__"))
            .filter(t__gte=a, t__lt=b)
        )
        return Counter(dict(matches.values_list("claim_id").annotate(n=Count("id"))))

    now, before = counts(start, end), counts(pstart, pend)
    from monitor.claims.models import Claim

    claims = {c.pk: c for c in Claim.objects.filter(pk__in=set(now) | set(before)).only("id", "text", "verdict")}
    rows = []
    for claim_id in sorted(set(now) | set(before), key=lambda k: (-now[k], -before[k], k)):
        claim = claims.get(claim_id)
        if claim is None:
            continue
        cur, prev = count_cell(now[claim_id]), count_cell(before[claim_id])
        rows.append({
            "claim_id": claim_id, "text": text_safe(claim.text), "verdict": claim.verdict,
            "matches": cur, "previous": prev, "change": change_cell(cur, prev),
            "_delta": now[claim_id] - before[claim_id],
        })
    # Only claims whose count is shown may be ranked, so the order gives no hidden count away.
    fastest = sorted(
        (r for r in rows if r["matches"]["n"] is not None and r["_delta"] > 0), key=lambda r: (-r["_delta"], r["claim_id"])
    )[:FASTEST_CLAIMS]
    for r in rows:
        r.pop("_delta")
    return {"rows": rows[:TOP_CLAIMS], "fastest": fastest, "total": count_cell(sum(now.values()))}


def report_data_build(*, week: str, now: datetime | None = None) -> dict[str, Any]:
    """Compute the weekly report of ``week`` ("2026-W47") as a JSON-ready dict.

    Steps: 1. flags by community, category, language and platform, this week
    and the week before; 2. the fastest-growing narratives with examples and
    trajectories; 3. places named in flagged posts; 4. reviewer throughput;
    5. claim matches. Raises ``ValueError`` for a malformed week.
    """
    start, end = week_bounds(week)
    data: dict[str, Any] = {
        "week": week,
        "previous_week": previous_week(week),
        "start": start.isoformat(),
        "end": (end - timedelta(seconds=1)).isoformat(),
        "generated_at": (now or timezone.now()).isoformat(),
        "min_count": min_count(),
    }
    data.update(_flag_breakdowns(week))
    data["narratives"] = _narratives(week)
    data["places"] = _places(week)
    data["reviewers"] = _reviewers(week)
    data["claims"] = _claims(week)
    return data
