"""`python manage.py find_duplicates [--team ID ...]`: the bulk finder over existing leads and accounts."""

from django.core.management.base import BaseCommand

from accounts.models import Team
from qualify.dedupe.finder import find_duplicates


class Command(BaseCommand):
    help = "Flag duplicate pairs among the existing leads and accounts of every team (or of --team)."

    def add_arguments(self, parser):
        parser.add_argument("--team", type=int, action="append", help="a team id (repeatable); default: every team")

    def handle(self, *args, **options):
        teams = options["team"] or list(Team.objects.values_list("pk", flat=True))
        for rule, n in find_duplicates(teams).items():
            self.stdout.write(f"{rule}: {n} pairs flagged or strengthened")
