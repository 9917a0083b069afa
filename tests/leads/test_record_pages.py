"""Creating and editing leads and accounts on the app's pages (qualify/leads/record_views.py):
the records verbs, the README's role table, forms that come back as typed with the real problem,
and double submits that create nothing twice."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from qualify.leads.models import Account, Lead, Seniority, Stage
from qualify.scoring import tasks
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rescored(monkeypatch):
    """The score_leads messages sent after commit (scoring's lead_saved listener)."""
    sent: list[list[int]] = []
    monkeypatch.setattr(tasks.score_leads, "delay", lambda ids: sent.append(list(ids)))
    return sent


@pytest.fixture
def acme(north):
    return AccountFactory(team=north, name="Acme Robotics", domain="acme.example")


def lead_data(account, **extra) -> dict:
    return {"first_name": "Nina", "last_name": "Novak", "email": "nina@acme.example", "source": "inbound",
            "account": account.pk, "form_token": "t1", **extra}


def account_data(team, **extra) -> dict:
    return {"name": "Globex", "domain": "Globex.Example ", "employee_count": "1200", "country": "de",
            "team": team.pk, "form_token": "a1", **extra}


# --- creating leads ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "erin", "maria", "mark", "rita"])
def test_everyone_of_the_team_creates_a_lead_and_it_is_scored(client, who, request, acme, rescored, django_capture_on_commit_callbacks):
    login(client, request.getfixturevalue(who))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:lead_create"), lead_data(acme))
    lead = Lead.objects.get(email="nina@acme.example")
    assert response.status_code == 302 and response["Location"] == lead.get_absolute_url()
    assert (lead.team_id, lead.stage, lead.owner_id) == (acme.team_id, Stage.NEW, None)
    assert rescored == [[lead.pk]]


def test_the_sdr_can_make_herself_the_owner(client, alice, acme):
    login(client, alice)
    client.post(reverse("leads:lead_create"), lead_data(acme, assign_to_me="on"))
    assert Lead.objects.get(email="nina@acme.example").owner == alice


def test_marketing_cannot_make_itself_the_owner(client, mark, acme):
    login(client, mark)
    page = client.get(reverse("leads:lead_create")).content.decode()
    assert "Make me the owner" not in page
    client.post(reverse("leads:lead_create"), lead_data(acme, assign_to_me="on"))
    assert Lead.objects.get(email="nina@acme.example").owner is None  # the field is not there to tick


def test_a_refused_lead_keeps_what_was_typed_and_names_each_problem(client, alice, acme):
    login(client, alice)
    response = client.post(reverse("leads:lead_create"), lead_data(acme, first_name="", email="not-an-email",
                                                                    title="Head of Robots", seniority="emperor"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved: 3 problems to fix." in page
    assert "First name: A lead needs a first name." in page
    assert "Email: This is not an email address" in page
    assert "Seniority: Select a valid choice. emperor is not one of the available choices." in page
    assert 'value="Head of Robots"' in page and 'value="not-an-email"' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="id_email_error"' in page
    assert not Lead.objects.exists()


def test_another_teams_account_cannot_be_chosen(client, alice, south):
    theirs = AccountFactory(team=south, name="Southern Secret")
    login(client, alice)
    page = client.get(reverse("leads:lead_create")).content.decode()
    assert "Southern Secret" not in page
    response = client.post(reverse("leads:lead_create"), lead_data(theirs))
    assert response.status_code == 400
    assert "That account does not exist or is not one of your team&#x27;s" in response.content.decode()
    assert not Lead.objects.exists()


def test_an_external_id_the_team_already_has_is_a_clear_error(client, alice, acme, north):
    LeadFactory(team=north, account=acme, external_id="crm-7")
    login(client, alice)
    response = client.post(reverse("leads:lead_create"), lead_data(acme, external_id="crm-7"))
    assert "External id: A lead with this external id already exists." in response.content.decode()
    assert Lead.objects.count() == 1


def test_a_unique_clash_lost_to_a_concurrent_create_is_shown_on_its_field(client, alice, acme, north, monkeypatch):
    """The form's own check passed; the insert then lost the race (records maps the IntegrityError)."""
    from qualify.leads.record_forms import LeadForm

    login(client, alice)
    LeadFactory(team=north, account=acme, external_id="crm-8")
    monkeypatch.setattr(LeadForm, "clean", lambda self: self.cleaned_data)
    response = client.post(reverse("leads:lead_create"), lead_data(acme, external_id="crm-8"))
    assert response.status_code == 400
    assert "External id: A lead with this external id already exists." in response.content.decode()
    assert Lead.objects.count() == 1


def test_a_double_submit_creates_one_lead(client, alice, acme):
    login(client, alice)
    first = client.post(reverse("leads:lead_create"), lead_data(acme))
    second = client.post(reverse("leads:lead_create"), lead_data(acme))
    assert Lead.objects.count() == 1
    assert second.status_code == 302 and second["Location"] == first["Location"]
    client.post(reverse("leads:lead_create"), lead_data(acme, form_token="t2"))  # a new form is a new lead
    assert Lead.objects.count() == 2


def test_the_form_offers_the_account_given_in_the_link(client, alice, acme):
    login(client, alice)
    page = client.get(reverse("leads:lead_create") + f"?account={acme.pk}").content.decode()
    assert f'<option value="{acme.pk}" selected>Acme Robotics</option>' in page


def test_creating_needs_csrf(alice, acme):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(reverse("leads:lead_create"), lead_data(acme)).status_code == 403
    assert not Lead.objects.exists()


# --- editing leads -------------------------------------------------------------------------------


def test_the_owner_edits_a_lead_and_a_fit_field_rescores_it(client, alice, alices_lead, rescored, django_capture_on_commit_callbacks):
    login(client, alice)
    form = client.get(reverse("leads:lead_edit", args=[alices_lead.pk])).content.decode()
    assert 'value="Dana"' in form and 'value="dana@acme.example"' in form
    data = lead_data(alices_lead.account, first_name="Dana", last_name="Diaz", email="dana@acme.example",
                     seniority=Seniority.C_LEVEL, title=alices_lead.title)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:lead_edit", args=[alices_lead.pk]), data, follow=True)
    alices_lead.refresh_from_db()
    assert alices_lead.seniority == Seniority.C_LEVEL
    assert rescored == [[alices_lead.pk]]
    assert "Saved: seniority." in response.content.decode()


def test_an_edit_no_fit_rule_reads_sends_nothing(client, alice, alices_lead, rescored, django_capture_on_commit_callbacks):
    login(client, alice)
    data = lead_data(alices_lead.account, first_name="Dana", last_name="Diaz", email="dana@acme.example",
                     title=alices_lead.title, phone="+1 555 0100")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("leads:lead_edit", args=[alices_lead.pk]), data)
    alices_lead.refresh_from_db()
    assert alices_lead.phone == "+1 555 0100"
    assert rescored == []


def test_marketing_reads_the_lead_but_cannot_edit_it(client, mark, alices_lead):
    login(client, mark)
    assert client.get(alices_lead.get_absolute_url()).status_code == 200
    assert "Edit lead" not in client.get(alices_lead.get_absolute_url()).content.decode()
    assert client.get(reverse("leads:lead_edit", args=[alices_lead.pk])).status_code == 403
    data = lead_data(alices_lead.account, first_name="Hacked")
    assert client.post(reverse("leads:lead_edit", args=[alices_lead.pk]), data).status_code == 403
    alices_lead.refresh_from_db()
    assert alices_lead.first_name == "Dana"


@pytest.mark.parametrize("who", ["bob", "charlie"])
def test_a_lead_they_cannot_see_is_a_404(client, who, request, alices_lead):
    login(client, request.getfixturevalue(who))
    assert client.get(reverse("leads:lead_edit", args=[alices_lead.pk])).status_code == 404
    assert client.post(reverse("leads:lead_edit", args=[alices_lead.pk]), {"first_name": "X"}).status_code == 404


def test_a_lead_stays_in_its_team(client, maria, alices_lead, south):
    theirs = AccountFactory(team=south)
    login(client, maria)
    data = lead_data(theirs, first_name="Dana", email="dana@acme.example")
    response = client.post(reverse("leads:lead_edit", args=[alices_lead.pk]), data)
    assert response.status_code == 400
    alices_lead.refresh_from_db()
    assert alices_lead.account.team_id == alices_lead.team_id


# --- accounts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "erin", "maria", "mark", "rita"])
def test_everyone_of_the_team_creates_an_account(client, who, request, north):
    login(client, request.getfixturevalue(who))
    response = client.post(reverse("leads:account_create"), account_data(north))
    account = Account.objects.get(name="Globex")
    assert (account.domain, account.country, account.employee_count, account.team) == ("globex.example", "DE", 1200, north)
    assert response.status_code == 302


def test_new_account_from_the_lead_form_goes_back_to_it_with_the_account_chosen(client, alice, north):
    login(client, alice)
    response = client.post(reverse("leads:account_create"), account_data(north, then="lead"))
    account = Account.objects.get(name="Globex")
    assert response["Location"] == f"{reverse('leads:lead_create')}?account={account.pk}"


def test_a_refused_account_keeps_what_was_typed(client, alice, north, acme):
    login(client, alice)
    response = client.post(reverse("leads:account_create"),
                           account_data(north, domain="ACME.example", employee_count="lots", country="Germany"))
    page = response.content.decode()
    assert response.status_code == 400
    assert f'Domain: This team already has an account with this domain: <a href="{acme.get_absolute_url()}">Acme Robotics</a>.' in page
    assert "Employees must be a whole number, like 250." in page
    assert "Country is a two-letter ISO code, like US or DE." in page
    assert 'value="Globex"' in page and 'value="lots"' in page
    assert Account.objects.count() == 1


def test_an_account_in_another_team_cannot_be_created(client, alice, south):
    login(client, alice)
    response = client.post(reverse("leads:account_create"), account_data(south))
    assert response.status_code == 400
    assert "That team does not exist or you cannot create accounts in it" in response.content.decode()
    assert not Account.objects.exists()


def test_the_owner_must_be_a_rep_of_the_team(client, alice, north, charlie, mark):
    login(client, alice)
    for who in (charlie, mark):
        response = client.post(reverse("leads:account_create"), account_data(north, owner=who.pk))
        assert response.status_code == 400
        assert "Choose an active SDR, AE or manager of this team." in response.content.decode()
    assert not Account.objects.exists()


def test_editing_an_account_rescores_its_leads(client, erin, acme, north, rescored, django_capture_on_commit_callbacks):
    lead = LeadFactory(team=north, account=acme)
    login(client, erin)
    data = {"name": "Acme Robotics", "domain": "acme.example", "employee_count": "5000", "segment": "enterprise"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("leads:account_edit", args=[acme.pk]), data)
    acme.refresh_from_db()
    assert (acme.employee_count, acme.segment) == (5000, "enterprise")
    assert response.status_code == 302
    assert rescored == [[lead.pk]]


def test_marketing_cannot_edit_an_account(client, mark, acme):
    login(client, mark)
    assert client.get(reverse("leads:account_edit", args=[acme.pk])).status_code == 403
    assert client.post(reverse("leads:account_edit", args=[acme.pk]), {"name": "Hacked"}).status_code == 403
    acme.refresh_from_db()
    assert acme.name == "Acme Robotics"


def test_another_teams_account_is_a_404(client, charlie, acme):
    login(client, charlie)
    assert client.get(reverse("leads:account_edit", args=[acme.pk])).status_code == 404
    assert client.post(reverse("leads:account_edit", args=[acme.pk]), {"name": "X"}).status_code == 404


def test_marketing_creates_an_account_without_an_owner(client, mark, north, alice):
    """As the API: marketing changes no account, so it gives a new one no owner (an owner posted anyway is dropped)."""
    login(client, mark)
    assert "owner" not in client.get(reverse("leads:account_create")).context["form"].fields
    assert client.post(reverse("leads:account_create"), account_data(north, owner=alice.pk)).status_code == 302
    assert Account.objects.get(name="Globex").owner is None


def test_a_headcount_the_column_cannot_hold_is_refused_on_its_field(client, alice, north, acme):
    """PostgreSQL's integer stops at 2,147,483,647: a larger headcount was a 500 (integer out of range)."""
    login(client, alice)
    response = client.post(reverse("leads:account_create"), account_data(north, employee_count="99999999999"))
    assert response.status_code == 400
    assert "Employee count: Employees must be at most 2,147,483,647." in response.content.decode()
    assert 'value="99999999999"' in response.content.decode()
    assert not Account.objects.filter(name="Globex").exists()
    response = client.post(reverse("leads:account_edit", args=[acme.pk]), {"name": "Acme Robotics", "employee_count": "2147483648"})
    assert response.status_code == 400
    assert "Employee count: Employees must be at most 2,147,483,647." in response.content.decode()
    acme.refresh_from_db()
    assert acme.employee_count == 250
    response = client.post(reverse("leads:account_edit", args=[acme.pk]), {"name": "Acme Robotics", "employee_count": "2147483647"})
    assert response.status_code == 302


def test_a_typed_email_is_stored_as_every_door_stores_it_so_events_find_the_lead(client, alice, acme):
    """The importer and the Segment door store records.clean_email's lower case, and POST /api/events/
    matches on it: a lead created here as "Nina.Novak@Acme.Example" was found by no event."""
    login(client, alice)
    client.post(reverse("leads:lead_create"), lead_data(acme, email=" Nina.Novak@Acme.Example "))
    lead = Lead.objects.get()
    assert lead.email == "nina.novak@acme.example"
    event = {"client_id": "e1", "type": "page_view", "email": "Nina.Novak@Acme.Example",
             "occurred_at": timezone.now().isoformat()}
    response = client.post("/api/events/", [event], content_type="application/json")
    assert response.json()["results"][0]["lead"] == lead.pk
    data = lead_data(acme, email="NINA@ACME.EXAMPLE", form_token="")
    client.post(reverse("leads:lead_edit", args=[lead.pk]), data)
    lead.refresh_from_db()
    assert lead.email == "nina@acme.example"
