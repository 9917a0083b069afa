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


def counts(done: dict) -> tuple[int, int, int]:
    return done["unrouted"], done["routed"], done["clocks started"]


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

    assert counts(reconcile_new_mqls()) == (0, 0, 0)  # too recent: listeners may be running
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=True):
            done = reconcile_new_mqls()
        assert counts(done) == (1, 1, 1)
        unowned.refresh_from_db()
        assert unowned.owner is not None
        assert Assignment.objects.get(lead=unowned).rule.name == "Late rotation"
        assert set(Clock.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH).values_list("lead_id", flat=True)) == {unowned.pk, owned.pk}
        # Nothing left to do: a second run changes nothing.
        with django_capture_on_commit_callbacks(execute=True):
            assert not any(reconcile_new_mqls().values())


def test_an_mql_left_in_the_pool_by_routing_is_not_routed_again(team, django_capture_on_commit_callbacks):
    RoutingRule.objects.all().delete()  # nobody to pick: routing's decision is the team pool
    lead = LeadFactory(team=team, owner=None)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(lead, to=Stage.MQL, by=None)
    assert Assignment.objects.filter(lead=lead).count() == 1
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        assert reconcile_new_mqls()["unrouted"] == 0
    assert Assignment.objects.filter(lead=lead).count() == 1


def test_clocks_of_leads_that_moved_on_are_cancelled_and_recycled_leads_clocked(team, django_capture_on_commit_callbacks):
    from qualify.leads.lifecycle import recycle_due
    from qualify.leads.models import DisqualifyReason
    from qualify.sla.models import ClockStatus

    rep = UserFactory.with_role(Role.SDR, team, username="late3")
    gone = LeadFactory(team=team, owner=rep)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(gone, to=Stage.MQL, by=None)
    clock = Clock.objects.get(lead=gone, kind=ClockKind.MQL_FIRST_TOUCH)
    reason = DisqualifyReason.objects.filter(active=True).first()
    parked = LeadFactory(team=team, owner=rep, stage=Stage.NURTURE, recycle_on=timezone.localdate() + datetime.timedelta(days=1))
    # Both moves commit; their after-commit deliveries are lost.
    with django_capture_on_commit_callbacks(execute=False):
        move_stage(gone, to=Stage.DISQUALIFIED, by=None, reason=reason)
        recycle_due(today=timezone.localdate() + datetime.timedelta(days=1))
    assert Clock.objects.get(pk=clock.pk).status == ClockStatus.OPEN
    assert not Clock.objects.filter(lead=parked, kind=ClockKind.RECYCLED_TOUCH).exists()
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        done = reconcile_new_mqls()
        assert (done["clocks cancelled"], done["recycled clocks started"]) == (1, 1)
        assert Clock.objects.get(pk=clock.pk).status == ClockStatus.CANCELLED
        assert Clock.objects.filter(lead=parked, kind=ClockKind.RECYCLED_TOUCH, status=ClockStatus.OPEN).count() == 1
        assert not any(reconcile_new_mqls().values())


def test_a_nurtured_lead_that_scores_back_to_mql_keeps_its_one_touch_clock(team, django_capture_on_commit_callbacks):
    """Nurture → MQL starts the touch-again clock (the stage listener counts it as recycled); the
    reconciler must see that touch clock and not start a first-touch clock beside it. A fresh
    `make run` had 55 leads with both running two minutes after the seed, each to breach twice."""
    from qualify.sla.models import ClockStatus, TOUCH_KINDS

    rep = UserFactory.with_role(Role.SDR, team, username="late4")
    lead = LeadFactory(team=team, owner=rep, stage=Stage.NURTURE)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(lead, to=Stage.MQL, by=None)
    assert list(Clock.objects.filter(lead=lead, status=ClockStatus.OPEN).values_list("kind", flat=True)) == [
        ClockKind.RECYCLED_TOUCH]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=3)):
        with django_capture_on_commit_callbacks(execute=True):
            assert counts(reconcile_new_mqls()) == (0, 0, 0)
    assert Clock.objects.filter(lead=lead, kind__in=TOUCH_KINDS, status=ClockStatus.OPEN).count() == 1
