"""Read queries of the claim bank."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.db.models import Count, Q, QuerySet

from monitor.claims.models import Claim, ClaimMatch

EXPORT_COLUMNS = (
    "match_id", "claim_id", "claim", "verdict", "post_id", "platform", "external_id", "post_url", "created_at",
    "text", "score", "stance", "status", "flag_id",
)
# A cell starting with one of these is a formula to a spreadsheet (CSV injection, OWASP).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will show as text: formula-like values get a leading quote."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def claim_matches_csv_rows(matches: Iterable[ClaimMatch]) -> Iterable[list[str]]:
    """The header, then one row per match, every cell formula-safe."""
    yield list(EXPORT_COLUMNS)
    for m in matches:
        p = m.post
        yield [csv_safe(v) for v in (
            m.pk, m.claim_id, m.claim.text, m.claim.verdict, p.pk, p.platform, p.external_id, p.url,
            p.created_at.isoformat() if p.created_at else "", p.text, f"{m.score:.4f}", m.stance, m.status,
            m.flag_id or "",
        )]


def claim_matches_csv(*, claim_id: int, include_debunks: bool = True) -> str:
    """The posts matched to one claim as CSV text (for a download or ``export_claim_matches``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerows(claim_matches_csv_rows(claim_matches(claim_id=claim_id, include_debunks=include_debunks)))
    return buffer.getvalue()
