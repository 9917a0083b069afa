"""Put together: `seed()` runs every part in order inside one transaction, then rescores every lead
and refreshes the metrics rollups, as beat would."""

from __future__ import annotations

import time
from typing import IO

import pghistory
from django.db import transaction

from accounts.models import Team
from qualify.demo.accounts import AccountsMixin
from qualify.demo.activity import ActivityMixin
from qualify.demo.base import write_line
from qualify.demo.cast import CastMixin
from qualify.demo.dayone import bring_to_present
from qualify.demo.committees import CommitteesMixin, refresh_all_accounts
from qualify.demo.leads import LeadsMixin
from qualify.demo.qualification import QualificationMixin
from qualify.demo.tables import BATCH, TEAMS
from qualify.demo.workspace import WorkspaceMixin, refresh_metrics
from qualify.abm.models import AccountScore
from qualify.dedupe.finder import find_duplicates
from qualify.dedupe.models import DuplicateCandidate, Status as DuplicateStatus
from qualify.predictions.models import Status
from qualify.predictions.versions import request_training, run_training
from qualify.leads.history import write_leads
from qualify.leads.models import Event, Lead, Stage, StageChange, Touch
from qualify.scoring.history import restate_unscored
from qualify.scoring.runs import recompute_all


def has_data() -> bool:
    return Lead.objects.exists()


def seed(
    *, leads: int = 2000, accounts: int = 300, days: int = 90, seed: int = 42, stdout: IO[str] | None = None,
    present: bool = True,
) -> dict[str, int]:
    """Create the demo cast, a realistic funnel, routing rules and review queues; then rescore,
    bring the workspace to the present (qualify/demo/dayone.py: clocks, the sweep, today's work;
    `present=False` stops at the end of the generated history) and refresh the metrics rollups.
    Returns how many rows of each kind were created."""
    started = time.monotonic()
    with pghistory.context(source="seed_demo"), transaction.atomic():
        counts = Generator(leads=leads, accounts=accounts, days=days, seed=seed, stdout=stdout).run()
    recompute_all(promote=False)  # real scores replace the rough ones
    # The stage history was written before any model scored it: its MQL, handoff and outcome
    # snapshots get the score the model gives as of each moment, so calibration is true at once.
    restated = restate_unscored()
    if present:  # after commit, through the verbs: clocks, the sweep, today's work
        today = bring_to_present(seed=seed, stdout=stdout)
        counts.update({k: today[k] for k in ("clocks", "imports", "arrived_twice")})
    refresh_all_accounts()  # account engagement, committees and MQAs as of now
    # Day one shows the learning too: a predictive score trained on the demo's won and lost
    # leads (every lead gets its probability), and the duplicate finder's first pass, as RevOps
    # would start them from their pages.
    version = run_training(request_training(run=False).pk)
    find_duplicates(list(Team.objects.values_list("pk", flat=True)))
    # What /duplicates/ lists: open pairs (the finder's counts are per rule, a pair once for each).
    pairs = DuplicateCandidate.objects.filter(status=DuplicateStatus.OPEN).count()
    metrics = refresh_metrics()
    if stdout is not None:
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        write_line(stdout, f"Seeded in {time.monotonic() - started:.1f}s: {summary}")
        # The histories decide who became an MQL (the rescore above promotes nobody).
        reached = StageChange.objects.filter(to_stage=Stage.MQL).values("lead_id").distinct().count()
        now_mql = Lead.objects.filter(stage=Stage.MQL).count()
        write_line(stdout, f"  {reached} leads reached MQL; {now_mql} are MQLs now, the rest moved on")
        mqas = AccountScore.objects.filter(mqa_at__isnull=False).count()
        write_line(stdout, f"  {mqas} accounts are marketing-qualified (MQA) now")
        write_line(stdout, f"  {restated} MQL, handoff and outcome score snapshots restated with the model's score then")
        if version is not None and version.status == Status.ACTIVE:
            o = version.report["overall"]
            write_line(stdout, f"  Predictive score: {version} trained on the demo's outcomes (held-out AUC {o['auc']:.2f}) and active")
        else:
            write_line(stdout, f"  Predictive score: not trained ({version.error if version else 'already running'})")
        write_line(stdout, f"  Duplicate finder: {pairs} candidate pairs for /duplicates/")
        write_line(stdout, f"  Metrics rollups refreshed ({metrics.leads} leads)" if metrics.ran
                   else "  Metrics rollups: another refresh is running; /metrics/ fills in when it ends")
    return counts


class Generator(CastMixin, AccountsMixin, LeadsMixin, ActivityMixin, QualificationMixin, WorkspaceMixin,
                CommitteesMixin):
    """The whole generator: one instance per seed() call; `run` writes everything in order."""

    def run(self) -> dict[str, int]:
        users = self.create_cast()
        self.load_reasons()
        accounts = self.create_accounts()
        plans = self.plan_leads(accounts)
        changes = [
            StageChange(lead=p.lead, from_stage=prev, to_stage=s.to, by=self.actor(p, s.actor), at=s.at,
                        why=s.why, reason=s.reason)
            for p in plans
            for prev, s in zip(["", *[s.to for s in p.steps]], p.steps, strict=False)
        ]
        # Through the core's writer of the past, like the CSV importer: owners are recorded.
        by_lead = {id(p.lead): p for p in plans}
        write_leads([p.lead for p in plans], changes, by_id=None, why="Demo data",
                    owners=lambda lead: self.owner_trail(by_lead[id(lead)]))
        self.say(f"  {len(plans)} leads")
        self.say(f"  {len(changes)} stage changes")
        touches = [t for p in plans for t in p.touches]
        Touch.objects.bulk_create(touches, batch_size=BATCH)
        self.say(f"  {len(touches)} touches")
        n_events = 0
        chunk: list[Event] = []
        for p in plans:
            chunk.extend(p.events)
            if len(chunk) >= BATCH:
                Event.objects.bulk_create(chunk, batch_size=BATCH)
                n_events += len(chunk)
                chunk = []
        Event.objects.bulk_create(chunk, batch_size=BATCH)
        n_events += len(chunk)
        self.say(f"  {n_events} events")
        self.configure_frameworks()
        n_answers, n_handoffs = self.write_answers_and_handoffs(plans, self.plan_answers(plans))
        rules = self.create_routing_rules()
        review_plans = self.create_review_plans(users)
        committees = self.create_buying_committees()
        return {
            "teams": len(TEAMS), "users": len(users), "accounts": len(accounts), "leads": len(plans),
            "stage_changes": len(changes), "touches": len(touches), "events": n_events, "answers": n_answers,
            "handoffs": n_handoffs, "routing_rules": len(rules), "review_plans": len(review_plans),
            "buying_committees": committees,
        }
