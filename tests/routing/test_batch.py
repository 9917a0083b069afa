"""New MQLs promoted in a batch are routed and clocked as a batch: the statements do not grow with
the number of leads (issue 11: 'routing and clocks for 1,000 new MQLs cost a handful of queries,
not 29 per lead'), and round robin stays exactly fair."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from qualify.leads.lifecycle import move_many
from qualify.leads.models import Lead, Stage
from qualify.routing.models import Assignment, Method, RoutingRule
from qualify.sla.models import Clock, ClockKind
from qualify.notifications.models import Notification
from tests.factories import LeadFactory, TeamFactory, UserFactory


@pytest.fixture
def team(db):
    team = TeamFactory(name="Batch")
    for i in range(4):
        UserFactory.with_role(Role.SDR, team, username=f"batch{i}")
    RoutingRule.objects.create(name="Batch rotation", team=team, method=Method.ROUND_ROBIN)
    return team


def promote(leads, capture) -> int:
    """Move the leads New → MQL in one call; returns the statements of the move and its listeners."""
    with CaptureQueriesContext(connection) as queries, capture(execute=True):
        moved = move_many({lead.pk: (Stage.NEW, "crossed the threshold") for lead in leads}, to=Stage.MQL, by=None)
    assert len(moved) == len(leads)
    return len(queries)


def test_statements_do_not_grow_with_the_batch(team, django_capture_on_commit_callbacks):
    promote(LeadFactory.create_batch(2, team=team, owner=None), django_capture_on_commit_callbacks)  # creates the cursor
    small = promote(LeadFactory.create_batch(5, team=team, owner=None), django_capture_on_commit_callbacks)
    large = promote(LeadFactory.create_batch(60, team=team, owner=None), django_capture_on_commit_callbacks)
    assert large == small, (small, large)
    # The move (lock, update, history), routing (rules, leads, cursor, members, loads, owners,
    # records), clocks (policies, calendar, insert) and notifications, each once per batch.
    print(f"statements for a batch: {large}")
    assert large <= 40


def test_a_batch_is_routed_fairly_and_every_lead_is_clocked_recorded_and_told(team, django_capture_on_commit_callbacks):
    leads = LeadFactory.create_batch(40, team=team, owner=None)
    promote(leads, django_capture_on_commit_callbacks)
    owners = Counter(Lead.objects.filter(team=team).values_list("owner_id", flat=True))
    assert None not in owners and len(owners) == 4 and set(owners.values()) == {10}
    ids = [lead.pk for lead in leads]
    assert Assignment.objects.filter(lead_id__in=ids, rule__name="Batch rotation").count() == 40
    assert Clock.objects.filter(lead_id__in=ids, kind=ClockKind.MQL_FIRST_TOUCH).count() == 40
    # Each rep is told once, with the count (notifications.listeners.DIGEST_OVER), not ten times.
    told = Notification.objects.filter(user_id__in=list(owners)).values_list("user_id", "title")
    assert sorted(told) == sorted((rep, "10 leads assigned to you") for rep in owners)
    # Each clock belongs to the rep the lead went to.
    assert not Clock.objects.filter(lead_id__in=ids).exclude(owner_id__in=list(owners)).exists()
