"""python manage.py delete_posts ID [ID ...] [--actor USERNAME] — delete posts for good."""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from monitor.deletion import posts_delete


class Command(BaseCommand):
    help = "Delete posts by id: database rows, flags, full-text entries, and their vectors from the index."

    def add_arguments(self, parser):
        parser.add_argument("post_ids", nargs="+", type=int, metavar="ID")
        parser.add_argument("--actor", default="", help="username recorded in the audit log (default: system)")

    def handle(self, *args, post_ids: list[int], actor: str, **options):
        user = None
        if actor:
            user = get_user_model().objects.filter(username=actor).first()
            if user is None:
                raise CommandError(f"no user named {actor!r}")
        deleted = posts_delete(post_ids=post_ids, actor=user)
        missing = sorted(set(post_ids) - set(deleted))
        self.stdout.write(f"deleted {len(deleted)} post(s)" + (f"; not found: {missing}" if missing else ""))
