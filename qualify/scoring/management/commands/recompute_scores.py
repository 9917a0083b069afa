"""`manage.py recompute_scores`: rescore every lead now with the published models (synchronously,
in batches, with a ScoreRun you can watch in admin). seed_demo calls the same function."""

from django.core.management.base import BaseCommand

from qualify.scoring.runs import recompute_all


class Command(BaseCommand):
    help = "Recompute every lead's score with the published scoring models."

    def handle(self, *args, **options):
        run = recompute_all()
        if run is None:
            self.stdout.write("No published scoring model; nothing to do.")
            return
        self.stdout.write(f"Rescored {run.done} leads ({run.mqls} new MQLs) with {run.version}.")
