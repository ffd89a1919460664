"""Claiming flags: one reviewer at a time, enforced by conditional UPDATEs; claims expire."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from monitor.models import AuditEvent, Flag, ReviewDecision
from monitor.review import FlagClaimed, ReviewConflict, flag_claim, flag_decide, flag_release


@pytest.fixture
def second_reviewer(db, django_user_model):
    from monitor.roles import user_set_role

    user = django_user_model.objects.create_user(username="dave", password="correct horse battery")
    user_set_role(user=user, role="reviewer")
    return user


def test_opening_a_flag_claims_it_for_a_few_minutes(make_flag, reviewer, settings):
    settings.MONITOR_CLAIM_SECONDS = 120
    flag = make_flag()
    now = timezone.now()

    until = flag_claim(flag_id=flag.pk, user=reviewer, now=now)

    flag.refresh_from_db()
    assert flag.claimed_by == reviewer and flag.claimed_until == until == now + timedelta(seconds=120)
    event = AuditEvent.objects.get(action="flag.claim")
    assert event.actor == reviewer and event.object_id == str(flag.pk)


def test_renewing_ones_own_claim_is_not_audited_again(make_flag, reviewer):
    flag = make_flag()
    first = flag_claim(flag_id=flag.pk, user=reviewer)
    second = flag_claim(flag_id=flag.pk, user=reviewer, now=timezone.now() + timedelta(seconds=30))
    assert second > first
    assert AuditEvent.objects.filter(action="flag.claim").count() == 1


def test_a_second_reviewer_can_neither_claim_nor_decide_a_held_flag(make_flag, reviewer, second_reviewer):
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=reviewer)

    with pytest.raises(FlagClaimed) as info:
        flag_claim(flag_id=flag.pk, user=second_reviewer)
    assert info.value.holder_id == reviewer.pk
    with pytest.raises(FlagClaimed):
        flag_decide(flag_id=flag.pk, user=second_reviewer, action="confirm", reason_code="exclusion")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN and flag.claimed_by == reviewer
    assert not ReviewDecision.objects.exists()


def test_the_holder_decides_and_the_claim_goes(make_flag, reviewer):
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=reviewer)
    flag_decide(flag_id=flag.pk, user=reviewer, action="dismiss", reason_code="not_violation_reporting")
    flag.refresh_from_db()
    assert flag.status == Flag.Status.DISMISSED and flag.claimed_by is None


def test_an_abandoned_claim_expires(make_flag, reviewer, second_reviewer, settings):
    settings.MONITOR_CLAIM_SECONDS = 60
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=reviewer, now=timezone.now() - timedelta(seconds=61))

    flag_claim(flag_id=flag.pk, user=second_reviewer)
    flag.refresh_from_db()
    assert flag.claimed_by == second_reviewer


def test_an_expired_claim_does_not_block_a_decision(make_flag, reviewer, second_reviewer):
    flag = make_flag(claimed_by=reviewer, claimed_until=timezone.now() - timedelta(seconds=1))
    flag_decide(flag_id=flag.pk, user=second_reviewer, action="confirm", reason_code="exclusion")
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED


def test_a_decided_flag_cannot_be_claimed(make_flag, reviewer):
    flag = make_flag(status=Flag.Status.CONFIRMED)
    with pytest.raises(ReviewConflict):
        flag_claim(flag_id=flag.pk, user=reviewer)
    assert not AuditEvent.objects.exists()


def test_only_a_lead_claims_an_escalated_flag(make_flag, reviewer, lead):
    flag = make_flag(status=Flag.Status.ESCALATED)
    with pytest.raises(ReviewConflict):
        flag_claim(flag_id=flag.pk, user=reviewer)
    flag_claim(flag_id=flag.pk, user=lead)


@pytest.mark.parametrize("persona", ["researcher", "outsider"])
def test_only_reviewers_claim(make_flag, request, persona):
    flag = make_flag()
    with pytest.raises(PermissionDenied):
        flag_claim(flag_id=flag.pk, user=request.getfixturevalue(persona))


def test_releasing(make_flag, reviewer, second_reviewer, lead):
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=reviewer)

    assert flag_release(flag_id=flag.pk, user=second_reviewer) is False  # not theirs
    assert flag_release(flag_id=flag.pk, user=lead) is True  # a lead frees anyone's
    flag.refresh_from_db()
    assert flag.claimed_by is None
    assert AuditEvent.objects.get(action="flag.release").data == {"holder_id": reviewer.pk}
    assert flag_release(flag_id=flag.pk, user=reviewer) is False


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_racing_for_a_claim_get_one_claim(make_flag, reviewer, second_reviewer):
    """Real concurrent transactions; needs PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    flag = make_flag()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def claim_then_decide(user):
        try:
            barrier.wait()
            flag_claim(flag_id=flag.pk, user=user)
            flag_decide(flag_id=flag.pk, user=user, action="confirm", reason_code="exclusion")
            outcomes.append("ok")
        except ReviewConflict:  # FlagClaimed is one
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=claim_then_decide, args=(u,)) for u in (reviewer, second_reviewer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["conflict", "ok"]
    assert ReviewDecision.objects.filter(flag=flag).count() == 1
    assert AuditEvent.objects.filter(action="flag.claim", object_id=str(flag.pk)).count() == 1
