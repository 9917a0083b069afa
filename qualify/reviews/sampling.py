"""Build review queues: a recorded random sample of a plan's population for one period.

The sample is a pure function of (population, sample size, seed): `draw()` below. The queue stores
all three, so `explain(queue)` can re-draw it at any time and show it is the same list, which is
how a manager answers "why was this deal in my review and not that one?".
"""

from __future__ import annotations

import datetime
import logging
import random
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from qualify.leads.models import Lead, Stage, StageChange

from .models import Cadence, Population, ReviewItem, ReviewPlan, ReviewQueue

log = logging.getLogger(__name__)


def period_start(cadence: str, today: datetime.date) -> datetime.date:
    """Monday of `today`'s week, or the first of its month."""
    if cadence == Cadence.MONTHLY:
        return today.replace(day=1)
    return today - datetime.timedelta(days=today.weekday())


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def window(plan: ReviewPlan, now: datetime.datetime) -> tuple[datetime.datetime | None, datetime.datetime]:
    """The time window the population is drawn from (start None: a snapshot at `now`)."""
    if plan.population == Population.ACCEPTED_RECENT:
        return now - datetime.timedelta(days=plan.lookback_days), now
    if plan.population == Population.CLOSED_LAST_MONTH:
        first_this = timezone.localdate(now).replace(day=1)
        first_prev = (first_this - datetime.timedelta(days=1)).replace(day=1)
        return _local_midnight(first_prev), _local_midnight(first_this)
    return None, now


def population(plan: ReviewPlan, start: datetime.datetime | None, end: datetime.datetime) -> dict[str, list[int]]:
    """Lead ids of the plan's team in its population, ascending, by stratum. One query.

    - accepted_recent: leads with a StageChange to Accepted in [start, end);
    - open_opportunities: leads now in Opportunity;
    - closed_last_month: leads with a StageChange to Won or Lost in [start, end), split won/lost.
    """
    if plan.population == Population.OPEN_OPPORTUNITIES:
        ids = Lead.objects.filter(team_id=plan.team_id, stage=Stage.OPPORTUNITY).values_list("pk", flat=True)
        return {"": sorted(ids)}
    changes = StageChange.objects.filter(lead__team_id=plan.team_id, at__gte=start, at__lt=end)
    if plan.population == Population.ACCEPTED_RECENT:
        # order_by() drops StageChange's default ordering, which would otherwise defeat DISTINCT.
        ids = changes.filter(to_stage=Stage.ACCEPTED).order_by().values_list("lead_id", flat=True).distinct()
        return {"": sorted(ids)}
    strata: dict[str, set[int]] = {Stage.WON.value: set(), Stage.LOST.value: set()}
    for lead_id, to in changes.filter(to_stage__in=[Stage.WON, Stage.LOST]).values_list("lead_id", "to_stage"):
        strata[to].add(lead_id)
    # A deal lost and then won again in the month counts once, as won.
    strata[Stage.LOST.value] -= strata[Stage.WON.value]
    return {k: sorted(v) for k, v in strata.items()}


def draw(pop: dict[str, list[int]], k: int, seed: int) -> list[tuple[str, int]]:
    """Up to `k` ids from each stratum without replacement; strata in name order from one
    random.Random(seed). Same inputs, same output, on any machine (Python's Mersenne Twister and
    random.sample are stable across versions for integer seeds)."""
    rng = random.Random(seed)
    picked: list[tuple[str, int]] = []
    for stratum in sorted(pop):
        ids = sorted(pop[stratum])
        picked += [(stratum, lead_id) for lead_id in rng.sample(ids, min(k, len(ids)))]
    return picked


@dataclass(frozen=True)
class Explanation:
    seed: int
    population_size: int
    redrawn: list[int]
    recorded: list[int]

    @property
    def matches(self) -> bool:
        return self.redrawn == self.recorded


def explain(queue: ReviewQueue) -> Explanation:
    """Re-draw the queue's sample from its recorded seed and population. Two queries."""
    redrawn = [lead_id for _, lead_id in draw(queue.population, queue.sample_size, queue.seed)]
    recorded = list(queue.items.order_by("position").values_list("lead_id", flat=True))
    return Explanation(queue.seed, queue.population_size, redrawn, recorded)


def reps_for(lead_ids: list[int]) -> dict[int, int | None]:
    """The SDR who qualified each lead: whoever last handed it off, else its current owner.
    Two queries."""
    handed = dict(
        StageChange.objects.filter(lead_id__in=lead_ids, to_stage=Stage.HANDED_OFF, by__isnull=False)
        .order_by("lead_id", "-at", "-id")
        .distinct("lead_id")
        .values_list("lead_id", "by_id")
    )
    owners = dict(Lead.objects.filter(pk__in=lead_ids).values_list("pk", "owner_id"))
    return {pk: handed.get(pk) or owners.get(pk) for pk in lead_ids}


def build_queue(
    plan: ReviewPlan, *, now: datetime.datetime | None = None, seed: int | None = None
) -> tuple[ReviewQueue | None, bool]:
    """This period's queue for `plan`: (queue, created). Idempotent: when the period already has
    a queue it is returned unchanged. An empty population builds nothing (None, False), so the
    next beat run tries again once there is something to review.

    Locks the plan row so two builders serialise; the unique (plan, period_start) constraint is
    the backstop. Costs about 6 queries plus one bulk insert.
    """
    now = now or timezone.now()
    start_of_period = period_start(plan.cadence, timezone.localdate(now))
    with transaction.atomic():
        plan = ReviewPlan.objects.select_for_update().select_related("team").get(pk=plan.pk)
        existing = ReviewQueue.objects.filter(plan=plan, period_start=start_of_period).first()
        if existing is not None:
            return existing, False
        w_start, w_end = window(plan, now)
        pop = population(plan, w_start, w_end)
        size = sum(len(ids) for ids in pop.values())
        if size == 0:
            log.info("review plan %s: empty population for %s, no queue built", plan.pk, start_of_period)
            return None, False
        seed = seed if seed is not None else secrets.randbits(62)
        picked = draw(pop, plan.sample_size, seed)
        lead_ids = [lead_id for _, lead_id in picked]
        reps = reps_for(lead_ids)
        sources = dict(Lead.objects.filter(pk__in=lead_ids).values_list("pk", "source"))
        try:
            with transaction.atomic():
                queue = ReviewQueue.objects.create(
                    plan=plan, team_id=plan.team_id, reviewer_id=plan.reviewer_id, period_start=start_of_period,
                    population_kind=plan.population, window_start=w_start, window_end=w_end,
                    sample_size=plan.sample_size, seed=seed, population=pop, population_size=size, built_at=now,
                )
        except IntegrityError:
            # Another builder got there first (the lock makes this rare): theirs stands.
            return ReviewQueue.objects.get(plan=plan, period_start=start_of_period), False
        ReviewItem.objects.bulk_create(
            ReviewItem(queue=queue, lead_id=lead_id, position=i, stratum=stratum, rep_id=reps.get(lead_id),
                       source=sources.get(lead_id, ""))
            for i, (stratum, lead_id) in enumerate(picked, start=1)
        )
    return queue, True


def build_due_queues(*, now: datetime.datetime | None = None) -> int:
    """Build this period's queue for every active plan that lacks one; returns how many were built."""
    built = 0
    for plan in ReviewPlan.objects.filter(active=True).order_by("pk"):
        _, created = build_queue(plan, now=now)
        built += created
    return built
