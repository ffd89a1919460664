"""Roles are groups with model permissions; the predicates test capabilities."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from monitor.roles import ROLES, can_review, is_lead, roles_ensure, user_create, user_role, user_set_role


def test_roles_ensure_is_idempotent(db):
    roles_ensure()
    counts = {g.name: g.permissions.count() for g in Group.objects.all()}
    roles_ensure()
    assert {g.name: g.permissions.count() for g in Group.objects.all()} == counts
    assert set(counts) == set(ROLES)


def test_the_capability_matrix(reviewer, lead, researcher, outsider):
    assert [can_review(u) for u in (reviewer, lead, researcher, outsider)] == [True, True, False, False]
    assert [is_lead(u) for u in (reviewer, lead, researcher, outsider)] == [False, True, False, False]
    assert researcher.has_perm("monitor.view_post")


def test_setting_a_role_replaces_the_previous_one(reviewer):
    user_set_role(user=reviewer, role="researcher")
    assert user_role(reviewer) == "researcher"
    assert not can_review(reviewer)
    assert list(reviewer.groups.values_list("name", flat=True)) == ["researcher"]


def test_an_admin_is_staff_and_may_do_everything(reviewer):
    user_set_role(user=reviewer, role="admin")
    reviewer.refresh_from_db()
    assert reviewer.is_staff and is_lead(reviewer) and reviewer.has_perm("auth.add_user")
    user_set_role(user=reviewer, role="reviewer")
    reviewer.refresh_from_db()
    assert not reviewer.is_staff


def test_an_unknown_role_is_refused(reviewer):
    with pytest.raises(ValueError):
        user_set_role(user=reviewer, role="superhero")


def test_user_create_creates_then_updates(db):
    user = user_create(username="dia", password="a long passphrase 1", role="reviewer")
    again = user_create(username="dia", password="another passphrase 2", role="lead")
    assert again.pk == user.pk
    again.refresh_from_db()
    assert again.check_password("another passphrase 2")
    assert user_role(again) == "lead"


def test_user_create_refuses_a_weak_password(db):
    with pytest.raises(ValidationError):
        user_create(username="dia", password="password", role="reviewer")


def test_the_command_reads_the_password_from_the_environment(db, monkeypatch, capsys):
    monkeypatch.setenv("VIGIE_PASSWORD", "a long passphrase 1")
    call_command("create_user", "aminata", "--role", "lead")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="aminata")
    assert user.check_password("a long passphrase 1") and is_lead(user)


def test_the_command_fails_without_a_password(db, monkeypatch):
    monkeypatch.delenv("VIGIE_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    with pytest.raises(CommandError):
        call_command("create_user", "aminata", "--role", "lead")
