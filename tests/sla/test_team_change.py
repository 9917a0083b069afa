"""A lead moved to another team takes its running clocks along (sla.listeners.follow_team_change):
the queue's SLA filters bound clocks by team, so a clock left behind hid a breached lead from its
new team's managers and showed it to nobody."""

from __future__ import annotations

import datetime

from django.http import QueryDict
from django.utils import timezone

from qualify.leads.queue import load_queue
from qualify.leads.records import edit_lead
from qualify.sla.models import BusinessCalendar, Clock, ClockKind, ClockStatus, SlaPolicy
from accounts.models import Role
from tests.factories import LeadFactory, UserFactory

HOUR = datetime.timedelta(hours=1)


def _clock(lead, due, status=ClockStatus.OPEN) -> Clock:
    return Clock.objects.create(
        lead=lead, team=lead.team, policy=SlaPolicy.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH).order_by("id").first(),
        calendar=BusinessCalendar.objects.order_by("id").first(), kind=ClockKind.MQL_FIRST_TOUCH, owner=None,
        started_at=due - 4 * HOUR, warn_at=due - HOUR, due_at=due, status=status,
    )


def test_a_lead_moved_to_another_team_shows_as_breached_to_its_new_team(north, south, maria):
    magnus = UserFactory.with_role(Role.MANAGER, south, username="magnus")
    now = timezone.now()
    lead = LeadFactory(team=north, owner=None, stage="mql")
    running = _clock(lead, now - 2 * HOUR)
    finished = _clock(lead, now - 30 * HOUR, status=ClockStatus.MET)
    breached = QueryDict("scope=team&sla=breached")
    assert [x.pk for x in load_queue(maria, breached).leads] == [lead.pk]

    edit_lead(lead, by=None, team=south)

    running.refresh_from_db()
    finished.refresh_from_db()
    assert running.team_id == south.pk
    assert finished.team_id == north.pk  # history keeps the team it ran under
    assert [x.pk for x in load_queue(magnus, breached).leads] == [lead.pk]
    assert load_queue(maria, breached).leads == []


def test_an_edit_of_another_field_leaves_clocks_alone(north, south):
    lead = LeadFactory(team=north, owner=None, stage="mql")
    clock = _clock(lead, timezone.now() + HOUR)
    edit_lead(lead, by=None, title="CFO")
    clock.refresh_from_db()
    assert clock.team_id == north.pk
