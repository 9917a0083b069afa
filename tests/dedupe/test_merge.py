"""merge_leads keeps everything, and the merged-away id keeps resolving."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse

from qualify.errors import DomainError
from qualify.frameworks.models import Answer
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import hand_off
from qualify.leads.merge import merge_accounts, merge_leads
from qualify.leads.models import Account, Event, Lead, MergedLead, Stage, StageChange, Touch
from qualify.scoring.models import ScoreSnapshot
from qualify.scoring.scores import live_specs, recompute_ids
from qualify.sla.models import Clock, ClockStatus
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory

from .conftest import counts, rich_lead


@pytest.fixture
def pair(north, alice, bob, erin_is_default_ae):
    erin = erin_is_default_ae
    a = rich_lead(north, owner=alice, ae=erin, first_name="Dana", email="dana@acme.example", events=3)
    b = rich_lead(north, owner=bob, ae=erin, first_name="Dana", email="d.doe@acme.example", events=2,
                  phone="+1 555 010 2030", external_id="CRM-77")
    return a, b


def test_merge_keeps_every_related_row(pair, rita, django_capture_on_commit_callbacks):
    a, b = pair
    before = counts([a.pk, b.pk])
    assert before["leads.Event.lead_id"] == 5 and before["handoff.Handoff.lead_id"] == 2
    assert before["sla.Clock.lead_id"] >= 2 and before["frameworks.Answer.lead_id"] > 0

    with django_capture_on_commit_callbacks(execute=True):
        survivor = merge_leads(a, b, by=rita, fields={"email": "survivor"})

    assert survivor.pk == a.pk and not Lead.objects.filter(pk=b.pk).exists()
    after = counts([a.pk, b.pk])
    before["leads.MergedLead.survivor_id"] += 1  # the redirect itself
    # Daily snapshots of a day both leads have keep the survivor's (one per lead and day); all else moves.
    dropped = {"scoring.ScoreSnapshot.lead_id": 2}
    assert {k: before[k] - dropped.get(k, 0) for k in before} == after
    assert not any(counts([b.pk]).values())
    assert (survivor.phone, survivor.external_id, survivor.email) == ("+1 555 010 2030", "CRM-77", "dana@acme.example")
    # One pending handoff per lead: the merged one's is closed, with its clock; history stays.
    assert Handoff.objects.filter(lead=a, status=HandoffStatus.PENDING).count() == 1
    assert Handoff.objects.filter(lead=a, status=HandoffStatus.CLOSED).count() == 1
    assert Clock.objects.filter(lead=a, status=ClockStatus.OPEN, kind="handoff").count() <= 1
    assert MergedLead.objects.get(merged_id=b.pk).survivor_id == a.pk


def test_merged_score_equals_a_fresh_recompute_over_the_combined_events(pair, rita, django_capture_on_commit_callbacks):
    a, b = pair
    with django_capture_on_commit_callbacks(execute=True):
        merge_leads(a, b, by=rita)
    merged = Lead.objects.get(pk=a.pk)
    assert Event.objects.filter(lead=a).count() == 5
    assert merged.score_watermark == max(Event.objects.filter(lead=a).values_list("id", flat=True))
    # Recompute from scratch (as a full recompute would) and compare every scoring column.
    cols = ["score", "score_fit", "score_engagement", "fit_grade", "score_watermark"]
    stored = Lead.objects.filter(pk=a.pk).values(*cols).get()
    from django.db import transaction

    with transaction.atomic():
        recompute_ids([a.pk], live_specs(), now=merged.score_computed_at)
    assert Lead.objects.filter(pk=a.pk).values(*cols).get() == stored
    assert stored["score"] > 0


def test_merge_across_teams_is_refused_and_changes_nothing(north, south, alices_lead, south_lead, rita):
    before = counts([alices_lead.pk, south_lead.pk])
    with pytest.raises(DomainError, match="different teams"):
        merge_leads(alices_lead, south_lead, by=rita)
    assert counts([alices_lead.pk, south_lead.pk]) == before
    assert Lead.objects.filter(pk=south_lead.pk).exists()


def test_merging_twice_says_it_was_already_merged(pair, rita):
    a, b = pair
    merge_leads(a, b, by=rita)
    with pytest.raises(DomainError, match=f"#{b.pk} was already merged into #{a.pk}"):
        merge_leads(a, b, by=rita)


def test_merge_with_itself_is_refused(alices_lead, rita):
    with pytest.raises(DomainError, match="itself"):
        merge_leads(alices_lead, alices_lead, by=rita)


def test_merged_id_redirects_to_the_survivor_page_and_api(client, pair, rita, maria):
    a, b = pair
    merge_leads(a, b, by=rita)
    login(client, maria)
    response = client.get(reverse("leads:detail", args=[b.pk]))
    assert response.status_code == 301 and response["Location"] == a.get_absolute_url()
    api = client.get(f"/api/leads/{b.pk}/")
    assert api.status_code == 200 and api.json()["id"] == a.pk


def test_a_chain_of_merges_stays_flat(north, rita):
    x, y, z = (LeadFactory(team=north) for _ in range(3))
    merge_leads(y, x, by=rita)
    merge_leads(z, y, by=rita)
    assert dict(MergedLead.objects.values_list("merged_id", "survivor_id")) == {x.pk: z.pk, y.pk: z.pk}


def test_api_merge(client, pair, maria, charlie):
    a, b = pair
    login(client, charlie)  # the outsider: another team's leads do not exist
    assert client.post(f"/api/leads/{a.pk}/merge/", {"other": b.pk}, content_type="application/json").status_code == 404
    login(client, maria)
    response = client.post(f"/api/leads/{a.pk}/merge/", {"other": b.pk, "fields": {"phone": "other"}},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == a.pk and response.json()["phone"] == "+1 555 010 2030"
    again = client.post(f"/api/leads/{a.pk}/merge/", {"other": b.pk}, content_type="application/json")
    assert again.status_code == 400


def test_api_merge_is_for_managers_and_revops_not_the_sdr_who_owns_both(client, north, alice):
    """A merge deletes a record: an SDR could make any pool lead disappear into one of theirs."""
    mine, pool = LeadFactory(team=north, owner=alice), LeadFactory(team=north, owner=None)
    login(client, alice)
    response = client.post(f"/api/leads/{mine.pk}/merge/", {"other": pool.pk}, content_type="application/json")
    assert response.status_code == 403 and "managers and RevOps" in response.json()["detail"]
    assert Lead.objects.filter(pk=pool.pk).exists() and not MergedLead.objects.exists()
    account = AccountFactory(team=north)
    response = client.post(f"/api/accounts/{mine.account_id}/merge/", {"other": account.pk}, content_type="application/json")
    assert response.status_code == 403


def test_api_merge_refuses_an_unknown_field(client, pair, maria):
    a, b = pair
    login(client, maria)
    response = client.post(f"/api/leads/{a.pk}/merge/", {"other": b.pk, "fields": {"stage": "other"}},
                           content_type="application/json")
    assert response.status_code == 400 and Lead.objects.filter(pk=b.pk).exists()


def test_merge_accounts_moves_leads_and_resolves(client, north, rita, maria):
    a = AccountFactory(team=north, name="Acme Inc", domain="acme.example", industry="")
    b = AccountFactory(team=north, name="ACME", domain="www.acme.example", industry="Robotics")
    leads = [LeadFactory(team=north, account=b) for _ in range(3)]
    kept = merge_accounts(a, b, by=rita, fields={"domain": "survivor"})  # industry: the non-empty one
    assert kept.industry == "Robotics" and kept.domain == "acme.example"
    assert Lead.objects.filter(pk__in=[x.pk for x in leads], account=a).count() == 3
    assert not Account.objects.filter(pk=b.pk).exists()
    login(client, maria)
    assert client.get(f"/api/accounts/{b.pk}/").json()["id"] == a.pk


def test_the_merge_verb_itself_refuses_an_sdr_who_may_change_both_leads(north, alice):
    """Every door (page, API, admin, a script) goes through the verb, so the rule lives there."""
    mine, pool = LeadFactory(team=north, owner=alice), LeadFactory(team=north, owner=None)
    with pytest.raises(PermissionDenied, match="managers and RevOps"):
        merge_leads(mine, pool, by=alice)
    assert Lead.objects.filter(pk__in=[mine.pk, pool.pk]).count() == 2 and not MergedLead.objects.exists()
    other = AccountFactory(team=north)
    with pytest.raises(PermissionDenied, match="managers and RevOps"):
        merge_accounts(mine.account_id, other.pk, by=alice)
    assert Account.objects.filter(pk__in=[mine.account_id, other.pk]).count() == 2


def test_the_merge_verb_refuses_a_manager_of_another_team(north, south):
    from accounts.models import Role
    from tests.factories import UserFactory

    stella = UserFactory.with_role(Role.MANAGER, south, username="stella")
    a, b = LeadFactory(team=north, owner=None), LeadFactory(team=north, owner=None)
    with pytest.raises(PermissionDenied):
        merge_leads(a, b, by=stella)
    assert Lead.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_the_merge_verb_lets_the_teams_manager_merge(north, maria):
    a, b = LeadFactory(team=north, owner=None), LeadFactory(team=north, owner=None)
    assert merge_leads(a, b, by=maria).pk == a.pk and not Lead.objects.filter(pk=b.pk).exists()


def test_the_admin_merge_action_refuses_a_staff_member_who_is_no_manager(client, north, alice):
    alice.is_staff = True
    alice.save(update_fields=["is_staff"])
    from qualify.leads.admin import _merge_two
    from qualify.leads.merge import merge_leads as verb

    said = []

    class FakeAdmin:
        def message_user(self, request, message, level=None):
            said.append(str(message))

    class Request:
        user = alice

    a, b = LeadFactory(team=north, owner=alice), LeadFactory(team=north, owner=alice)
    _merge_two(FakeAdmin(), Request(), Lead.objects.filter(pk__in=[a.pk, b.pk]), verb)
    assert said == ["Merging is for the team's managers and RevOps."]
    assert Lead.objects.filter(pk__in=[a.pk, b.pk]).count() == 2


def test_a_manager_asking_to_merge_another_teams_lead_into_theirs_is_refused_without_a_word_on_it(north, south, maria,
                                                                                                   south_lead):
    mine = LeadFactory(team=north, owner=None)
    with pytest.raises(PermissionDenied, match="^Merging is for the team's managers and RevOps.$"):
        merge_leads(mine, south_lead, by=maria)
    assert Lead.objects.filter(pk__in=[mine.pk, south_lead.pk]).count() == 2


def test_an_edit_of_a_lead_merged_away_meanwhile_is_refused_and_changes_nothing(client, north, alice, maria):
    """The edit page and PATCH read the lead, then save it: a merge in between deleted the row, and
    the save failed with "did not affect any rows" (a 500). The edit locks the row and says so."""
    from qualify.leads import records

    keep, gone = LeadFactory(team=north, owner=alice, title="CEO"), LeadFactory(team=north, owner=alice, title="CFO")
    stale = Lead.objects.get(pk=gone.pk)  # what the edit read before the merge committed
    merge_leads(keep, gone, by=maria, fields={"title": "survivor"})
    with pytest.raises(DomainError, match=f"merged into #{keep.pk}"):
        records.edit_lead(stale, by=alice, title="CTO")
    assert Lead.objects.get(pk=keep.pk).title == "CEO"


def test_an_edit_of_an_account_merged_away_meanwhile_is_refused(north, maria):
    from qualify.leads import records

    keep, gone = AccountFactory(team=north), AccountFactory(team=north)
    stale = Account.objects.get(pk=gone.pk)
    merge_accounts(keep, gone, by=maria)
    with pytest.raises(DomainError, match=f"merged into #{keep.pk}"):
        records.edit_account(stale, by=maria, industry="Retail")


def test_a_pending_handoff_merged_into_a_lead_not_handed_off_is_closed_not_stranded(
        north, alice, bob, erin_is_default_ae, rita, django_capture_on_commit_callbacks):
    """The survivor (chosen on the page or in the URL) is being worked; the merged lead waited for
    an AE. Moved as it was, the pending handoff sat on a Working lead: accept and reject refused it
    (the lead is not Handed off), its AE clock ran on, and the lead could never be handed off again
    (one pending handoff per lead)."""
    erin = erin_is_default_ae
    a = rich_lead(north, owner=alice, ae=erin, first_name="Dana", email="dana@acme.example", hand=False)
    b = rich_lead(north, owner=bob, ae=erin, first_name="Dana", email="d.doe@acme.example")
    assert (a.stage, b.stage) == (Stage.WORKING, Stage.HANDED_OFF)

    with django_capture_on_commit_callbacks(execute=True):
        merge_leads(a, b, by=rita)

    a.refresh_from_db()
    assert a.stage == Stage.WORKING
    assert not Handoff.objects.filter(lead=a, status=HandoffStatus.PENDING).exists()
    assert Handoff.objects.get(lead=a).status == HandoffStatus.CLOSED
    assert not Clock.objects.filter(lead=a, status=ClockStatus.OPEN, kind="handoff").exists()
    # The survivor can be handed off as any worked lead.
    assert hand_off(a, to=erin, by=alice, next_step="Demo on Monday 9:00").is_pending
