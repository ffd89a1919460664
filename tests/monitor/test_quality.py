"""Second reviews: sampling, blind review, agreement."""
from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from monitor.models import AuditEvent, QualityReview
from monitor.quality import quality_pending, quality_review_record, quality_sample, quality_stats
from monitor.review import ReviewConflict, decision_revert, flag_decide


@pytest.fixture
def decided(make_flag, reviewer):
    flags = [make_flag(text=f"t{i} Peuls") for i in range(5)]
    for i, flag in enumerate(flags):
        if i % 2:
            flag_decide(flag_id=flag.pk, user=reviewer, action="dismiss", reason_code="not_violation_reporting")
        else:
            flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
    return flags


def test_a_lead_samples_decided_flags_once(decided, lead):
    rows = quality_sample(user=lead, n=3, seed=1)
    assert len(rows) == 3
    more = quality_sample(user=lead, n=10, seed=1)
    assert len(more) == 2  # only the never-sampled rest
    assert AuditEvent.objects.filter(action="quality.sample").count() == 2


def test_reverted_and_escalated_decisions_are_not_sampled(make_flag, reviewer, lead):
    a, b = make_flag(text="a"), make_flag(text="b")
    decision = flag_decide(flag_id=a.pk, user=reviewer, action="confirm", reason_code="slur")
    decision_revert(decision_id=decision.pk, user=lead)
    flag_decide(flag_id=b.pk, user=reviewer, action="escalate", reason_code="slur")
    assert quality_sample(user=lead, n=5) == []


def test_only_leads_sample(decided, reviewer):
    with pytest.raises(PermissionDenied):
        quality_sample(user=reviewer, n=1)


def test_second_reviews_and_agreement(decided, lead, reviewer):
    rows = quality_sample(user=lead, n=5, seed=2)
    assert quality_pending(user=reviewer) == []  # never one's own decisions
    assert len(quality_pending(user=lead)) == 5
    with pytest.raises(PermissionDenied):
        quality_review_record(sample_id=rows[0].pk, user=reviewer, action="confirm", reason_code="slur")

    agreed = 0
    for row in rows:
        original = row.decision.action
        action = original if row.pk != rows[0].pk else ("dismiss" if original == "confirm" else "confirm")
        reason = "exclusion" if action == "confirm" else "not_violation_other"
        sample = quality_review_record(sample_id=row.pk, user=lead, action=action, reason_code=reason)
        agreed += sample.agrees

    assert agreed == 4
    stats = quality_stats()
    assert (stats["sampled"], stats["reviewed"], stats["agreed"]) == (5, 5, 4)
    assert stats["rate"] == pytest.approx(0.8)
    assert stats["per_reviewer"] == [{"username": "alice", "reviewed": 5, "agreed": 4, "rate": pytest.approx(0.8)}]
    with pytest.raises(ReviewConflict):
        quality_review_record(sample_id=rows[0].pk, user=lead, action="confirm", reason_code="slur")
    assert QualityReview.objects.filter(reviewer=lead).count() == 5


def test_a_second_review_needs_a_fitting_reason(decided, lead):
    row = quality_sample(user=lead, n=1)[0]
    with pytest.raises(ValidationError):
        quality_review_record(sample_id=row.pk, user=lead, action="confirm", reason_code="not_violation_other")
