"""python manage.py create_token USERNAME --name NAME — print a new API token once."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monitor.audit import audit_record
from monitor.tokens import token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it (it is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="cli", help="a label for the token")

    def handle(self, *args, username: str, name: str, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}; create one with: python manage.py create_user")
        token, key = token_create(user=user, name=name)
        audit_record(actor=None, action="token.create", obj=token, data={"user": username, "name": name})
        self.stdout.write(key)
