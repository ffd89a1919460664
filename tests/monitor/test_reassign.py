"""Lead reassignment: a lead hands a flag to a reviewer, who then holds it for a shift."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from monitor.models import AuditEvent, Flag, ReviewDecision
from monitor.review import (
    ASSIGNMENT_SECONDS,
    FlagClaimed,
    ReviewConflict,
    cluster_candidates,
    flag_claim,
    flag_decide,
    flag_reassign,
    flag_release,
)
from monitor.selectors import QueueFilters, flags_queue


@pytest.fixture
def dave(db, django_user_model):
    from monitor.roles import user_set_role

    user = django_user_model.objects.create_user(username="dave", password="correct horse battery")
    user_set_role(user=user, role="reviewer")
    return user


def test_a_lead_hands_a_claimed_flag_to_another_reviewer(make_flag, reviewer, lead, dave):
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=reviewer)
    now = timezone.now()

    until = flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave, now=now)

    flag.refresh_from_db()
    assert flag.claimed_by == dave
    assert until == flag.claimed_until == now + timedelta(seconds=ASSIGNMENT_SECONDS)
    event = AuditEvent.objects.get(action="flag.reassign")
    assert event.actor == lead and (event.object_type, event.object_id) == ("monitor.flag", str(flag.pk))
    assert event.data == {"from_id": reviewer.pk, "from": "alice", "to_id": dave.pk, "to": "dave",
                          "until": until.isoformat()}


def test_reassigning_a_free_or_expired_flag_records_no_previous_holder(make_flag, reviewer, lead, dave):
    free, expired = make_flag(), make_flag(text="b Peuls")
    Flag.objects.filter(pk=expired.pk).update(claimed_by=reviewer, claimed_until=timezone.now() - timedelta(minutes=1))

    flag_reassign(flag_id=free.pk, lead=lead, to_user=dave)
    flag_reassign(flag_id=expired.pk, lead=lead, to_user=dave)

    for event in AuditEvent.objects.filter(action="flag.reassign"):
        assert event.data["from"] is None and event.data["from_id"] is None and event.data["to"] == "dave"
    assert Flag.objects.filter(claimed_by=dave).count() == 2


def test_only_a_lead_may_reassign(make_flag, reviewer, dave, researcher):
    flag = make_flag()
    for user in (reviewer, researcher):
        with pytest.raises(PermissionDenied):
            flag_reassign(flag_id=flag.pk, lead=user, to_user=dave)
    assert Flag.objects.get(pk=flag.pk).claimed_by is None
    assert not AuditEvent.objects.filter(action="flag.reassign").exists()


def test_the_target_must_be_able_to_review(make_flag, lead, researcher, outsider, dave):
    flag = make_flag()
    dave.is_active = False
    dave.save()
    for user in (researcher, outsider, dave):
        with pytest.raises(ValidationError) as exc:
            flag_reassign(flag_id=flag.pk, lead=lead, to_user=user)
        assert exc.value.code == "to_user"
    assert Flag.objects.get(pk=flag.pk).claimed_by is None


def test_an_escalated_flag_goes_only_to_a_lead(make_flag, lead, dave, django_user_model):
    from monitor.roles import user_set_role

    flag = make_flag(status=Flag.Status.ESCALATED)
    with pytest.raises(ValidationError):
        flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)
    other_lead = django_user_model.objects.create_user(username="erin", password="x")
    user_set_role(user=other_lead, role="lead")
    flag_reassign(flag_id=flag.pk, lead=lead, to_user=other_lead)
    assert Flag.objects.get(pk=flag.pk).claimed_by == other_lead


def test_a_decided_or_missing_flag_cannot_be_reassigned(make_flag, lead, dave):
    flag = make_flag(status=Flag.Status.CONFIRMED)
    with pytest.raises(ReviewConflict):
        flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)
    with pytest.raises(Flag.DoesNotExist):
        flag_reassign(flag_id=10**9, lead=lead, to_user=dave)
    assert not AuditEvent.objects.filter(action="flag.reassign").exists()


def test_the_previous_holder_can_no_longer_decide_and_the_assignee_can(make_flag, reviewer, lead, dave):
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=reviewer)
    flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)

    with pytest.raises(FlagClaimed) as exc:
        flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
    assert exc.value.holder_id == dave.pk
    with pytest.raises(FlagClaimed):
        flag_claim(flag_id=flag.pk, user=reviewer)
    assert flag_release(flag_id=flag.pk, user=reviewer) is False
    assert cluster_candidates(flag_id=flag.pk, user=dave) == [flag.pk]
    assert not ReviewDecision.objects.exists()

    flag_decide(flag_id=flag.pk, user=dave, action="confirm", reason_code="exclusion")
    flag.refresh_from_db()
    assert flag.status == Flag.Status.CONFIRMED and flag.claimed_by is None


def test_the_assignee_holds_it_in_claimed_by_me_and_opening_it_keeps_the_long_hold(make_flag, lead, dave):
    flag = make_flag()
    other = make_flag(text="autre Peuls")
    until = flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)

    mine = flags_queue(filters=QueueFilters(mine=True), user=dave)
    assert [f.pk for f in mine] == [flag.pk]
    assert other.pk not in [f.pk for f in mine]

    # Opening the page claims (renews); the assignment must not shrink to a few minutes.
    assert flag_claim(flag_id=flag.pk, user=dave) == until
    assert Flag.objects.get(pk=flag.pk).claimed_until == until
    assert not AuditEvent.objects.filter(action="flag.claim", actor=dave).exists()


def test_leaving_the_page_does_not_give_an_assignment_back(make_flag, reviewer, lead, dave):
    flag = make_flag()
    flag_claim(flag_id=flag.pk, user=lead)  # the lead opened the page
    flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)

    # Both pages' unload beacons: neither the lead's nor the assignee's drops it.
    assert flag_release(flag_id=flag.pk, user=lead, leaving=True) is False
    assert flag_release(flag_id=flag.pk, user=dave, leaving=True) is False
    assert Flag.objects.get(pk=flag.pk).claimed_by == dave

    # An ordinary claim is still given back on leaving; a lead's explicit release still frees an assignment.
    plain = make_flag(text="simple Peuls")
    flag_claim(flag_id=plain.pk, user=reviewer)
    assert flag_release(flag_id=plain.pk, user=reviewer, leaving=True) is True
    assert flag_release(flag_id=flag.pk, user=lead) is True
    assert Flag.objects.get(pk=flag.pk).claimed_by is None


def test_an_assignment_that_ran_out_is_free_again(make_flag, lead, dave, reviewer):
    flag = make_flag()
    start = timezone.now() - timedelta(seconds=ASSIGNMENT_SECONDS + 60)
    flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave, now=start)
    flag_claim(flag_id=flag.pk, user=reviewer)
    assert Flag.objects.get(pk=flag.pk).claimed_by == reviewer


def test_users_can_review_agrees_with_the_predicates(reviewer, lead, researcher, outsider, dave, django_user_model):
    from monitor.roles import can_review, is_lead, users_can_review

    root = django_user_model.objects.create_superuser(username="root", password="x")
    gone = django_user_model.objects.create_user(username="zed", password="x", is_active=False)
    from monitor.roles import user_set_role

    user_set_role(user=gone, role="reviewer")
    everyone = list(django_user_model.objects.all())

    assert [u.username for u in users_can_review()] == sorted(u.username for u in everyone if can_review(u))
    assert [u.username for u in users_can_review(leads_only=True)] == sorted(
        u.username for u in everyone if is_lead(u))
    assert {"alice", "bob", "dave", "root"} == {u.username for u in users_can_review()}
    assert root in users_can_review(leads_only=True)


@pytest.mark.django_db(transaction=True)
def test_a_reassignment_racing_a_decision_leaves_one_consistent_outcome(make_flag, reviewer, lead, dave):
    """Real concurrent transactions; needs PostgreSQL."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")
    for _ in range(5):
        flag = make_flag()
        flag_claim(flag_id=flag.pk, user=reviewer)
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def decide(flag=flag, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
                outcomes["decide"] = "ok"
            except FlagClaimed:
                outcomes["decide"] = "claimed"
            finally:
                connection.close()

        def reassign(flag=flag, barrier=barrier, outcomes=outcomes):
            try:
                barrier.wait()
                flag_reassign(flag_id=flag.pk, lead=lead, to_user=dave)
                outcomes["reassign"] = "ok"
            except ReviewConflict:
                outcomes["reassign"] = "conflict"
            finally:
                connection.close()

        threads = [threading.Thread(target=decide), threading.Thread(target=reassign)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

        flag.refresh_from_db()
        assert sorted(outcomes.values()) in (["claimed", "ok"], ["conflict", "ok"]), outcomes
        if outcomes["decide"] == "ok":
            assert flag.status == Flag.Status.CONFIRMED and flag.claimed_by is None
            assert not AuditEvent.objects.filter(action="flag.reassign", object_id=str(flag.pk)).exists()
        else:
            assert flag.status == Flag.Status.OPEN and flag.claimed_by == dave
            assert not ReviewDecision.objects.filter(flag=flag).exists()
