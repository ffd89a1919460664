"""python manage.py setup — migrate, load communities, create roles. Safe to run again."""
from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Prepare a database: apply migrations, load communities and fact-checked claims from seeds/, create roles."

    def handle(self, *args, **options):
        from monitor.communities import communities_load
        from monitor.roles import roles_ensure

        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("migrations applied")
        count = communities_load()
        self.stdout.write(f"communities loaded: {count}")
        call_command("load_claims", stdout=self.stdout)
        roles_ensure()
        self.stdout.write("roles ready: reviewer, lead, researcher, admin, ingest")
