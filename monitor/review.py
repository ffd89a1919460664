"""Review decisions: a reviewer confirms, dismisses or escalates a flag.

The policy (which reason codes exist, which fit which action, who may decide
what) lives here and nowhere else; the dashboard form only asks these
functions.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from monitor.audit import audit_record
from monitor.claims.services import claim_matches_follow_decision
from monitor.models import Flag, ReviewDecision, ReviewerSettings
from monitor.roles import can_review, is_lead

NOTE_MAX_CHARS = 2000

# The review policy. ``violation`` codes confirm a flag; ``not_violation_*`` codes
# dismiss it; escalating takes either (the reviewer's best guess, for the lead).
REASON_CODES: dict[str, dict] = {
    "incitement": {
        "label": "Incitement to violence",
        "violation": True,
        "help": "Calls on others to attack, kill or drive out the community.",
    },
    "threat": {
        "label": "Threat",
        "violation": True,
        "help": "The author threatens violence against the community or its members.",
    },
    "dehumanisation": {
        "label": "Dehumanisation",
        "violation": True,
        "help": "Describes the community as vermin, disease, animals or less than human.",
    },
    "collective_blame": {
        "label": "Collective blame",
        "violation": True,
        "help": "Holds the whole community responsible for the acts of some (e.g. 'the Peul are all jihadists').",
    },
    "exclusion": {
        "label": "Exclusion or expulsion",
        "violation": True,
        "help": "Says the community must leave, be barred or be denied rights.",
    },
    "slur": {
        "label": "Slur",
        "violation": True,
        "help": "Uses a derogatory term for the community.",
    },
    "derogation": {
        "label": "Derogation",
        "violation": True,
        "help": "Insults or demeans the community without a slur.",
    },
    "misinformation": {
        "label": "Misinformation",
        "violation": True,
        "help": "A false claim about the community likely to provoke hostility.",
    },
    "not_violation_reporting": {
        "label": "Not a violation: news or reporting",
        "violation": False,
        "help": "Reports or quotes hateful speech or violence without endorsing it.",
    },
    "not_violation_counter_speech": {
        "label": "Not a violation: counter-speech",
        "violation": False,
        "help": "Condemns or rebuts hate against the community.",
    },
    "not_violation_no_target": {
        "label": "Not a violation: no protected target",
        "violation": False,
        "help": "The hostility is not aimed at a protected community (e.g. an armed group, a person).",
    },
    "not_violation_other": {
        "label": "Not a violation: other",
        "violation": False,
        "help": "Any other reason; say why in the note.",
    },
}

# What each action does to the flag.
ACTION_STATUS: dict[str, str] = {
    ReviewDecision.Action.CONFIRM.value: Flag.Status.CONFIRMED.value,
    ReviewDecision.Action.DISMISS.value: Flag.Status.DISMISSED.value,
    ReviewDecision.Action.ESCALATE.value: Flag.Status.ESCALATED.value,
}


# A confirm with no follow-up given asks the platform to remove the post: the least it leads to.
DEFAULT_FOLLOW_UP = ReviewDecision.FollowUp.REMOVE.value
DEFAULT_CLAIM_SECONDS = 300
# How long a lead's reassignment (``flag_reassign``) reserves a flag for the
# reviewer it names: a working shift, so the flag waits for them even if they
# open it hours later. The ordinary claim is minutes; this is deliberately long,
# and a lead can release or reassign it again at any time.
ASSIGNMENT_SECONDS = 8 * 3600
# Conditional UPDATEs tried before giving up when the claim keeps changing hands.
REASSIGN_ATTEMPTS = 3


class ReviewConflict(Exception):
    """The flag was no longer decidable: someone else decided it first."""


class FlagClaimed(ReviewConflict):
    """Another reviewer holds an unexpired claim on the flag."""

    def __init__(self, message: str, *, holder_id: int | None = None, until: datetime | None = None):
        super().__init__(message)
        self.holder_id, self.until = holder_id, until


def claim_seconds() -> int:
    """How long opening a flag reserves it (``MONITOR_CLAIM_SECONDS``, default 300)."""
    return int(getattr(settings, "MONITOR_CLAIM_SECONDS", DEFAULT_CLAIM_SECONDS))


def _claim_free_for(user, now: datetime) -> Q:
    """Rows ``user`` may take: unclaimed, claimed by ``user``, or whose claim has run out."""
    return Q(claimed_by__isnull=True) | Q(claimed_until__isnull=True) | Q(claimed_until__lt=now) | Q(claimed_by=user)


def flag_claim(*, flag_id: int, user, now: datetime | None = None) -> datetime:
    """Reserve an undecided flag for ``user`` for ``claim_seconds()``; return when the claim ends.

    1. Renew: a conditional UPDATE on rows ``user`` already holds whose claim ends
       sooner than the new one. Renewals are not audited (the page renews every
       couple of minutes).
    2. Otherwise take it: a conditional UPDATE on rows that are unclaimed or whose
       claim expired. Two reviewers racing for one flag are serialised by the
       database; the second UPDATE matches no row and raises ``FlagClaimed``.
       A decided flag (or an escalated one for a non-lead) raises ``ReviewConflict``.
       A flag a lead assigned to ``user`` (``flag_reassign``) keeps its longer
       hold: neither step shortens it, and its end is returned.
    3. A new claim writes a ``flag.claim`` audit event.
    """
    if not can_review(user):
        raise PermissionDenied("this user may not review flags")
    now = now or timezone.now()
    until = now + timedelta(seconds=claim_seconds())
    decidable = flag_decidable_statuses(user=user)
    with transaction.atomic():
        renewed = Flag.objects.filter(
            pk=flag_id, status__in=decidable, claimed_by=user, claimed_until__gte=now, claimed_until__lt=until
        ).update(claimed_until=until)
        if renewed:
            return until
        taken = (
            Flag.objects.filter(pk=flag_id, status__in=decidable)
            .filter(Q(claimed_by__isnull=True) | Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .update(claimed_by=user, claimed_until=until)
        )
        if not taken:
            flag = Flag.objects.get(pk=flag_id)  # Flag.DoesNotExist for a missing flag
            if flag.status not in decidable:
                raise ReviewConflict(f"flag {flag_id} is {flag.status}: it cannot be claimed")
            if flag.claimed_by_id == user.pk and flag.claimed_until is not None and flag.claimed_until >= until:
                return flag.claimed_until  # held for longer already: an assignment
            raise FlagClaimed(
                f"flag {flag_id} is being reviewed by someone else",
                holder_id=flag.claimed_by_id,
                until=flag.claimed_until,
            )
        audit_record(actor=user, action="flag.claim", obj=Flag(pk=flag_id), data={"until": until.isoformat()})
    return until


def flag_release(*, flag_id: int, user, leaving: bool = False, now: datetime | None = None) -> bool:
    """Give up ``user``'s claim on a flag; a lead may release anyone's. True when a claim was dropped.

    ``leaving`` is the page's own release when the reviewer navigates away: it
    drops only ``user``'s ordinary claim, never someone else's (even for a lead)
    and never an assignment (a hold longer than ``claim_seconds()``), so
    glancing at an assigned flag does not give it back.
    """
    if not can_review(user):
        raise PermissionDenied("this user may not review flags")
    rows = Flag.objects.filter(pk=flag_id, claimed_by__isnull=False)
    if leaving:
        now = now or timezone.now()
        rows = rows.filter(claimed_by=user).filter(
            Q(claimed_until__isnull=True) | Q(claimed_until__lte=now + timedelta(seconds=claim_seconds()))
        )
    elif not is_lead(user):
        rows = rows.filter(claimed_by=user)
    with transaction.atomic():
        holder = rows.values_list("claimed_by_id", flat=True).first()
        if holder is None or not rows.filter(claimed_by_id=holder).update(claimed_by=None, claimed_until=None):
            return False
        audit_record(actor=user, action="flag.release", obj=Flag(pk=flag_id), data={"holder_id": holder})
    return True


def flag_reassign(*, flag_id: int, lead, to_user, now: datetime | None = None) -> datetime:
    """A lead hands an undecided flag to ``to_user`` for ``ASSIGNMENT_SECONDS``; return when the hold ends.

    1. Only a lead may reassign (``PermissionDenied``); ``to_user`` must be able
       to decide the flag as it stands: a reviewer for an open flag, a lead for
       an escalated one (``ValidationError``, ``code="to_user"``).
    2. Read the current holder, then move the claim with a conditional UPDATE on
       that holder and on the status: a flag decided in the meantime raises
       ``ReviewConflict``; a claim that changed hands in between is read again
       (a few times), so the audit's ``from`` is the holder actually replaced.
       The lead's override is the point: a live claim by someone else is taken.
    3. From then on ``to_user`` holds the flag like a claim of their own (the
       queue's "claimed by me" shows it, their page renewals do not shorten it)
       and nobody else can decide it: ``flag_decide``'s own conditional UPDATE
       refuses them with ``FlagClaimed``.
    4. Write a ``flag.reassign`` audit event with the previous holder (``from``,
       None when the flag was free or its claim had run out) and ``to``.
    """
    if not is_lead(lead):
        raise PermissionDenied("only a lead may reassign a flag")
    if not can_review(to_user):
        raise ValidationError(f"{to_user.get_username()} may not review flags", code="to_user")
    now = now or timezone.now()
    until = now + timedelta(seconds=ASSIGNMENT_SECONDS)
    decidable = flag_decidable_statuses(user=to_user)
    with transaction.atomic():
        for _ in range(REASSIGN_ATTEMPTS):
            current = Flag.objects.filter(pk=flag_id).values("status", "claimed_by_id", "claimed_until").first()
            if current is None:
                raise Flag.DoesNotExist(f"no flag {flag_id}")
            if current["status"] not in (Flag.Status.OPEN, Flag.Status.ESCALATED):
                raise ReviewConflict(f"flag {flag_id} was already decided ({current['status']})")
            if current["status"] not in decidable:
                raise ValidationError(
                    f"{to_user.get_username()} may not decide an escalated flag: assign it to a lead", code="to_user"
                )
            holder = current["claimed_by_id"]
            moved = Flag.objects.filter(
                pk=flag_id, status=current["status"], claimed_by_id=holder, claimed_until=current["claimed_until"]
            ).update(claimed_by=to_user, claimed_until=until)
            if moved:
                break
        else:
            raise ReviewConflict(f"flag {flag_id} kept changing hands; try again")
        live = holder is not None and current["claimed_until"] is not None and current["claimed_until"] >= now
        from_user = get_user_model().objects.filter(pk=holder).first() if live else None
        audit_record(
            actor=lead,
            action="flag.reassign",
            obj=Flag(pk=flag_id),
            data={
                "from_id": from_user.pk if from_user else None,
                "from": from_user.get_username() if from_user else None,
                "to_id": to_user.pk,
                "to": to_user.get_username(),
                "until": until.isoformat(),
            },
        )
    return until


def reason_code_fits(*, action: str, reason_code: str) -> bool:
    """Does ``reason_code`` justify ``action`` under the policy?"""
    reason = REASON_CODES.get(reason_code)
    if reason is None or action not in ACTION_STATUS:
        return False
    if action == ReviewDecision.Action.CONFIRM:
        return reason["violation"]
    if action == ReviewDecision.Action.DISMISS:
        return not reason["violation"]
    return True


def flag_decidable_statuses(*, user) -> tuple[str, ...]:
    """The flag statuses ``user`` may decide: open ones, and escalated ones for leads."""
    if not can_review(user):
        return ()
    if is_lead(user):
        return (Flag.Status.OPEN, Flag.Status.ESCALATED)
    return (Flag.Status.OPEN,)


def flag_can_decide(*, flag: Flag, user) -> bool:
    """May ``user`` decide ``flag`` as it stands now?"""
    return flag.status in flag_decidable_statuses(user=user)


def _validate(*, action: str, reason_code: str, note: str) -> None:
    if action not in ACTION_STATUS:
        raise ValidationError(f"unknown action {action!r}", code="action")
    if reason_code not in REASON_CODES:
        raise ValidationError(f"unknown reason code {reason_code!r}", code="reason_code")
    if not reason_code_fits(action=action, reason_code=reason_code):
        needs = "a violation code" if action == ReviewDecision.Action.CONFIRM else "a not_violation_* code"
        raise ValidationError(f"{action} needs {needs}, not {reason_code!r}", code="reason_code")
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(f"the note is longer than {NOTE_MAX_CHARS} characters", code="note")


def flag_decide(
    *,
    flag_id: int,
    user,
    action: str,
    reason_code: str,
    note: str = "",
    follow_up: str = "",
    batch: str = "",
    now: datetime | None = None,
) -> ReviewDecision:
    """Record ``user``'s decision on a flag and move the flag to its new status.

    1. Check the user may review (``PermissionDenied``) and that the action,
       reason code and follow-up fit the policy (``ValidationError``). A confirm
       without a follow-up gets ``DEFAULT_FOLLOW_UP``; other actions have none.
    2. Read the flag (``Flag.DoesNotExist``). A decided flag raises
       ``ReviewConflict``; an escalated one needs a lead (``PermissionDenied``)
       and then a confirm or a dismiss.
    3. Move its status with a conditional UPDATE on the status just read and on
       the claim: the flag must be unclaimed, claimed by ``user`` or claimed
       with an expired claim. When two reviewers race, the database serialises
       the two UPDATEs and the second matches no row: it raises ``FlagClaimed``
       (someone holds it) or ``ReviewConflict`` (someone decided it) and writes nothing.
    4. Write the ``ReviewDecision`` and the ``flag.decide`` audit event, in the
       same transaction as the status change.
    """
    if not can_review(user):
        raise PermissionDenied("this user may not review flags")
    note = (note or "").strip()
    follow_up = _follow_up_for(action=action, follow_up=follow_up)
    _validate(action=action, reason_code=reason_code, note=note)

    with transaction.atomic():
        flag = _flag_read(flag_id=flag_id)
        previous = flag.status
        if previous not in (Flag.Status.OPEN, Flag.Status.ESCALATED):
            raise ReviewConflict(f"flag {flag_id} was already decided ({previous})")
        if previous not in flag_decidable_statuses(user=user):
            raise PermissionDenied("only a lead may decide an escalated flag")
        if previous == Flag.Status.ESCALATED and action == ReviewDecision.Action.ESCALATE:
            raise ValidationError("this flag is already escalated: confirm or dismiss it", code="action")

        status = ACTION_STATUS[action]
        now = now or timezone.now()
        moved = (
            Flag.objects.filter(pk=flag.pk, status=previous)
            .filter(_claim_free_for(user, now))
            .update(status=status, claimed_by=None, claimed_until=None, updated_at=now)
        )
        if moved == 0:
            current = Flag.objects.filter(pk=flag.pk).values("status", "claimed_by_id", "claimed_until").first()
            if current and current["status"] == previous:
                raise FlagClaimed(
                    f"flag {flag_id} is being reviewed by someone else",
                    holder_id=current["claimed_by_id"],
                    until=current["claimed_until"],
                )
            raise ReviewConflict(f"flag {flag_id} was decided by someone else first")
        flag.status, flag.claimed_by, flag.claimed_until, flag.updated_at = status, None, None, now

        decision = ReviewDecision.objects.create(
            flag=flag,
            reviewer=user,
            action=action,
            reason_code=reason_code,
            follow_up=follow_up,
            note=note,
            from_status=previous,
            batch=batch,
        )
        data = {
            "decision_id": decision.pk,
            "action": action,
            "reason_code": reason_code,
            "from_status": previous,
            "to_status": status,
            "post_id": flag.post_id,
            "has_note": bool(note),
        }
        if follow_up:
            data["follow_up"] = follow_up
        if batch:
            data["batch"] = batch
        audit_record(actor=user, action="flag.decide", obj=flag, data=data)
        if flag.kind == Flag.Kind.MISINFORMATION:
            # The claim match behind the flag follows the decision (a confirmed one becomes an exemplar).
            claim_matches_follow_decision(flag_ids=[flag.pk], action=action, actor=user)
    return decision


def _follow_up_for(*, action: str, follow_up: str) -> str:
    if action != ReviewDecision.Action.CONFIRM:
        return ""
    follow_up = follow_up or DEFAULT_FOLLOW_UP
    if follow_up not in ReviewDecision.FollowUp.values:
        raise ValidationError(f"unknown follow-up {follow_up!r}", code="follow_up")
    return follow_up


def decision_revert(*, decision_id: int, user, note: str = "", batch: str = "") -> ReviewDecision:
    """Undo a decision: the flag goes back to open, and a ``revert`` decision records who and why.

    Leads may revert any decision; the reviewer who made a cluster decision may
    undo it (``decision_batch_revert`` passes its ``batch``, which the revert row
    carries too). Only the flag's latest decision can be
    reverted, and only while the flag still has the status that decision gave
    it (a conditional UPDATE): otherwise ``ReviewConflict``.
    """
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise ValidationError(f"the note is longer than {NOTE_MAX_CHARS} characters", code="note")
    with transaction.atomic():
        decision = ReviewDecision.objects.select_related("flag").get(pk=decision_id)
        if not can_review(user):
            raise PermissionDenied("this user may not review flags")
        own_batch = bool(batch) and decision.batch == batch and decision.reviewer_id == user.pk
        if not (is_lead(user) or own_batch):
            raise PermissionDenied("only a lead may revert a decision")
        if decision.action == ReviewDecision.Action.REVERT:
            raise ValidationError("a revert cannot itself be reverted; decide the flag again", code="action")
        latest = ReviewDecision.objects.filter(flag_id=decision.flag_id).order_by("-created_at", "-id").first()
        if latest is None or latest.pk != decision.pk:
            raise ReviewConflict(f"decision {decision_id} is no longer the flag's latest")
        status = ACTION_STATUS[decision.action]
        moved = Flag.objects.filter(pk=decision.flag_id, status=status).update(
            status=Flag.Status.OPEN, claimed_by=None, claimed_until=None, updated_at=timezone.now()
        )
        if not moved:
            raise ReviewConflict(f"flag {decision.flag_id} changed since decision {decision_id}")
        revert = ReviewDecision.objects.create(
            flag_id=decision.flag_id,
            reviewer=user,
            action=ReviewDecision.Action.REVERT,
            note=note,
            from_status=status,
            reverts=decision,
            batch=batch,
        )
        audit_record(
            actor=user,
            action="flag.revert",
            obj=decision.flag,
            data={
                "decision_id": revert.pk,
                "reverted_decision_id": decision.pk,
                "reverted_action": decision.action,
                "from_status": status,
                "to_status": Flag.Status.OPEN.value,
                "batch": batch,
            },
        )
        if decision.flag.kind == Flag.Kind.MISINFORMATION:
            claim_matches_follow_decision(flag_ids=[decision.flag_id], action="revert", actor=user)
    return revert


# --- cluster actions -----------------------------------------------------------------

@dataclass(frozen=True)
class ClusterResult:
    batch: str
    decided: list[int]
    skipped: list[int]


def cluster_candidates(*, flag_id: int, user, now: datetime | None = None) -> list[int]:
    """Ids of the flags one cluster decision from ``flag_id`` would touch, the flag itself first.

    Every flag of a post in the same cluster with the flag's status (open, or
    escalated for a lead) and not held by another reviewer. A flag outside any
    cluster is its own only candidate.
    """
    now = now or timezone.now()
    flag = Flag.objects.select_related("post").get(pk=flag_id)
    if flag.status not in flag_decidable_statuses(user=user):
        return []
    if flag.post.cluster_id is None:
        return [flag.pk]
    others = (
        Flag.objects.filter(post__cluster_id=flag.post.cluster_id, status=flag.status)
        .exclude(pk=flag.pk)
        .filter(_claim_free_for(user, now))
        .order_by("-priority", "id")
        .values_list("pk", flat=True)
    )
    return [flag.pk, *others]


def cluster_decide(
    *, flag_id: int, user, action: str, reason_code: str, note: str = "", follow_up: str = ""
) -> ClusterResult:
    """Apply one decision to every flag of ``flag_id``'s cluster that ``cluster_candidates`` lists.

    Each flag gets its own ``ReviewDecision`` (and audit event), all sharing a
    new ``batch`` id, so ``decision_batch_revert`` can undo them together. The
    flag the reviewer is looking at must be decidable by them (else the
    exception ``flag_decide`` raises); any other flag that someone decided or
    claimed in the meantime is skipped, not overwritten. One
    ``cluster.decide`` event records the batch.
    """
    batch = uuid.uuid4().hex
    decided: list[int] = []
    skipped: list[int] = []
    with transaction.atomic():
        candidates = cluster_candidates(flag_id=flag_id, user=user)
        if not candidates:
            raise ReviewConflict(f"flag {flag_id} is not open for this reviewer")
        for position, candidate in enumerate(candidates):
            try:
                with transaction.atomic():
                    flag_decide(
                        flag_id=candidate, user=user, action=action, reason_code=reason_code,
                        note=note, follow_up=follow_up, batch=batch,
                    )
                decided.append(candidate)
            except ReviewConflict:
                if position == 0:
                    raise
                skipped.append(candidate)
        audit_record(
            actor=user,
            action="cluster.decide",
            obj=Flag(pk=flag_id),
            data={"batch": batch, "action": action, "reason_code": reason_code,
                  "decided": len(decided), "skipped": len(skipped)},
        )
    return ClusterResult(batch=batch, decided=decided, skipped=skipped)


def decision_batch_revert(*, batch: str, user, note: str = "") -> ClusterResult:
    """Undo a cluster decision: revert each of the batch's decisions still in force.

    Its author or a lead may do it. Flags decided again since are left alone
    (listed as skipped).
    """
    if not batch:
        raise ValidationError("no batch given", code="batch")
    decisions = list(
        ReviewDecision.objects.filter(batch=batch).exclude(action=ReviewDecision.Action.REVERT).order_by("id")
    )
    if not decisions:
        raise ReviewDecision.DoesNotExist(f"no decision in batch {batch}")
    if not (is_lead(user) or all(d.reviewer_id == user.pk for d in decisions)):
        raise PermissionDenied("only the reviewer who made the cluster decision, or a lead, may undo it")
    undo = uuid.uuid4().hex
    reverted: list[int] = []
    skipped: list[int] = []
    with transaction.atomic():
        for decision in decisions:
            try:
                with transaction.atomic():
                    decision_revert(decision_id=decision.pk, user=user, note=note, batch=batch)
                reverted.append(decision.flag_id)
            except (ReviewConflict, ValidationError):
                skipped.append(decision.flag_id)
        audit_record(
            actor=user, action="cluster.revert", obj=None,
            data={"batch": batch, "undo": undo, "reverted": len(reverted), "skipped": len(skipped)},
        )
    return ClusterResult(batch=batch, decided=reverted, skipped=skipped)


# --- reviewer settings -------------------------------------------------------------

def reviewer_settings_update(*, user, blur: bool) -> ReviewerSettings:
    """Save ``user``'s wellbeing settings; a change writes a ``settings.change`` audit event."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied("log in first")
    with transaction.atomic():
        row, _ = ReviewerSettings.objects.select_for_update().get_or_create(user=user)
        if row.blur != blur:
            previous, row.blur = row.blur, blur
            row.save(update_fields=["blur", "updated_at"])
            audit_record(actor=user, action="settings.change", obj=row, data={"blur": [previous, blur]})
    return row


def _flag_read(*, flag_id: int) -> Flag:
    # A plain read: the conditional UPDATE, not a lock, is what guards the decision.
    return Flag.objects.get(pk=flag_id)
