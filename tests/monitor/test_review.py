"""Review decisions: policy, permissions, the conditional update, the audit trail."""
from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from monitor import review
from monitor.models import AuditEvent, Flag, ReviewDecision
from monitor.review import REASON_CODES, ReviewConflict, flag_decide, reason_code_fits


@pytest.mark.parametrize(
    ("action", "reason", "status"),
    [
        ("confirm", "exclusion", Flag.Status.CONFIRMED),
        ("dismiss", "not_violation_counter_speech", Flag.Status.DISMISSED),
        ("escalate", "incitement", Flag.Status.ESCALATED),
        ("escalate", "not_violation_other", Flag.Status.ESCALATED),
    ],
)
def test_it_records_the_decision_and_moves_the_flag(make_flag, reviewer, action, reason, status):
    flag = make_flag()

    decision = flag_decide(flag_id=flag.pk, user=reviewer, action=action, reason_code=reason, note="  why  ")

    flag.refresh_from_db()
    assert flag.status == status
    assert (decision.flag_id, decision.reviewer, decision.action, decision.reason_code, decision.note) == (
        flag.pk,
        reviewer,
        action,
        reason,
        "why",
    )
    assert ReviewDecision.objects.count() == 1


def test_it_writes_an_audit_event(make_flag, reviewer):
    flag = make_flag()

    decision = flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")

    event = AuditEvent.objects.get(action="flag.decide")
    assert event.actor == reviewer
    assert (event.object_type, event.object_id) == ("monitor.flag", str(flag.pk))
    assert event.data == {
        "decision_id": decision.pk,
        "action": "confirm",
        "reason_code": "exclusion",
        "from_status": "open",
        "to_status": "confirmed",
        "post_id": flag.post_id,
        "has_note": False,
        "follow_up": "remove",  # a confirm without a follow-up asks for removal
    }


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("confirm", "not_violation_reporting"),  # confirm needs a violation
        ("dismiss", "incitement"),  # dismiss needs a not_violation_* code
        ("confirm", "made_up"),
        ("delete", "incitement"),
        ("confirm", ""),
    ],
)
def test_it_rejects_a_reason_that_does_not_fit(make_flag, reviewer, action, reason):
    flag = make_flag()

    with pytest.raises(ValidationError):
        flag_decide(flag_id=flag.pk, user=reviewer, action=action, reason_code=reason)

    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert not ReviewDecision.objects.exists()
    assert not AuditEvent.objects.exists()


def test_it_rejects_an_overlong_note(make_flag, reviewer):
    flag = make_flag()
    with pytest.raises(ValidationError):
        flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="slur", note="x" * 2001)


def test_the_policy_table_is_consistent():
    for code, reason in REASON_CODES.items():
        assert reason["violation"] == (not code.startswith("not_violation_"))
        assert reason_code_fits(action="escalate", reason_code=code)
        assert reason_code_fits(action="confirm", reason_code=code) != reason_code_fits(
            action="dismiss", reason_code=code
        )


def test_deciding_a_decided_flag_is_a_conflict(make_flag, reviewer, lead):
    flag = make_flag()
    flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")

    with pytest.raises(ReviewConflict):
        flag_decide(flag_id=flag.pk, user=lead, action="dismiss", reason_code="not_violation_other")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    assert ReviewDecision.objects.count() == 1
    assert AuditEvent.objects.filter(action="flag.decide").count() == 1


def test_a_stale_read_loses_to_the_conditional_update(make_flag, reviewer, lead, monkeypatch):
    """Both reviewers read the flag as open; only the first UPDATE matches the row."""
    flag = make_flag()
    stale = Flag.objects.get(pk=flag.pk)  # what the slower reviewer read, before the other decided
    flag_decide(flag_id=flag.pk, user=lead, action="dismiss", reason_code="not_violation_reporting")
    monkeypatch.setattr(review, "_flag_read", lambda *, flag_id: stale)

    with pytest.raises(ReviewConflict):
        flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED
    assert list(ReviewDecision.objects.values_list("reviewer__username", flat=True)) == ["bob"]


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_racing_get_one_decision(make_flag, reviewer, lead):
    """Real concurrent transactions; needs PostgreSQL (SQLite's test database is one in-memory connection)."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    flag = make_flag()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user, action, reason):
        try:
            barrier.wait()
            flag_decide(flag_id=flag.pk, user=user, action=action, reason_code=reason)
            outcomes.append("ok")
        except ReviewConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=decide, args=(reviewer, "confirm", "exclusion")),
        threading.Thread(target=decide, args=(lead, "dismiss", "not_violation_other")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict", "ok"]
    assert ReviewDecision.objects.filter(flag=flag).count() == 1
    assert AuditEvent.objects.filter(action="flag.decide", object_id=str(flag.pk)).count() == 1


@pytest.mark.parametrize("persona", ["researcher", "outsider"])
def test_only_reviewers_may_decide(make_flag, request, persona):
    user = request.getfixturevalue(persona)
    flag = make_flag()

    with pytest.raises(PermissionDenied):
        flag_decide(flag_id=flag.pk, user=user, action="confirm", reason_code="exclusion")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert not AuditEvent.objects.exists()


def test_an_anonymous_user_may_not_decide(make_flag):
    from django.contrib.auth.models import AnonymousUser

    flag = make_flag()
    with pytest.raises(PermissionDenied):
        flag_decide(flag_id=flag.pk, user=AnonymousUser(), action="confirm", reason_code="exclusion")


def test_an_escalated_flag_needs_a_lead(make_flag, reviewer, lead):
    flag = make_flag(status=Flag.Status.ESCALATED)

    with pytest.raises(PermissionDenied):
        flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
    with pytest.raises(ValidationError):
        flag_decide(flag_id=flag.pk, user=lead, action="escalate", reason_code="exclusion")

    flag_decide(flag_id=flag.pk, user=lead, action="confirm", reason_code="exclusion")
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED
    assert AuditEvent.objects.get(action="flag.decide").data["from_status"] == "escalated"


def test_a_missing_flag_raises_does_not_exist(reviewer):
    with pytest.raises(Flag.DoesNotExist):
        flag_decide(flag_id=999_999, user=reviewer, action="confirm", reason_code="exclusion")


def test_deciding_clears_a_claim(make_flag, reviewer, lead):
    from django.utils import timezone

    flag = make_flag(claimed_by=lead, claimed_until=timezone.now())
    flag_decide(flag_id=flag.pk, user=reviewer, action="escalate", reason_code="threat")
    flag.refresh_from_db()
    assert (flag.claimed_by, flag.claimed_until) == (None, None)
