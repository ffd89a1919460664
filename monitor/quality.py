"""Quality control: leads draw decided flags for a blind second review.

The second reviewer sees the flag but not the first decision, picks an
action, and the two are compared: they agree when the actions are the same.
The agreement rate is the share of second reviews that agree.
"""
from __future__ import annotations

import random

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from monitor.audit import audit_record
from monitor.models import Flag, QualityReview, ReviewDecision
from monitor.review import REASON_CODES, ReviewConflict, reason_code_fits
from monitor.roles import can_review, is_lead

MAX_SAMPLE = 200
# The pool a sample is drawn from: the latest decisions, so a draw costs the same on a big log.
POOL_SIZE = 5000


def quality_sample(*, user, n: int, seed: int | None = None) -> list[QualityReview]:
    """Draw ``n`` decided flags at random for a second review; return the new samples.

    1. The pool is the latest ``POOL_SIZE`` confirm or dismiss decisions still in
       force (the flag still has the status they gave it) and never sampled.
    2. ``n`` of them are drawn at random (``seed`` makes the draw repeatable).
    3. One ``QualityReview`` row each, and one ``quality.sample`` audit event.
    """
    if not is_lead(user):
        raise PermissionDenied("only a lead may draw a quality sample")
    if not 1 <= n <= MAX_SAMPLE:
        raise ValidationError(f"draw between 1 and {MAX_SAMPLE} flags", code="n")
    pool = list(
        ReviewDecision.objects.filter(
            Q(action=ReviewDecision.Action.CONFIRM, flag__status=Flag.Status.CONFIRMED)
            | Q(action=ReviewDecision.Action.DISMISS, flag__status=Flag.Status.DISMISSED),
            quality_review__isnull=True,
            reverted_by__isnull=True,
        )
        .order_by("-created_at", "-id")
        .values_list("pk", "flag_id")[:POOL_SIZE]
    )
    chosen = random.Random(seed).sample(pool, min(n, len(pool)))
    with transaction.atomic():
        rows = QualityReview.objects.bulk_create(
            [QualityReview(decision_id=d, flag_id=f, sampled_by=user) for d, f in chosen]
        )
        audit_record(actor=user, action="quality.sample", data={"asked": n, "drawn": len(rows)})
    return rows


def quality_review_record(*, sample_id: int, user, action: str, reason_code: str) -> QualityReview:
    """Record ``user``'s blind second review of a sample and whether it agrees with the first.

    The first decision's reviewer may not review their own decision. A sample
    is reviewed once: a conditional UPDATE on ``reviewer IS NULL`` settles a
    race (``ReviewConflict`` for the loser).
    """
    if not can_review(user):
        raise PermissionDenied("this user may not review flags")
    if action not in (ReviewDecision.Action.CONFIRM, ReviewDecision.Action.DISMISS):
        raise ValidationError("a second review confirms or dismisses", code="action")
    if reason_code not in REASON_CODES or not reason_code_fits(action=action, reason_code=reason_code):
        raise ValidationError(f"{reason_code!r} does not fit {action}", code="reason_code")
    with transaction.atomic():
        sample = QualityReview.objects.select_related("decision").get(pk=sample_id)
        if sample.decision.reviewer_id == user.pk:
            raise PermissionDenied("a second review must be made by someone else")
        agrees = sample.decision.action == action
        now = timezone.now()
        done = QualityReview.objects.filter(pk=sample.pk, reviewer__isnull=True).update(
            reviewer=user, action=action, reason_code=reason_code, agrees=agrees, reviewed_at=now
        )
        if not done:
            raise ReviewConflict(f"sample {sample_id} was already reviewed")
        audit_record(
            actor=user,
            action="quality.review",
            obj=sample,
            data={"flag_id": sample.flag_id, "action": action, "reason_code": reason_code, "agrees": agrees},
        )
        sample.reviewer, sample.action, sample.reason_code, sample.agrees, sample.reviewed_at = (
            user, action, reason_code, agrees, now
        )
    return sample


def quality_pending(*, user, limit: int = 50) -> list[QualityReview]:
    """Samples waiting for a second review that ``user`` may do (not their own decisions)."""
    return list(
        QualityReview.objects.filter(reviewer__isnull=True)
        .exclude(decision__reviewer=user)
        .select_related("flag", "flag__community")
        .order_by("created_at", "id")[:limit]
    )


def quality_stats() -> dict:
    """Sampled, reviewed and agreeing counts, the agreement rate, and the same per first reviewer."""
    totals = QualityReview.objects.aggregate(
        sampled=Count("id"),
        reviewed=Count("id", filter=Q(reviewer__isnull=False)),
        agreed=Count("id", filter=Q(agrees=True)),
    )
    per_reviewer = list(
        QualityReview.objects.filter(reviewer__isnull=False)
        .values("decision__reviewer__username")
        .annotate(reviewed=Count("id"), agreed=Count("id", filter=Q(agrees=True)))
        .order_by("decision__reviewer__username")
    )
    for row in per_reviewer:
        row["username"] = row.pop("decision__reviewer__username")
        row["rate"] = row["agreed"] / row["reviewed"] if row["reviewed"] else None
    totals["rate"] = totals["agreed"] / totals["reviewed"] if totals["reviewed"] else None
    totals["per_reviewer"] = per_reviewer
    return totals
