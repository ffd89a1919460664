"""python manage.py load_communities — upsert protected communities and actors from YAML."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from monitor.communities import DefinitionError, communities_load, default_path


class Command(BaseCommand):
    help = "Create or update Community rows from seeds/communities.yaml (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, default=None, help=f"YAML file (default: {default_path()})")

    def handle(self, *args, **options):
        try:
            count = communities_load(path=options["path"])
        except DefinitionError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{count} communities and actors loaded from {options['path'] or default_path()}")
