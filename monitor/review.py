"""Review decisions: a reviewer confirms, dismisses or escalates a flag.

The policy (which reason codes exist, which fit which action, who may decide
what) lives here and nowhere else; the dashboard form only asks these
functions.
"""
from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from monitor.audit import audit_record
from monitor.models import Flag, ReviewDecision
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


class ReviewConflict(Exception):
    """The flag was no longer decidable: someone else decided it first."""


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


def flag_decide(*, flag_id: int, user, action: str, reason_code: str, note: str = "") -> ReviewDecision:
    """Record ``user``'s decision on a flag and move the flag to its new status.

    1. Check the user may review (``PermissionDenied``) and that the action and
       reason code fit the policy (``ValidationError``).
    2. Read the flag (``Flag.DoesNotExist``). A decided flag raises
       ``ReviewConflict``; an escalated one needs a lead (``PermissionDenied``)
       and then a confirm or a dismiss.
    3. Move its status with a conditional UPDATE on the status just read. When
       two reviewers race, the database serialises the two UPDATEs and the
       second matches no row: it raises ``ReviewConflict`` and writes nothing.
    4. Write the ``ReviewDecision`` and the ``flag.decide`` audit event, in the
       same transaction as the status change.
    """
    if not can_review(user):
        raise PermissionDenied("this user may not review flags")
    note = (note or "").strip()
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
        now = timezone.now()
        moved = Flag.objects.filter(pk=flag.pk, status=previous).update(
            status=status, claimed_by=None, claimed_until=None, updated_at=now
        )
        if moved == 0:
            raise ReviewConflict(f"flag {flag_id} was decided by someone else first")
        flag.status, flag.claimed_by, flag.claimed_until, flag.updated_at = status, None, None, now

        decision = ReviewDecision.objects.create(
            flag=flag, reviewer=user, action=action, reason_code=reason_code, note=note
        )
        audit_record(
            actor=user,
            action="flag.decide",
            obj=flag,
            data={
                "decision_id": decision.pk,
                "action": action,
                "reason_code": reason_code,
                "from_status": previous,
                "to_status": status,
                "post_id": flag.post_id,
                "has_note": bool(note),
            },
        )
    return decision


def _flag_read(*, flag_id: int) -> Flag:
    # A plain read: the conditional UPDATE, not a lock, is what guards the decision.
    return Flag.objects.get(pk=flag_id)
