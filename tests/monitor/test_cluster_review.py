"""Cluster decisions, their undo, and reverts by a lead."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from monitor.models import AuditEvent, Cluster, Flag, ReviewDecision
from monitor.review import (
    ReviewConflict,
    cluster_candidates,
    cluster_decide,
    decision_batch_revert,
    decision_revert,
    flag_decide,
)
from monitor.selectors import flag_context


@pytest.fixture
def cluster_flags(make_post, make_flag):
    """Four flags on four near-duplicate posts of one cluster, plus one flag outside it."""
    cluster = Cluster.objects.create(size=4)
    flags = [
        make_flag(post=make_post(text=f"Il faut chasser les Peuls {i}", cluster=cluster), priority=10 - i,
                  text=f"Il faut chasser les Peuls {i}")
        for i in range(4)
    ]
    make_flag(text="ailleurs Peuls")
    return flags


def test_the_preview_lists_the_open_flags_of_the_cluster(cluster_flags, reviewer, lead):
    first, second, third, fourth = cluster_flags
    Flag.objects.filter(pk=third.pk).update(status=Flag.Status.DISMISSED)
    Flag.objects.filter(pk=fourth.pk).update(claimed_by=lead, claimed_until=timezone.now() + timedelta(minutes=5))

    assert cluster_candidates(flag_id=first.pk, user=reviewer) == [first.pk, second.pk]


def test_a_flag_outside_a_cluster_is_its_own_candidate(make_flag, reviewer):
    flag = make_flag()
    assert cluster_candidates(flag_id=flag.pk, user=reviewer) == [flag.pk]


def test_one_decision_covers_the_cluster_and_can_be_undone(cluster_flags, reviewer):
    first = cluster_flags[0]

    result = cluster_decide(flag_id=first.pk, user=reviewer, action="confirm", reason_code="exclusion",
                            follow_up="authorities")

    assert sorted(result.decided) == sorted(f.pk for f in cluster_flags) and result.skipped == []
    assert set(Flag.objects.filter(pk__in=result.decided).values_list("status", flat=True)) == {"confirmed"}
    decisions = ReviewDecision.objects.filter(batch=result.batch)
    assert decisions.count() == 4 and {d.follow_up for d in decisions} == {"authorities"}
    assert AuditEvent.objects.filter(action="flag.decide").count() == 4
    assert AuditEvent.objects.get(action="cluster.decide").data["decided"] == 4

    undone = decision_batch_revert(batch=result.batch, user=reviewer)

    assert sorted(undone.decided) == sorted(result.decided)
    assert set(Flag.objects.filter(pk__in=result.decided).values_list("status", flat=True)) == {"open"}
    assert ReviewDecision.objects.filter(action="revert", batch=result.batch).count() == 4
    assert ReviewDecision.objects.count() == 8  # both kept in the log
    assert AuditEvent.objects.filter(action="flag.revert").count() == 4


def test_undo_leaves_flags_decided_again_since(cluster_flags, reviewer, lead):
    result = cluster_decide(flag_id=cluster_flags[0].pk, user=reviewer, action="escalate", reason_code="threat")
    flag_decide(flag_id=cluster_flags[1].pk, user=lead, action="confirm", reason_code="threat")

    undone = decision_batch_revert(batch=result.batch, user=reviewer)

    assert undone.skipped == [cluster_flags[1].pk]
    assert Flag.objects.get(pk=cluster_flags[1].pk).status == Flag.Status.CONFIRMED


def test_another_reviewer_cannot_undo_a_batch(cluster_flags, reviewer, django_user_model):
    from monitor.roles import user_set_role

    other = django_user_model.objects.create_user(username="eve", password="x")
    user_set_role(user=other, role="reviewer")
    result = cluster_decide(flag_id=cluster_flags[0].pk, user=reviewer, action="dismiss",
                            reason_code="not_violation_reporting")
    with pytest.raises(PermissionDenied):
        decision_batch_revert(batch=result.batch, user=other)


def test_a_cluster_decision_on_a_flag_someone_holds_fails(cluster_flags, reviewer, lead):
    Flag.objects.filter(pk=cluster_flags[0].pk).update(claimed_by=lead,
                                                       claimed_until=timezone.now() + timedelta(minutes=5))
    with pytest.raises(ReviewConflict):
        cluster_decide(flag_id=cluster_flags[0].pk, user=reviewer, action="confirm", reason_code="slur")
    assert not ReviewDecision.objects.exists()


def test_a_lead_reverts_a_decision_and_both_stay_in_the_log(make_flag, reviewer, lead):
    flag = make_flag()
    decision = flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")

    revert = decision_revert(decision_id=decision.pk, user=lead, note="contexte: reportage")

    flag.refresh_from_db()
    assert flag.status == Flag.Status.OPEN
    assert (revert.action, revert.reverts, revert.note) == ("revert", decision, "contexte: reportage")
    assert list(ReviewDecision.objects.filter(flag=flag).order_by("id").values_list("action", flat=True)) == [
        "confirm", "revert"]
    event = AuditEvent.objects.get(action="flag.revert")
    assert event.actor == lead and event.data["reverted_decision_id"] == decision.pk
    # Decidable again.
    flag_decide(flag_id=flag.pk, user=reviewer, action="dismiss", reason_code="not_violation_reporting")


def test_only_a_lead_reverts(make_flag, reviewer):
    flag = make_flag()
    decision = flag_decide(flag_id=flag.pk, user=reviewer, action="confirm", reason_code="exclusion")
    with pytest.raises(PermissionDenied):
        decision_revert(decision_id=decision.pk, user=reviewer)


def test_only_the_latest_decision_is_reverted(make_flag, reviewer, lead):
    flag = make_flag()
    escalation = flag_decide(flag_id=flag.pk, user=reviewer, action="escalate", reason_code="threat")
    flag_decide(flag_id=flag.pk, user=lead, action="confirm", reason_code="threat")
    with pytest.raises(ReviewConflict):
        decision_revert(decision_id=escalation.pk, user=lead)
    revert = decision_revert(decision_id=ReviewDecision.objects.get(action="confirm").pk, user=lead)
    with pytest.raises(ValidationError):
        decision_revert(decision_id=revert.pk, user=lead)


def test_a_confirm_records_its_follow_up_and_others_none(make_flag, reviewer):
    a, b = make_flag(text="a Peuls"), make_flag(text="b Peuls")
    assert flag_decide(flag_id=a.pk, user=reviewer, action="confirm", reason_code="slur",
                       follow_up="platform").follow_up == "platform"
    assert flag_decide(flag_id=b.pk, user=reviewer, action="dismiss", reason_code="not_violation_other",
                       follow_up="platform").follow_up == ""
    with pytest.raises(ValidationError):
        flag_decide(flag_id=make_flag(text="c").pk, user=reviewer, action="confirm", reason_code="slur",
                    follow_up="burn")


def test_the_context_shows_author_history_cluster_growth_and_decided_duplicates(cluster_flags, reviewer, make_post,
                                                                               make_flag):
    first, second, *_ = cluster_flags
    flag_decide(flag_id=second.pk, user=reviewer, action="confirm", reason_code="exclusion")
    same_author = make_post(text="encore les Peuls", author_pseudonym=first.post.author_pseudonym)
    confirmed = make_flag(post=same_author, text="encore les Peuls")
    Flag.objects.filter(pk=confirmed.pk).update(status=Flag.Status.CONFIRMED)
    from monitor.models import Post

    Post.objects.filter(pk=cluster_flags[3].post_id).update(created_at=timezone.now() - timedelta(hours=3))
    Post.objects.filter(pk=cluster_flags[2].post_id).update(created_at=timezone.now() - timedelta(days=3))

    ctx = flag_context(flag=Flag.objects.select_related("post").get(pk=first.pk))

    assert ctx.author_confirmed == 1
    assert (ctx.cluster_size, ctx.cluster_last_hour, ctx.cluster_last_day) == (4, 2, 3)
    assert (ctx.cluster_open, ctx.cluster_decided) == (2, 1)
    decided = {f.pk: d for f, d in ctx.cluster_flags}
    assert decided[second.pk].action == "confirm" and decided[cluster_flags[2].pk] is None
