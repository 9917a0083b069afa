"""The workspace around the leads, so that day one shows every capability: routing rules for each
team, a review plan per team with this period's queue already built, and (after the seed commits)
metrics rollups computed by the same refresh beat runs.

Nothing here draws from the generator's random streams, so the leads and their histories are the
same with or without it. Rules and plans are matched by name, so seeding again updates them instead
of adding copies; an admin's own rules and plans are left alone.
"""

from __future__ import annotations

from accounts.models import Role, User
from qualify.analytics.rollups import RefreshResult, refresh
from qualify.demo.base import GeneratorState
from qualify.demo.tables import CAST, TEAMS
from qualify.leads.models import Segment
from qualify.reviews.models import Cadence, Population, RedFlag, ReviewPlan
from qualify.reviews.sampling import build_queue
from qualify.routing.models import AccountOwned, Method, RoutingRule

OWNER_RULE = "Enterprise accounts with an owner: the account's AE"
REVIEW_PLAN = "Weekly review: open opportunities"
REVIEW_SAMPLE = 10


class WorkspaceMixin(GeneratorState):
    def create_routing_rules(self) -> list[RoutingRule]:
        """An account-based rule first (owned Enterprise accounts go to their AE), then a round robin
        over each team's SDRs, as a RevOps admin would set them up. Uses self.teams and self.sdrs."""
        rules = [RoutingRule.objects.update_or_create(name=OWNER_RULE, defaults=dict(
            position=10, active=True, team=None, segment=Segment.ENTERPRISE, account_owned=AccountOwned.YES,
            method=Method.ACCOUNT_OWNER, user=None,
        ))[0]]
        for position, name in enumerate(TEAMS, start=2):
            rule, _ = RoutingRule.objects.update_or_create(name=f"{name}: round robin over SDRs", defaults=dict(
                position=position * 10, active=True, team=self.teams[name], method=Method.ROUND_ROBIN,
                role=Role.SDR, user=None,
            ))
            rule.members.set(self.sdrs[name])
            rules.append(rule)
        self.say(f"  {len(rules)} routing rules (owned Enterprise accounts to their AE, then each team's SDRs in turn)")
        return rules

    def create_review_plans(self, users: dict[str, User]) -> list[ReviewPlan]:
        """A weekly review of open opportunities per team, reviewed by its manager, with every active
        red flag as the checklist; then this week's queue, built by the function beat's task uses.
        The sample's seed derives from the demo seed, so the queue is the same for the same data."""
        managers = {team: username for username, _, _, team, role in CAST if role == Role.MANAGER}
        flags = list(RedFlag.objects.filter(active=True))
        plans, built = [], []
        for i, name in enumerate(TEAMS):
            plan, _ = ReviewPlan.objects.update_or_create(name=REVIEW_PLAN, team=self.teams[name], defaults=dict(
                cadence=Cadence.WEEKLY, population=Population.OPEN_OPPORTUNITIES, sample_size=REVIEW_SAMPLE,
                reviewer=users[managers[name]], active=True,
            ))
            plan.red_flags.set(flags)
            plans.append(plan)
            queue, _ = build_queue(plan, now=self.now, seed=self.seed * 100 + i)
            if queue is not None:
                built.append(f"{name} {queue.items.count()}")
        queues = ", ".join(built) or "none (no open opportunities)"
        self.say(f"  {len(plans)} review plans; this week's queues: {queues}")
        return plans


def refresh_metrics() -> RefreshResult:
    """The full rollup refresh beat runs nightly, so /metrics/ shows the seeded funnel at once
    instead of zeros until the first five-minute refresh."""
    return refresh(full=True)

