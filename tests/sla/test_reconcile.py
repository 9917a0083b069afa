"""New MQLs whose after-commit listeners never ran (a process died after the commit) are routed
and clocked by the reconciler, from the database alone; done work is never redone (issue 12)."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.utils import timezone

from accounts.models import Role
from qualify.leads.lifecycle import move_stage
from qualify.leads.models import Lead, Stage
from qualify.routing.models import Assignment, Method, RoutingRule
from qualify.sla.models import Clock, ClockKind
from qualify.sla.reconcile import reconcile_new_mqls
from tests.factories import LeadFactory, TeamFactory, UserFactory


@pytest.fixture
def team(db):
    team = TeamFactory(name="Late")
    UserFactory.with_role(Role.SDR, team, username="late0")
    UserFactory.with_role(Role.SDR, team, username="late1")
    RoutingRule.objects.create(name="Late rotation", team=team, method=Method.ROUND_ROBIN)
    return team


def test_mqls_whose_listeners_never_ran_are_routed_and_clocked(team, django_capture_on_commit_callbacks):
    unowned = LeadFactory(team=team, owner=None)
    owned = LeadFactory(team=team, owner=UserFactory.with_role(Role.SDR, team, username="late2"))
    # The moves commit, but their after-commit deliveries are dropped (as if the process died).
    with django_capture_on_commit_callbacks(execute=False):
        move_stage(unowned, to=Stage.MQL, by=None)
        move_stage(owned, to=Stage.MQL, by=None)
    assert Lead.objects.get(pk=unowned.pk).owner_id is None and not Clock.objects.exists()

    assert reconcile_new_mqls() == {"unrouted": 0, "routed": 0, "clocks started": 0}  # too recent: listeners may be running
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=True):
            done = reconcile_new_mqls()
        assert done == {"unrouted": 1, "routed": 1, "clocks started": 1}
        unowned.refresh_from_db()
        assert unowned.owner is not None
        assert Assignment.objects.get(lead=unowned).rule.name == "Late rotation"
        assert set(Clock.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH).values_list("lead_id", flat=True)) == {unowned.pk, owned.pk}
        # Nothing left to do: a second run changes nothing.
        with django_capture_on_commit_callbacks(execute=True):
            assert reconcile_new_mqls() == {"unrouted": 0, "routed": 0, "clocks started": 0}


def test_an_mql_left_in_the_pool_by_routing_is_not_routed_again(team, django_capture_on_commit_callbacks):
    RoutingRule.objects.all().delete()  # nobody to pick: routing's decision is the team pool
    lead = LeadFactory(team=team, owner=None)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(lead, to=Stage.MQL, by=None)
    assert Assignment.objects.filter(lead=lead).count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        assert reconcile_new_mqls()["unrouted"] == 0
    assert Assignment.objects.filter(lead=lead).count() == 1
