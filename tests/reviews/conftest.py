import datetime

import pytest
from django.utils import timezone

from qualify.leads.models import Source, Stage, StageChange
from qualify.reviews.models import Population, RedFlag, ReviewPlan
from tests.factories import LeadFactory


def accepted_lead(team, *, sdr, ae, at=None, source=Source.INBOUND, **kwargs):
    """A lead an SDR handed off and an AE accepted at `at`, with the history the funnel reads."""
    at = at or timezone.now() - datetime.timedelta(days=2)
    lead = LeadFactory(team=team, owner=ae, ae=ae, stage=Stage.ACCEPTED, source=source, **kwargs)
    StageChange.objects.bulk_create([
        StageChange(lead=lead, from_stage=Stage.WORKING, to_stage=Stage.HANDED_OFF, by=sdr, at=at - datetime.timedelta(hours=3)),
        StageChange(lead=lead, from_stage=Stage.HANDED_OFF, to_stage=Stage.ACCEPTED, by=ae, at=at),
    ])
    return lead


def closed_lead(team, *, to, at, ae):
    lead = LeadFactory(team=team, owner=ae, ae=ae, stage=to)
    StageChange.objects.create(lead=lead, from_stage=Stage.OPPORTUNITY, to_stage=to, by=ae, at=at)
    return lead


@pytest.fixture
def flags(db):
    return {f.name: f for f in RedFlag.objects.all()}


@pytest.fixture
def plan(north, maria, flags):
    p = ReviewPlan.objects.create(
        name="Weekly SQL review", team=north, population=Population.ACCEPTED_RECENT, lookback_days=7,
        sample_size=3, reviewer=maria,
    )
    p.red_flags.set(flags.values())
    return p


@pytest.fixture
def north_sqls(north, alice, bob, erin):
    """Six North leads accepted in the last week (alice qualified four, bob two)."""
    return [accepted_lead(north, sdr=alice if i < 4 else bob, ae=erin, first_name=f"Sql{i}") for i in range(6)]


@pytest.fixture
def queue(plan, north_sqls):
    from qualify.reviews.sampling import build_queue

    q, created = build_queue(plan, seed=1234)
    assert created
    return q
