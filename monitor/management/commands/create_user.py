"""``manage.py create_user USERNAME --role reviewer``: create or update a dashboard user."""
from __future__ import annotations

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from monitor.roles import ROLES, user_create


class Command(BaseCommand):
    help = (
        "Create a user (or update an existing one's password and role). The password comes from "
        "--password, else the VIGIE_PASSWORD environment variable, else an interactive prompt. "
        "Prefer the environment: a --password shows in the process list and shell history."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--password", default=None)

    def handle(self, *args, username: str, role: str, password: str | None, **options):
        password = password or os.environ.get("VIGIE_PASSWORD") or self._prompt()
        try:
            user = user_create(username=username, password=password, role=role)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"{user.username}: role {role}")

    def _prompt(self) -> str:
        if not sys.stdin.isatty():
            raise CommandError("no password: pass --password or set VIGIE_PASSWORD")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("passwords do not match")
        return first
