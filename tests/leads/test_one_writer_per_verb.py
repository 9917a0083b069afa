"""Each door goes through the verb, and what follows a change happens whichever door made it
(issue 11). Each test failed on the code before the core published its changes."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from qualify.imports.jobs import create_job, start
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import accept, hand_off
from qualify.leads import changes
from qualify.leads.models import Stage, Touch
from qualify.routing.models import Assignment
from qualify.sla.models import Clock, ClockKind, ClockStatus
from tests.conftest import login
from tests.factories import LeadFactory
from tests.handoff.conftest import qualify_fully


@pytest.fixture
def pending_handoff(alice, erin, north, django_capture_on_commit_callbacks):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, external_id="W1")
    qualify_fully(lead, alice)
    with django_capture_on_commit_callbacks(execute=True):
        handoff = hand_off(lead, to=erin, by=alice, next_step="Demo on Tuesday with the CFO")
    return handoff


def test_an_imported_won_outcome_closes_the_pending_handoff_and_its_clock(pending_handoff, maria, north, django_capture_on_commit_callbacks):
    assert Clock.objects.filter(handoff=pending_handoff, status=ClockStatus.OPEN).exists()
    text = "Lead ID,Outcome,Close Date\nW1,Won,2026-03-01\n"
    job = create_job(kind="outcomes", team=north, by=maria, content=text.encode(), filename="won.csv")
    with django_capture_on_commit_callbacks(execute=True):
        job = start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == "done", job.errors
    pending_handoff.refresh_from_db()
    assert pending_handoff.lead.stage == Stage.WON
    assert pending_handoff.status == HandoffStatus.CLOSED
    assert "Won" in pending_handoff.decision_note
    clock = Clock.objects.get(handoff=pending_handoff)
    assert clock.status == ClockStatus.CANCELLED and not clock.schedule_rows.exists() if hasattr(clock, "schedule_rows") else clock.status == ClockStatus.CANCELLED


def test_accepting_a_handoff_records_the_new_owner(pending_handoff, erin, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        accept(pending_handoff, by=erin, note="Looks right")
    lead = pending_handoff.lead
    lead.refresh_from_db()
    assert lead.owner == erin and lead.stage == Stage.ACCEPTED
    record = Assignment.objects.filter(lead=lead).latest("id")
    assert (record.from_user, record.to_user, record.by) == (alice, erin, erin)


def test_move_stage_refuses_to_change_the_owner(alices_lead, erin):
    from qualify.leads.lifecycle import move_stage

    with pytest.raises(TypeError):
        move_stage(alices_lead, to=Stage.WORKING, by=erin, owner_id=erin.pk)
    alices_lead.refresh_from_db()
    assert alices_lead.stage == Stage.NEW


def test_an_owner_posted_to_the_admin_change_form_changes_nothing(client, rita, alices_lead, bob, north):
    """The change form shows the owner read-only: a posted owner is ignored."""
    rita.is_superuser = True
    rita.save()
    login(client, rita)
    page = client.get(f"/admin/leads/lead/{alices_lead.pk}/change/")
    assert page.status_code == 200
    assert 'name="owner"' not in page.content.decode()
    response = client.post(f"/admin/leads/lead/{alices_lead.pk}/change/", {
        "first_name": "Alicia", "last_name": alices_lead.last_name, "email": alices_lead.email, "phone": "",
        "title": "", "seniority": "", "department": "", "persona": "", "account": alices_lead.account_id,
        "team": north.pk, "owner": bob.pk, "source": alices_lead.source, "campaign": "", "partner_name": "",
        "partner_contact": "", "external_id": "",
        "stage_changes-TOTAL_FORMS": "0", "stage_changes-INITIAL_FORMS": "0",
        "touches-TOTAL_FORMS": "0", "touches-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    alices_lead.refresh_from_db()
    assert alices_lead.first_name == "Alicia" and alices_lead.owner_id != bob.pk


def test_a_touch_added_in_admin_stops_the_clock_updates_last_touch_and_moves_the_lead(
        client, rita, alice, north, django_capture_on_commit_callbacks):
    from qualify.leads.lifecycle import move_stage

    lead = LeadFactory(team=north, owner=alice)
    with django_capture_on_commit_callbacks(execute=True):
        move_stage(lead, to=Stage.MQL, by=None)
    clock = Clock.objects.get(lead=lead, kind=ClockKind.MQL_FIRST_TOUCH)
    assert clock.status == ClockStatus.OPEN
    rita.is_superuser = True
    rita.save()
    login(client, rita)
    now = timezone.localtime() + datetime.timedelta(minutes=1)  # after the clock started (seconds precision)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/leads/touch/add/", {
            "lead": lead.pk, "author": alice.pk, "kind": "call", "outcome": "connected", "note": "Spoke to her",
            "occurred_at_0": now.strftime("%Y-%m-%d"), "occurred_at_1": now.strftime("%H:%M:%S"),
        })
    assert response.status_code == 302, response.content.decode()[:3000]
    lead.refresh_from_db()
    clock.refresh_from_db()
    assert Touch.objects.filter(lead=lead).count() == 1
    assert lead.last_touch_at is not None and lead.stage == Stage.WORKING
    assert clock.status == ClockStatus.MET


@pytest.mark.parametrize("who", ["alice", "erin"])
def test_reps_cannot_change_the_owner_through_the_api(who, request, client, alice, bob, erin, north):
    lead = LeadFactory(team=north, owner=alice, ae=erin)
    login(client, request.getfixturevalue(who))
    response = client.patch(f"/api/leads/{lead.pk}/", {"owner": bob.pk}, content_type="application/json")
    assert response.status_code == 400
    assert "manager" in response.json()["owner"][0]
    lead.refresh_from_db()
    assert lead.owner == alice and not Assignment.objects.filter(lead=lead).exists()


def test_a_manager_changes_the_owner_through_the_api_and_it_is_recorded(client, maria, alice, bob, north):
    lead = LeadFactory(team=north, owner=alice)
    login(client, maria)
    response = client.patch(f"/api/leads/{lead.pk}/", {"owner": bob.pk}, content_type="application/json")
    assert response.status_code == 200
    record = Assignment.objects.get(lead=lead)
    assert (record.from_user, record.to_user, record.by) == (alice, bob, maria)


def test_listeners_are_registered_in_the_settings_order():
    """routing before sla: a new MQL is placed before its first-touch clock starts."""
    after = [f.__module__ for f in changes.listeners("stage_changed", changes.AFTER_COMMIT)]
    assert after == ["qualify.routing.listeners", "qualify.sla.clocks"]
    during = [f.__module__ for f in changes.listeners("owner_changed", changes.IN_TRANSACTION)]
    assert during == ["qualify.routing.history", "qualify.sla.clocks", "qualify.notifications.listeners", "qualify.webhooks.listeners"]


def test_a_rolled_back_change_reaches_no_after_commit_listener(alices_lead, django_capture_on_commit_callbacks, monkeypatch):
    from django.db import transaction

    from qualify.leads.lifecycle import move_stage

    seen = []
    monkeypatch.setitem(changes._listeners, ("stage_changed", changes.AFTER_COMMIT), [seen.append])
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            move_stage(alices_lead, to=Stage.WORKING, by=None)
            raise RuntimeError("rolled back")
        move_stage(alices_lead, to=Stage.MQL, by=None)
    assert [[c.to_stage for c in batch] for batch in seen] == [[Stage.MQL]]


def test_gathered_deliveries_arrive_as_one_batch(north, django_capture_on_commit_callbacks, monkeypatch):
    from qualify.leads.lifecycle import move_stage

    leads = [LeadFactory(team=north) for _ in range(3)]
    seen = []
    monkeypatch.setitem(changes._listeners, ("stage_changed", changes.AFTER_COMMIT), [seen.append])
    with changes.gathered(), django_capture_on_commit_callbacks(execute=True):
        for lead in leads:
            move_stage(lead, to=Stage.WORKING, by=None)
    assert [sorted(c.lead_id for c in batch) for batch in seen] == [sorted(lead.pk for lead in leads)]
