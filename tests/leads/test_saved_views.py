"""Saved queue views: personal ones stay personal, managers share with their team, nobody outside
a team sees its views (404), bad input is refused clearly and changes nothing, CSRF required."""

from __future__ import annotations

import html

from django.test import Client
from django.urls import reverse

from qualify.leads.models import SavedView
from tests.conftest import login

CREATE = reverse("leads:view_create")


def _refused(client, response) -> str:
    """The error said beside the refused form, on the page the refusal leads back to."""
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    return html.unescape(page.split('-error" role="alert">', 1)[1].split("</p>", 1)[0])


def test_a_personal_view_is_saved_without_cursor_or_token_and_seen_only_by_its_owner(client, alice, bob):
    response = login(client, alice).post(CREATE, {
        "name": "Hot MQLs", "query": "scope=mine&stage=mql&sort=created&dir=asc&after=5:10&csrfmiddlewaretoken=x&junk=1",
    })
    view = SavedView.objects.get()
    assert (view.name, view.team_id, view.created_by_id) == ("Hot MQLs", None, alice.pk)
    assert view.query == "scope=mine&stage=mql&sort=created&dir=asc"
    assert response["Location"] == "/queue/?" + view.query
    assert "Hot MQLs" in client.get("/queue/").content.decode()
    login(client, bob)
    assert "Hot MQLs" not in client.get("/queue/").content.decode()
    assert client.post(reverse("leads:view_delete", args=[view.pk])).status_code == 404
    assert client.post(reverse("leads:view_update", args=[view.pk]), {"name": "Mine now"}).status_code == 404
    assert SavedView.objects.get().name == "Hot MQLs"


def test_a_manager_shares_with_the_team_and_only_the_team_sees_it(client, maria, alice, charlie, north):
    login(client, maria).post(CREATE, {"name": "Breaching", "query": "sla=breached", "share": "1"})
    view = SavedView.objects.get()
    assert view.team_id == north.pk
    assert "Breaching" in login(client, alice).get("/queue/").content.decode()
    # A teammate uses it but may not change it.
    assert client.post(reverse("leads:view_update", args=[view.pk]), {"name": "Mine"}).status_code == 403
    assert client.post(reverse("leads:view_delete", args=[view.pk])).status_code == 403
    # Another team: it does not exist.
    login(client, charlie)
    assert "Breaching" not in client.get("/queue/").content.decode()
    assert client.post(reverse("leads:view_delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.get().name == "Breaching"


def test_an_sdr_cannot_share_a_view(client, alice):
    response = login(client, alice).post(CREATE, {"name": "Ours", "query": "", "share": "1"})
    assert _refused(client, response) == "Only a manager of the team can share a view with it."
    assert not SavedView.objects.exists()


def test_a_manager_renames_repoints_and_deletes_her_team_view(client, maria):
    login(client, maria).post(CREATE, {"name": "Breaching", "query": "sla=breached", "share": "1"})
    view = SavedView.objects.get()
    client.post(reverse("leads:view_update", args=[view.pk]), {"name": "At risk", "query": "sla=at_risk&page=3"})
    view.refresh_from_db()
    assert (view.name, view.query, view.team_id is not None) == ("At risk", "sla=at_risk", True)
    client.post(reverse("leads:view_delete", args=[view.pk]))
    assert not SavedView.objects.exists()


def test_bad_names_are_refused_clearly_and_change_nothing(client, alice):
    login(client, alice).post(CREATE, {"name": "Mine", "query": "stage=new"})
    cases = [
        ({"name": "   ", "query": "stage=mql"}, "Give the view a name."),
        ({"name": "x" * 81, "query": "stage=mql"}, "The name is too long: 81 characters; keep it to 80."),
        ({"name": "Mine", "query": "stage=mql"}, "There is already a view called “Mine” there; pick another name."),
    ]
    for data, message in cases:
        assert _refused(client, client.post(CREATE, data)) == message
    assert list(SavedView.objects.values_list("name", "query")) == [("Mine", "stage=new")]
    view = SavedView.objects.get()
    client.post(CREATE, {"name": "Other", "query": ""})
    response = client.post(reverse("leads:view_update", args=[view.pk]), {"name": "Other"})
    assert _refused(client, response) == "There is already a view called “Other” there; pick another name."
    view.refresh_from_db()
    assert view.name == "Mine"


def test_filters_too_long_to_save_are_refused_clearly_and_repeats_count_once(client, alice):
    """A query over the column's 1,000 characters was a 500 (DataError)."""
    login(client, alice)
    response = client.post(CREATE, {"name": "Long", "query": "q=" + "a" * 1500})
    assert _refused(client, response) == ("These filters are too long to save: 1,502 characters in the address; "
                                   "keep it to 1,000 (a shorter search, fewer values).")
    assert not SavedView.objects.exists()
    client.post(CREATE, {"name": "MQLs", "query": "&".join(["stage=mql"] * 200) + "&prop.occupation=Student"})
    assert SavedView.objects.get().query == "stage=mql&prop.occupation=Student"


def test_saved_view_forms_need_a_csrf_token(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(CREATE, {"name": "X", "query": ""}).status_code == 403
    assert not SavedView.objects.exists()


def test_a_saved_view_whose_filters_no_longer_hold_says_why_the_list_is_empty(client, alice, alices_lead):
    """A stored stage that is no longer a choice (or a hand-edited address) emptied the queue with
    no word of why: only the property filters' errors were shown."""
    view = SavedView.objects.create(name="Old stages", query="stage=bogus&owner=abc", created_by=alice)
    page = login(client, alice).get("/queue/?" + view.query).content.decode()
    alert = page.split('role="alert">', 1)[1].split("</div>", 1)[0]
    assert "Stage: Select a valid choice. bogus is not one of the available choices." in alert
    assert "Enter a whole number." in alert
    assert alices_lead.last_name not in page


def test_an_admin_sharing_with_a_team_that_does_not_exist_is_refused_clearly(client, rita):
    """An unknown team id was said to be a name clash (its foreign key failed on commit); one past
    bigint was a 500."""
    login(client, rita)
    for team in ("999999", "99999999999999999999999"):
        response = client.post(CREATE, {"name": "Everyone", "query": "", "share": "1", "team": team})
        assert _refused(client, response) == "Only a manager of the team can share a view with it."
    assert not SavedView.objects.exists()


def test_only_who_may_change_a_view_is_offered_rename_and_delete(client, maria, alice, bob):
    """The team's view showed Rename, "Use current filters" and Delete to every teammate, and each
    was refused (403) when used."""
    login(client, maria).post(CREATE, {"name": "Breaching", "query": "sla=breached", "share": "1"})
    team_view = SavedView.objects.get()
    login(client, alice).post(CREATE, {"name": "Mine", "query": "stage=new"})
    mine = SavedView.objects.get(name="Mine")
    page = client.get("/queue/").content.decode()
    assert "Breaching" in page  # she uses it
    assert reverse("leads:view_update", args=[mine.pk]) in page and reverse("leads:view_delete", args=[mine.pk]) in page
    assert reverse("leads:view_update", args=[team_view.pk]) not in page
    page = login(client, bob).get("/queue/").content.decode()
    assert "Breaching" in page and "Manage views" not in page
    page = login(client, maria).get("/queue/").content.decode()
    assert reverse("leads:view_update", args=[team_view.pk]) in page
    assert reverse("leads:view_delete", args=[team_view.pk]) in page


def test_a_refused_save_comes_back_with_the_name_as_typed_and_the_error_beside_it(client, alice):
    """A refused name was lost: the page came back with an empty, closed form and the error in a
    flash at the top."""
    login(client, alice).post(CREATE, {"name": "Mine", "query": "stage=new"})
    response = client.post(CREATE, {"name": "Mine", "query": "stage=mql"})
    assert response["Location"] == "/queue/?stage=mql"
    page = client.get(response["Location"]).content.decode()
    assert 'open><summary class="btn btn-small">Save this view' in page
    form = page.split('class="save-view"', 1)[1].split("</form>", 1)[0]
    assert 'value="Mine"' in form and "There is already a view called “Mine” there; pick another name." in form
    assert "pick another name" not in client.get(response["Location"]).content.decode()  # said once
    mine = SavedView.objects.get()
    client.post(CREATE, {"name": "Other", "query": ""})
    response = client.post(reverse("leads:view_update", args=[mine.pk]), {"name": "Other"})
    page = client.get(response["Location"]).content.decode()
    form = page.split(f'action="{reverse("leads:view_update", args=[mine.pk])}"', 1)[1].split("</form>", 1)[0]
    assert 'value="Other"' in form and "There is already a view called “Other” there; pick another name." in form
    assert list(SavedView.objects.order_by("name").values_list("name", flat=True)) == ["Mine", "Other"]
