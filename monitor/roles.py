"""Roles: Django groups carrying Django's own model permissions.

A role is a group of the same name. No custom permission (and so no model
change) is needed: each capability maps onto a default model permission.

============  ==============================================================
role          permissions (``monitor.`` app label)
============  ==============================================================
researcher    view_post, view_community, view_cluster, view_flag: read the
              corpus and the detector's flags (search, filters, the API)
reviewer      researcher's + change_flag, add_reviewdecision,
              view_reviewdecision: triage the queue and decide open flags
lead          reviewer's + view_auditevent: also decides escalated flags and
              reads the audit log
(claims.)     researcher: view_claim, view_claimmatch (claim pages, exports);
              lead: those + add_claim, change_claim (edit the claim bank)
(reports.)    researcher and lead: view_weeklyreport (weekly reports);
              reviewer and lead: view_alert; lead: change_alert (acknowledge)
ingest        add_post: a machine account that submits posts through the API
admin         every permission in the database, and ``is_staff`` for the
              Django admin
============  ==============================================================

Code asks capabilities, never group names: ``can_review(user)`` and
``is_lead(user)`` test permissions, so a superuser or an admin passes too.
Templates may use ``perms.monitor.view_auditevent`` for "is a lead".
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet

REVIEWER = "reviewer"
LEAD = "lead"
RESEARCHER = "researcher"
ADMIN = "admin"
INGEST = "ingest"
ROLES: tuple[str, ...] = (REVIEWER, LEAD, RESEARCHER, ADMIN, INGEST)

# view_flag lets researchers filter search results by flag and read flags through the API;
# the review queue needs change_flag and add_reviewdecision as well (``can_review``).
_RESEARCHER_PERMS = ["monitor.view_post", "monitor.view_community", "monitor.view_cluster", "monitor.view_flag"]
_REVIEWER_PERMS = _RESEARCHER_PERMS + [
    "monitor.change_flag",
    "monitor.add_reviewdecision",
    "monitor.view_reviewdecision",
]
_LEAD_PERMS = _REVIEWER_PERMS + ["monitor.view_auditevent"]
# Weekly reports are aggregates for planning: leads and researchers read them, not
# reviewers. Alerts are for the people who act on them: reviewers see, leads acknowledge.
_REPORT_PERMS = ["reports.view_weeklyreport"]
_ALERT_PERMS = ["reports.view_alert"]
_ALERT_LEAD_PERMS = _ALERT_PERMS + ["reports.change_alert"]
# The claim bank: researchers read claims and the posts matched to them (and export them);
# leads also add and edit claims. Reviewers see a flag's claim on the flag page.
_CLAIM_PERMS = ["claims.view_claim", "claims.view_claimmatch"]
_CLAIM_LEAD_PERMS = _CLAIM_PERMS + ["claims.add_claim", "claims.change_claim"]

# None means "every permission there is".
ROLE_PERMISSIONS: dict[str, list[str] | None] = {
    RESEARCHER: _RESEARCHER_PERMS + _REPORT_PERMS + _CLAIM_PERMS,
    REVIEWER: _REVIEWER_PERMS + _ALERT_PERMS,
    LEAD: _LEAD_PERMS + _REPORT_PERMS + _ALERT_LEAD_PERMS + _CLAIM_LEAD_PERMS,
    INGEST: ["monitor.add_post"],
    ADMIN: None,
}

# The permissions that stand for a capability; the predicates below test these.
REVIEW_PERMS = ("monitor.change_flag", "monitor.add_reviewdecision")
LEAD_PERM = "monitor.view_auditevent"


def _permissions(names: list[str]) -> list[Permission]:
    """Look up ``app_label.codename`` permissions; fail loudly if any is missing."""
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = list(
        Permission.objects.filter(
            content_type__app_label__in={app for app, _ in wanted},
            codename__in={code for _, code in wanted},
        ).select_related("content_type")
    )
    found = [p for p in found if (p.content_type.app_label, p.codename) in wanted]
    missing = wanted - {(p.content_type.app_label, p.codename) for p in found}
    if missing:
        raise ImproperlyConfigured(
            f"permissions missing: {sorted('.'.join(m) for m in missing)}; run `manage.py migrate` first"
        )
    return found


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups and give each exactly its permissions. Safe to run any number of times."""
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        perms = list(Permission.objects.all()) if names is None else _permissions(names)
        group.permissions.set(perms)


def _clear_perm_cache(user) -> None:
    # ModelBackend caches permissions on the instance; a role change must show at once.
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(attr, None)


@transaction.atomic
def user_set_role(*, user, role: str) -> None:
    """Give ``user`` exactly one role, replacing any other role group it had.

    Groups that are not roles are left alone. ``is_staff`` follows the admin
    role (superusers keep it regardless).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    group = Group.objects.filter(name=role).first()
    if group is None:
        roles_ensure()
        group = Group.objects.get(name=role)
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(pk=group.pk))
    user.groups.add(group)
    is_staff = role == ADMIN or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    _clear_perm_cache(user)


@transaction.atomic
def user_create(*, username: str, password: str, role: str):
    """Get or create ``username``, set its password and its role; return the user.

    Running it again for the same username updates the password and role
    (so a deployment script may run it on every start). The password must
    pass the configured validators (``django.core.exceptions.ValidationError``).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username)
    validate_password(password, user=user)
    user.set_password(password)
    user.is_active = True
    user.save()
    user_set_role(user=user, role=role)
    return user


def user_role(user) -> str | None:
    """The user's role name, or None (the highest if several groups were set by hand)."""
    if not getattr(user, "is_authenticated", False):
        return None
    names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
    for role in (ADMIN, LEAD, REVIEWER, RESEARCHER, INGEST):
        if role in names:
            return role
    return None


def can_review(user) -> bool:
    """May this user see the flag queue and decide open flags?"""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perms(REVIEW_PERMS)
    )


def _has_perm_q(perm: str) -> Q:
    """Users holding ``perm`` ("app_label.codename") through a group or directly."""
    app_label, codename = perm.split(".", 1)
    perms = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return Q(Exists(perms.filter(group__user=OuterRef("pk")))) | Q(Exists(perms.filter(user=OuterRef("pk"))))


def users_can_review(*, leads_only: bool = False) -> QuerySet:
    """Active users ``can_review`` (or ``is_lead``) would accept, by username, in one query.

    The same permissions as the predicates, asked in SQL: a superuser, or every
    permission of ``REVIEW_PERMS`` (and ``LEAD_PERM``) through groups or directly.
    """
    wanted = REVIEW_PERMS + ((LEAD_PERM,) if leads_only else ())
    holds_all = Q()
    for perm in wanted:
        holds_all &= _has_perm_q(perm)
    return get_user_model().objects.filter(is_active=True).filter(Q(is_superuser=True) | holds_all).order_by(
        "username"
    )


def is_lead(user) -> bool:
    """May this user decide escalated flags and read the audit log?"""
    return can_review(user) and user.has_perm(LEAD_PERM)
