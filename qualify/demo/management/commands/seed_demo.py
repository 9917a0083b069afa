"""`manage.py seed_demo`: fill the database with a realistic, deterministic demo workspace."""

from django.core.management.base import BaseCommand

from qualify import demo


class Command(BaseCommand):
    help = (
        "Create demo teams, users (password 'demo'), accounts, leads with stage history, touches, "
        "behavioural events, qualification answers and handoffs (pending ones in the AEs' inboxes), "
        "routing rules, review plans with this week's queues, and the metrics rollups. "
        "Deterministic for a given --seed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (but print the logins) if any lead exists."
        )
        parser.add_argument("--leads", type=int, default=2000, help="Number of leads (default 2000).")
        parser.add_argument("--accounts", type=int, default=300, help="Number of accounts (default 300).")
        parser.add_argument("--days", type=int, default=90, help="Days of history to generate (default 90).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (default 42).")

    def handle(self, *args, **options):
        if options["if_empty"] and demo.has_data():
            self.stdout.write("Leads already exist; not seeding again (--if-empty).")
        else:
            self.stdout.write(
                f"Seeding demo data: {options['leads']} leads, {options['accounts']} accounts, "
                f"{options['days']} days, seed {options['seed']}..."
            )
            demo.seed(
                leads=options["leads"], accounts=options["accounts"], days=options["days"], seed=options["seed"],
                stdout=self.stdout,
            )
        demo.print_logins(self.stdout)
