"""A pending handoff handed to another AE of the team by its manager (workflow.reassign), and an
accept that would make someone off the team the lead's owner.

Before: an AE who left the team kept the handoff (the team's managers could decide it, but not
give it to another AE), and a manager's accept on their behalf failed with assignment's generic
"Choose an active SDR, AE or manager of this lead's team." (or, for an AE deactivated but still a
member, made them the owner of the lead)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Role
from qualify.errors import DomainError
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import accept, hand_off, reassign, reject
from qualify.leads.models import DisqualifyReason, Lead, Stage
from qualify.notifications.models import Notification, NotificationKind
from qualify.sla.models import Clock, ClockKind, ClockStatus, OnReassign, SlaPolicy
from tests.conftest import login
from tests.factories import UserFactory
from tests.sla.conftest import frozen  # noqa: F401 - fixture

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"
WHY = "Erin moved to the South team"


@pytest.fixture
def frank(north):
    return UserFactory.with_role(Role.AE, north, username="frank", first_name="Frank", last_name="Fox")


@pytest.fixture
def pending(frozen, qualified_lead, alice, erin):
    return hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)


def _leave(user, team, to_team):
    Membership.objects.filter(user=user, team=team).delete()
    Membership.objects.create(user=user, team=to_team, role=Role.AE)
    return type(user).objects.get(pk=user.pk)  # memberships are cached per instance


def _clocks(handoff):
    return list(Clock.objects.filter(handoff_id=handoff.pk, kind=ClockKind.HANDOFF_DECISION).order_by("id"))


def _state(handoff):
    h = Handoff.objects.get(pk=handoff.pk)
    lead = Lead.objects.get(pk=handoff.lead_id)
    return (h.status, h.to_user_id, lead.stage, lead.owner_id, lead.ae_id,
            [(c.status, c.owner_id) for c in _clocks(handoff)], Notification.objects.count())


def test_a_manager_reassigns_a_pending_handoff_to_another_ae_of_the_team(pending, alice, erin, frank, maria, south):
    erin = _leave(erin, pending.team, south)
    [before] = _clocks(pending)

    h = reassign(pending, to=frank, by=maria, note=WHY)

    assert (h.status, h.to_user) == (HandoffStatus.PENDING, frank)
    lead = Lead.objects.get(pk=pending.lead_id)
    # Still waiting, still the SDR's until accepted; the AE it waits for is the new one (who reads it).
    assert (lead.stage, lead.owner, lead.ae) == (Stage.HANDED_OFF, alice, frank)
    # The default policy keeps the running clock: the same deadline, now the new AE's.
    [clock] = _clocks(pending)
    assert (clock.pk, clock.status, clock.owner, clock.due_at) == (before.pk, ClockStatus.OPEN, frank, before.due_at)
    told = Notification.objects.get(user=frank)
    assert told.kind == NotificationKind.HANDOFF_RECEIVED and WHY in told.body and "Maria" in told.body
    # The handoff's history names who gave it to whom, and why.
    event = pending.history.order_by("pgh_id").last()
    assert event.to_user_id == frank.pk
    assert event.pgh_context.metadata["handoff_reassigned"] == {
        "by": maria.pk, "from": erin.pk, "to": frank.pk, "note": WHY}
    accept(h, by=frank)
    assert Lead.objects.get(pk=pending.lead_id).owner == frank


def test_reassigning_under_a_restart_policy_starts_a_fresh_clock_for_the_new_ae(pending, frank, maria, frozen):
    SlaPolicy.objects.filter(kind=ClockKind.HANDOFF_DECISION).update(on_reassign=OnReassign.RESTART)
    old = _clocks(pending)[0]
    frozen.shift(3600)
    reassign(pending, to=frank, by=maria)
    first, second = _clocks(pending)
    assert (first.pk, first.status, first.closed_by, first.closed_note) == (
        old.pk, ClockStatus.CANCELLED, maria, "Restarted: the handoff was reassigned")
    assert (second.status, second.owner, second.started_at > old.started_at) == (ClockStatus.OPEN, frank, True)


def test_an_admin_reassigns_too(pending, frank, rita):
    reassign(pending, to=frank, by=rita)
    assert Handoff.objects.get(pk=pending.pk).to_user == frank


def test_reassigning_back_to_an_earlier_ae_tells_them_again(pending, erin, frank, maria):
    reassign(pending, to=frank, by=maria)
    reassign(pending, to=erin, by=maria)
    assert Notification.objects.filter(user=erin, kind=NotificationKind.HANDOFF_RECEIVED).count() == 2


def test_reassign_is_refused_to_anyone_not_an_active_ae_of_the_team_and_changes_nothing(
        pending, erin, frank, bob, sam, maria):
    frank.is_active = False
    frank.save()
    before = _state(pending)
    for who in (sam, bob, frank, maria):
        with pytest.raises(DomainError, match="is not an active AE on North") as refused:
            reassign(pending, to=who, by=maria)
        assert refused.value.field == "to_user"
    with pytest.raises(DomainError, match="already waits for Erin Evans"):
        reassign(pending, to=erin, by=maria)
    assert _state(pending) == before


def test_only_the_teams_managers_and_admins_reassign(pending, erin, frank, alice, sam):
    before = _state(pending)
    for who in (erin, alice, sam):
        with pytest.raises(DomainError, match="Only the team's managers"):
            reassign(pending, to=frank, by=who)
    assert _state(pending) == before


def test_a_decided_handoff_is_not_reassigned(pending, erin, frank, maria):
    reject(pending, by=erin, reason=DisqualifyReason.objects.get(name="No budget"), note="No budget until next fiscal year")
    before = _state(pending)
    with pytest.raises(DomainError, match="already rejected by Erin Evans"):
        reassign(Handoff.objects.get(pk=pending.pk), to=frank, by=maria)
    assert _state(pending) == before


@pytest.mark.parametrize("gone", ["left", "deactivated"])
def test_a_manager_accepting_for_an_ae_no_longer_on_the_team_is_told_to_reassign(pending, erin, maria, south, gone):
    if gone == "left":
        _leave(erin, pending.team, south)
    else:
        erin.is_active = False
        erin.save()
    before = _state(pending)
    with pytest.raises(DomainError, match="Erin Evans is no longer an active AE on North: reassign"):
        accept(pending, by=maria)
    assert _state(pending) == before


# --- the doors -----------------------------------------------------------------------------------


def test_the_handoff_page_offers_managers_a_reassign_form(client, pending, erin, frank, maria):
    body = login(client, maria).get(f"/handoffs/{pending.pk}/").content.decode()
    form = body[body.index(f'action="/handoffs/{pending.pk}/reassign/"'):]
    form = form[:form.index("</form>")]
    assert "csrfmiddlewaretoken" in form
    assert f'<option value="{frank.pk}">' in form and f'<option value="{erin.pk}">' not in form
    assert "reassign" not in login(client, erin).get(f"/handoffs/{pending.pk}/").content.decode().lower()


def test_the_inbox_offers_managers_a_reassign_form_and_comes_back_to_it(client, pending, erin, frank, maria):
    login(client, maria)
    body = client.get("/handoffs/?scope=team").content.decode()
    form = body[body.index(f'action="/handoffs/{pending.pk}/reassign/"'):]
    form = form[:form.index("</form>")]
    assert f'<option value="{frank.pk}">' in form and f'<option value="{erin.pk}">' not in form
    assert 'name="next" value="/handoffs/?scope=team"' in form
    response = client.post(f"/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk, "next": "/handoffs/?scope=team"})
    assert response["Location"] == "/handoffs/?scope=team"
    assert Handoff.objects.get(pk=pending.pk).to_user == frank
    assert "reassign/" not in login(client, frank).get("/handoffs/").content.decode()  # the AE rejects instead


def test_a_manager_reassigns_from_the_page(client, pending, frank, maria):
    response = login(client, maria).post(f"/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk, "note": WHY})
    assert response.status_code == 302
    assert Handoff.objects.get(pk=pending.pk).to_user == frank
    assert "Frank Fox" in client.get(response["Location"]).content.decode()


def test_the_page_refuses_a_bad_choice_and_changes_nothing(client, pending, sam, maria):
    before = _state(pending)
    for posted in ({"to_user": sam.pk}, {"to_user": "x"}, {}):
        response = login(client, maria).post(f"/handoffs/{pending.pk}/reassign/", posted, follow=True)
        assert "Choose an active AE of North" in response.content.decode()
    assert _state(pending) == before


def test_the_page_refuses_others(client, pending, erin, frank, charlie):
    before = _state(pending)
    assert login(client, erin).post(f"/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk}).status_code == 403
    assert login(client, charlie).post(f"/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk}).status_code == 404
    assert _state(pending) == before


def test_the_api_reassigns(pending, erin, frank, maria, sam, charlie):
    api = APIClient()
    before = _state(pending)
    api.force_authenticate(charlie)
    assert api.post(f"/api/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk}, format="json").status_code == 404
    api.force_authenticate(erin)
    assert api.post(f"/api/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk}, format="json").status_code == 403
    api.force_authenticate(maria)
    refused = api.post(f"/api/handoffs/{pending.pk}/reassign/", {"to_user": sam.pk}, format="json")
    assert refused.status_code == 400 and "to_user" in refused.json()
    assert _state(pending) == before
    done = api.post(f"/api/handoffs/{pending.pk}/reassign/", {"to_user": frank.pk, "note": WHY}, format="json")
    assert done.status_code == 200, done.json()
    assert (done.json()["to_user"], done.json()["status"]) == (frank.pk, "pending")


@pytest.mark.parametrize("gone", ["left", "deactivated"])
def test_a_rejection_back_to_an_sdr_no_longer_on_the_team_returns_the_lead_to_the_pool(pending, alice, erin, south, gone):
    """Before: assign refused the SDR who left ("Choose an active SDR, AE or manager of this lead's
    team."), so the AE could not reject with a reason that sends the lead back to the SDR, and a
    deactivated SDR kept the lead."""
    if gone == "left":
        _leave(alice, pending.team, south)
    else:
        alice.is_active = False
        alice.save()
    reject(pending, by=erin, reason=DisqualifyReason.objects.get(name="No authority"),
           note="The contact cannot sign: procurement owns it")
    lead = Lead.objects.get(pk=pending.lead_id)
    assert (lead.stage, lead.owner) == (Stage.WORKING, None)
    assert Handoff.objects.get(pk=pending.pk).status == HandoffStatus.REJECTED
