"""Read queries of the claim bank."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import Count, Q, QuerySet

from monitor.claims.models import Claim, ClaimMatch
from monitor.exports import csv_safe  # the one formula-neutralising rule (re-exported here)
from monitor.selectors import post_external_url

# Authors appear only as their pseudonym (a keyed hash), never a handle or the raw payload.
EXPORT_COLUMNS = (
    "match_id", "claim_id", "claim", "verdict", "post_id", "platform", "external_id", "post_url", "created_at",
    "author_pseudonym", "text", "score", "stance", "status", "flag_id",
)


def claims_list() -> QuerySet[Claim]:
    """Every claim with how many posts repeat it (``repeats``) and how many were confirmed."""
    return Claim.objects.annotate(
        repeats=Count("matches", filter=Q(matches__stance=ClaimMatch.Stance.ASSERTS)),
        confirmed=Count("matches", filter=Q(matches__status=ClaimMatch.Status.CONFIRMED)),
    ).order_by("-repeats", "-id")


def claim_matches(*, claim_id: int, include_debunks: bool = True,
                  include_rejected: bool = False) -> QuerySet[ClaimMatch]:
    """The posts matched to one claim, best score first, post loaded in the same query."""
    matches = ClaimMatch.objects.filter(claim_id=claim_id).select_related("post", "claim")
    if not include_debunks:
        matches = matches.filter(stance=ClaimMatch.Stance.ASSERTS)
    if not include_rejected:
        matches = matches.exclude(status=ClaimMatch.Status.REJECTED)
    return matches.order_by("-score", "id")


def claim_match_row(m: ClaimMatch) -> dict[str, Any]:
    """One match as an export row (pseudonymous: no handle, no raw payload)."""
    p = m.post
    return {
        "match_id": m.pk, "claim_id": m.claim_id, "claim": m.claim.text, "verdict": m.claim.verdict,
        "post_id": p.pk, "platform": p.platform, "external_id": p.external_id, "post_url": p.url,
        "created_at": p.created_at.isoformat() if p.created_at else None, "author_pseudonym": p.author_pseudonym,
        "text": p.text, "score": round(m.score, 4), "stance": m.stance, "status": m.status, "flag_id": m.flag_id,
    }


def claim_matches_csv_rows(matches: Iterable[ClaimMatch]) -> Iterable[list[str]]:
    """The header, then one row per match, every cell formula-safe."""
    yield list(EXPORT_COLUMNS)
    for m in matches:
        row = claim_match_row(m)
        yield [csv_safe("" if row[c] is None else row[c]) for c in EXPORT_COLUMNS]


class _Echo:
    def write(self, value: str) -> str:
        return value


def claim_matches_csv_lines(matches: Iterable[ClaimMatch]) -> Iterator[str]:
    """The CSV export line by line, for a streaming response."""
    writer = csv.writer(_Echo())
    for row in claim_matches_csv_rows(matches):
        yield writer.writerow(row)


def claim_matches_jsonl_lines(matches: Iterable[ClaimMatch]) -> Iterator[str]:
    """One JSON object a line (text as is: JSON is not run by spreadsheets)."""
    for m in matches:
        yield json.dumps(claim_match_row(m), ensure_ascii=False) + "\n"


def claim_matches_for_flags(*, flag_ids: list[int]) -> dict[int, ClaimMatch]:
    """The claim match behind each misinformation flag, claim loaded: one query for a whole page."""
    if not flag_ids:
        return {}
    matches = ClaimMatch.objects.filter(flag_id__in=flag_ids).select_related("claim").order_by("-score", "id")
    out: dict[int, ClaimMatch] = {}
    for m in matches:
        out.setdefault(m.flag_id, m)
    return out


def claim_review_link(*, claim: Claim) -> str:
    """The fact-check's URL if it is an http(s) link, else "" (shown as text, never a link)."""
    return post_external_url(url=claim.review_url)


def claim_get(*, claim_id: int) -> Claim:
    """One claim with its match counts (``Claim.DoesNotExist`` when there is none)."""
    return claims_list().get(pk=claim_id)


def claim_matches_csv(*, claim_id: int, include_debunks: bool = True) -> str:
    """The posts matched to one claim as CSV text (for a download or ``export_claim_matches``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(claim_matches_csv_rows(claim_matches(claim_id=claim_id, include_debunks=include_debunks)))
    return buffer.getvalue()
