"""`manage.py sync_property_indexes`: bring a database's number-property range indexes in line with
the definitions now, without a worker (after a restore, or on a database defined before them)."""

from django.core.management.base import BaseCommand

from qualify.leads.tasks import sync_property_indexes


class Command(BaseCommand):
    help = "Create missing range indexes of number properties and drop stale ones (CONCURRENTLY)."

    def handle(self, *args, **options):
        done = sync_property_indexes()
        self.stdout.write(f"created: {', '.join(done['created']) or 'none'}; dropped: {', '.join(done['dropped']) or 'none'}")
