"""A lead moved to another team (an admin's PATCH /api/leads/{id}/ with `team`; records.edit_lead).

Before: the lead kept an owner of the old team (who could no longer be given it: assignment refuses
anyone off the team) and a lead waiting for an AE moved with its handoff, the handoff's team and
the AE's clock left on the old team, decided by people who no longer see the lead. Now the verb
refuses the move while a handoff waits, and an owner who is not an active rep of the new team
gives the lead back to the new team's pool (recorded like any owner change)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from qualify.errors import DomainError
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import hand_off
from qualify.leads.models import Lead, Stage
from qualify.leads.records import edit_lead
from qualify.routing.models import Assignment
from qualify.sla.models import Clock, ClockStatus
from tests.factories import AccountFactory, LeadFactory, UserFactory
from tests.handoff.conftest import qualify_fully

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"


@pytest.fixture
def api(rita):
    client = APIClient()
    client.force_authenticate(rita)
    return client


@pytest.fixture
def south_account(south):
    return AccountFactory(team=south, name="Southco")


def test_moving_a_lead_gives_it_to_the_new_teams_pool_when_its_owner_is_not_on_it(api, alice, north, south, south_account, rita):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    response = api.patch(f"/api/leads/{lead.pk}/", {"team": south.pk, "account": south_account.pk}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] is None
    lead.refresh_from_db()
    assert (lead.team, lead.owner) == (south, None)
    record = Assignment.objects.filter(lead=lead).order_by("-at", "-id").first()
    assert (record.from_user, record.to_user, record.by) == (alice, None, rita)
    assert "South" in record.why


def test_an_owner_who_is_a_rep_of_both_teams_keeps_the_lead(api, north, south, south_account):
    both = UserFactory.with_role(Role.SDR, north, username="both")
    both.memberships.create(team=south, role=Role.SDR)
    lead = LeadFactory(team=north, owner=both, stage=Stage.WORKING)
    assert api.patch(f"/api/leads/{lead.pk}/", {"team": south.pk, "account": south_account.pk}, format="json").status_code == 200
    lead.refresh_from_db()
    assert (lead.team, lead.owner) == (south, both)


def test_a_new_owner_of_the_new_team_can_be_named_in_the_same_request(api, alice, charlie, north, south, south_account):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    response = api.patch(f"/api/leads/{lead.pk}/", {"team": south.pk, "account": south_account.pk, "owner": charlie.pk},
                         format="json")
    assert response.status_code == 200, response.json()
    lead.refresh_from_db()
    assert (lead.team, lead.owner) == (south, charlie)


def test_a_lead_waiting_for_an_ae_does_not_move_and_nothing_changes(api, alice, erin, north, south, south_account, rita):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    h = hand_off(lead, to=erin, by=alice, next_step=NEXT)
    clocks = list(Clock.objects.filter(lead=lead, status=ClockStatus.OPEN).values_list("pk", "team_id", "owner_id"))
    response = api.patch(f"/api/leads/{lead.pk}/", {"team": south.pk, "account": south_account.pk, "title": "CEO"},
                         format="json")
    assert response.status_code == 400
    assert "waiting for an AE" in response.json()["team"][0]
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.team, lead.account.team, lead.owner, lead.stage, lead.title) == (north, north, alice, Stage.HANDED_OFF, "VP Operations")
    assert (Handoff.objects.get(pk=h.pk).status, Handoff.objects.get(pk=h.pk).to_user) == (HandoffStatus.PENDING, erin)
    assert list(Clock.objects.filter(lead=lead, status=ClockStatus.OPEN).values_list("pk", "team_id", "owner_id")) == clocks
    with pytest.raises(DomainError, match="waiting for an AE") as refused:
        edit_lead(lead, by=rita, team=south, account=south_account)
    assert refused.value.field == "team"
    assert Lead.objects.get(pk=lead.pk).team == north
