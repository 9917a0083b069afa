"""Bulk actions from the queue: the same verbs, each row judged on its own, refusals reported per
row, a second submit harmless, CSRF required, and bad input changes nothing."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from qualify.leads.models import DisqualifyReason, Lead, ReasonAction, Stage, StageChange
from qualify.leads.views import NOT_AN_OWNER
from tests.conftest import login
from tests.factories import LeadFactory, UserFactory

BULK = reverse("leads:bulk")


def _post(client, **data):
    response = client.post(BULK, data)
    assert response.status_code == 302
    said = [str(m) for m in get_messages(response.wsgi_request)]
    client.get(reverse("leads:queue"))  # shows (and so clears) the messages
    return said


@pytest.fixture
def close_reason(db):
    return DisqualifyReason.objects.filter(active=True, action=ReasonAction.CLOSE).order_by("id").first()


@pytest.fixture
def nurture_reason(db):
    return DisqualifyReason.objects.filter(active=True, action=ReasonAction.NURTURE).order_by("id").first()


def test_claim_takes_the_pool_leads_and_reports_each_refusal(client, alice, bob, north, south):
    pool = [LeadFactory(team=north, owner=None) for _ in range(3)]
    bobs = LeadFactory(team=north, owner=bob, first_name="Bobsown")
    other_team = LeadFactory(team=south, owner=None)
    said = _post(login(client, alice), action="claim", ids=[p.pk for p in pool] + [bobs.pk, other_team.pk, 99999999])
    assert "Claimed 3 leads." in said
    assert {lead.owner_id for lead in Lead.objects.filter(pk__in=[p.pk for p in pool])} == {alice.pk}
    # bob's lead: alice may not change it, and "not found" is what any id she cannot see gets.
    assert f"Lead #{bobs.pk}: Not found." in said
    assert f"Lead #{other_team.pk}: Not found." in said and "Lead #99999999: Not found." in said
    assert Lead.objects.get(pk=other_team.pk).owner_id is None and Lead.objects.get(pk=bobs.pk).owner_id == bob.pk


def test_submitting_the_same_claim_twice_changes_nothing_the_second_time(client, alice, north):
    pool = [LeadFactory(team=north, owner=None) for _ in range(2)]
    login(client, alice)
    _post(client, action="claim", ids=[p.pk for p in pool])
    changes = StageChange.objects.count()
    said = _post(client, action="claim", ids=[p.pk for p in pool])
    assert not any(s.startswith("Claimed") for s in said)
    assert sum("Already yours." in s for s in said) == 2
    assert StageChange.objects.count() == changes


def test_manager_reassigns_and_the_verb_refuses_an_owner_outside_the_team(client, maria, alice, bob, charlie, north):
    leads = [LeadFactory(team=north, owner=alice) for _ in range(2)]
    said = _post(login(client, maria), action="reassign", owner=bob.pk, ids=[lead.pk for lead in leads])
    assert "Reassigned 2 leads." in said
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner_id", flat=True)) == {bob.pk}
    said = _post(client, action="reassign", owner=charlie.pk, ids=[leads[0].pk])
    assert said == ["Choose an active SDR, AE or manager of a team you manage."]
    assert Lead.objects.get(pk=leads[0].pk).owner_id == bob.pk


def test_a_bulk_reassign_counts_only_the_leads_that_changed_owner(client, maria, alice, bob, north):
    """Before, a lead already the new owner's was counted ("Reassigned 2 leads." for one change)."""
    alices, bobs = LeadFactory(team=north, owner=alice), LeadFactory(team=north, owner=bob)
    said = _post(login(client, maria), action="reassign", owner=bob.pk, ids=[alices.pk, bobs.pk])
    assert said[0] == "Reassigned 1 lead."
    assert any("Already Bob" in line for line in said[1:]), said
    assert set(Lead.objects.filter(pk__in=[alices.pk, bobs.pk]).values_list("owner_id", flat=True)) == {bob.pk}


@pytest.mark.parametrize("owner", ["unknown", "inactive", "-1", "huge"])
def test_a_bulk_reassign_to_no_eligible_owner_is_refused_and_changes_nothing(client, maria, alice, north, owner):
    gone = UserFactory.with_role(Role.SDR, north, username="gone", is_active=False)
    owner_id = {"unknown": 999_999_999, "inactive": gone.pk, "-1": -1, "huge": 2**40}[owner]
    lead = LeadFactory(team=north, owner=alice)
    said = _post(login(client, maria), action="reassign", owner=owner_id, ids=[lead.pk])
    assert said == ["Choose an active SDR, AE or manager of a team you manage."]
    assert Lead.objects.get(pk=lead.pk).owner_id == alice.pk


def test_a_bulk_reassign_is_one_batch_and_one_notification(client, maria, alice, bob, north):
    from qualify.notifications.models import Notification
    from qualify.routing.models import Assignment

    leads = [LeadFactory(team=north, owner=alice) for _ in range(6)]
    said = _post(login(client, maria), action="reassign", owner=bob.pk, ids=[lead.pk for lead in leads])
    assert "Reassigned 6 leads." in said
    assert Assignment.objects.filter(lead__in=leads, from_user=alice, to_user=bob, by=maria).count() == 6
    told = list(Notification.objects.filter(user=bob).values_list("title", flat=True))
    assert told == ["6 leads reassigned to you"]


def test_a_bulk_reassign_refuses_the_rows_of_another_team_than_the_owners(client, rita, bob, charlie, north, south):
    mine, theirs = LeadFactory(team=north, owner=bob), LeadFactory(team=south, owner=charlie)
    spare = LeadFactory(team=north, owner=None)
    said = _post(login(client, rita), action="reassign", owner=bob.pk, ids=[spare.pk, theirs.pk, mine.pk])
    assert "Reassigned 1 lead." in said  # `mine` is Bob's already
    assert f"{mine.full_name}: Already Bob Brown's." in said
    assert f"{theirs.full_name}: Choose an active SDR, AE or manager of this lead's team." in said
    assert Lead.objects.get(pk=theirs.pk).owner_id == charlie.pk and Lead.objects.get(pk=spare.pk).owner_id == bob.pk


def test_an_sdr_cannot_reassign(client, alice, bob, north):
    lead = LeadFactory(team=north, owner=alice)
    said = _post(login(client, alice), action="reassign", owner=bob.pk, ids=[lead.pk])
    assert said == ["Choose an active SDR, AE or manager of a team you manage."]
    assert Lead.objects.get(pk=lead.pk).owner_id == alice.pk


def test_disqualify_with_a_reason_and_per_row_refusals(client, alice, erin, north, close_reason):
    open_leads = [LeadFactory(team=north, owner=alice, stage=Stage.WORKING) for _ in range(2)]
    waiting = LeadFactory(team=north, owner=alice, ae=erin, stage=Stage.HANDED_OFF, first_name="Waiting")
    said = _post(login(client, alice), action="disqualify", reason=close_reason.pk,
                 note="No budget this year, confirmed twice.", ids=[lead.pk for lead in open_leads] + [waiting.pk])
    assert "Disqualified 2 leads." in said
    assert any(s.startswith(f"{waiting.full_name}:") for s in said)
    assert Lead.objects.get(pk=waiting.pk).stage == Stage.HANDED_OFF
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in open_leads]).values_list("stage", flat=True)) == {Stage.DISQUALIFIED}


def test_nurture_needs_a_nurture_reason(client, alice, north, close_reason, nurture_reason):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    said = _post(login(client, alice), action="nurture", reason=close_reason.pk, note="Come back next year please.", ids=[lead.pk])
    assert said == [f"“{close_reason}” does not nurture leads; choose a nurture reason."]
    assert Lead.objects.get(pk=lead.pk).stage == Stage.WORKING
    said = _post(client, action="nurture", reason=nurture_reason.pk, note="Come back next year please.", ids=[lead.pk])
    assert said == ["Nurtured 1 lead."]
    assert Lead.objects.get(pk=lead.pk).stage == Stage.NURTURE


@pytest.mark.parametrize(("data", "message"), [
    ({"action": "claim"}, "Select at least one lead first."),
    ({"ids": ["1"]}, "Choose what to do with the selected leads."),
    ({"action": "explode", "ids": ["1"]}, "'explode' is not something the queue can do to leads."),
    ({"action": "claim", "ids": ["1", "x"]}, "The selection is not a list of lead ids."),
    ({"action": "disqualify", "ids": ["1"]}, "Choose a reason to disqualify the selected leads."),
    ({"action": "reassign", "ids": ["1"]}, "Choose who gets the selected leads."),
    ({"action": "claim", "ids": [str(i) for i in range(1, 202)]}, "Select at most 200 leads at a time (201 selected)."),
])
def test_bad_input_is_refused_clearly_and_changes_nothing(client, alice, north, data, message):
    lead = LeadFactory(team=north, owner=None)
    said = _post(login(client, alice), **data)
    assert said == [message]
    assert Lead.objects.get(pk=lead.pk).owner_id is None


def _ticked(page: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'name="ids" value="(\d+)" form="bulk-form"[^>]*\schecked', page)}


def test_a_refused_bulk_action_keeps_the_rows_ticked_and_says_why(client, alice, maria, north):
    """The page came back with every box unticked and the bar emptied: the rows had to be found and
    ticked again."""
    leads = [LeadFactory(team=north, owner=alice) for _ in range(3)]
    picked = [leads[0].pk, leads[2].pk]
    response = login(client, alice).post(BULK, {"action": "disqualify", "ids": picked, "note": "No budget",
                                                "next": "/queue/?sort=created"})
    assert response["Location"] == "/queue/?sort=created"
    page = client.get(response["Location"]).content.decode()
    assert "Choose a reason to disqualify the selected leads." in page
    assert _ticked(page) == set(picked)
    assert '<option value="disqualify" selected>' in page and 'value="No budget"' in page
    assert _ticked(client.get("/queue/?sort=created").content.decode()) == set()  # once, not forever
    response = login(client, maria).post(BULK, {"action": "reassign", "owner": 999_999, "ids": picked,
                                                "next": "/queue/?scope=team"})
    page = client.get(response["Location"]).content.decode()
    assert NOT_AN_OWNER in page and _ticked(page) == set(picked)
    assert set(Lead.objects.filter(pk__in=picked).values_list("owner_id", "stage")) == {(alice.pk, leads[0].stage)}


def test_a_too_long_note_is_told_so(client, alice, north, close_reason):
    lead = LeadFactory(team=north, owner=alice)
    said = _post(login(client, alice), action="disqualify", reason=close_reason.pk, note="x" * 5001, ids=[lead.pk])
    assert said == ["The note is too long: 5,001 characters; keep it to 5,000."]
    assert Lead.objects.get(pk=lead.pk).stage == lead.stage


def test_bulk_needs_a_csrf_token(alice, north):
    lead = LeadFactory(team=north, owner=None)
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(BULK, {"action": "claim", "ids": [lead.pk]}).status_code == 403
    assert Lead.objects.get(pk=lead.pk).owner_id is None


def test_marketing_reads_but_changes_nothing_in_bulk(client, mark, north):
    lead = LeadFactory(team=north, owner=None)
    said = _post(login(client, mark), action="claim", ids=[lead.pk])
    assert said == [f"Lead #{lead.pk}: You can read this lead but not change it."]
    assert Lead.objects.get(pk=lead.pk).owner_id is None


def test_queries_grow_by_a_fixed_amount_per_row(client, alice, north):
    login(client, alice)
    counts = []
    for n in (2, 4):
        pool = [LeadFactory(team=north, owner=None) for _ in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            _post(client, action="claim", ids=[p.pk for p in pool])
        counts.append(len(ctx))
    per_row = (counts[1] - counts[0]) / 2
    assert per_row == int(per_row) and per_row <= 10, counts


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_bulk_disqualify_hands_the_after_commit_listeners_one_batch(client, alice, north, close_reason, monkeypatch):
    """Each row commits on its own (a refusal undoes nothing else), but the listeners hear the
    selection as one batch, as from the admin's bulk action: 200 rows were 200 deliveries (the
    SLA listener's lock and load, routing's check) instead of one."""
    from qualify.leads import changes

    heard: list[list] = []
    monkeypatch.setitem(changes._listeners, ("stage_changed", changes.AFTER_COMMIT), [heard.append])
    leads = [LeadFactory(team=north, owner=alice, stage=Stage.WORKING) for _ in range(3)]
    said = _post(login(client, alice), action="disqualify", reason=close_reason.pk,
                 note="No budget this year, confirmed twice.", ids=[lead.pk for lead in leads])
    assert "Disqualified 3 leads." in said
    assert [sorted(c.lead_id for c in batch) for batch in heard] == [sorted(lead.pk for lead in leads)]
