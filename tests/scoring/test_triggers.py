"""Creating a lead, or editing a field fit reads on a lead or its account, rescores at once, through
every door (API, admin, CSV import); any other edit sends nothing.

With the shipped default model, a factory lead (no seniority, a mid-market software account of 250
people) has fit 25 (company group, capped): grade B. VP adds 15 (40, grade A); a retail account
loses the industry's 8 (20, grade C)."""

import pytest
from django import forms
from django.urls import reverse
from rest_framework.test import APIClient

from qualify.imports.jobs import create_job, start
from qualify.imports.models import ImportStatus
from qualify.leads.models import Account, Lead, Seniority
from qualify.scoring import scores, tasks, triggers
from tests.factories import AccountFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent(monkeypatch):
    """Every score_leads message, delivered at once to the task as a worker would."""
    messages: list[list[int]] = []

    def deliver(lead_ids):
        messages.append(lead_ids)
        tasks.score_leads(lead_ids)

    monkeypatch.setattr(tasks.score_leads, "delay", deliver)
    return messages


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def scored_lead(alice, north):
    """Alice's lead, scored once: fit 25, grade B."""
    lead = LeadFactory(team=north, owner=alice)
    scores.score_leads([lead.pk])
    return Lead.objects.get(pk=lead.pk)


@pytest.fixture
def root():
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def fit(lead: Lead) -> tuple[float, str, int]:
    lead.refresh_from_db()
    return lead.score_fit, lead.fit_grade, lead.score


def as_submitted(response) -> dict[str, str]:
    """An admin change form's current values as the browser would post them back, unchanged."""
    data: dict[str, str] = {}
    for field in response.context["adminform"].form:
        widget, value = field.field.widget, field.value()
        if isinstance(widget, forms.MultiWidget):  # the admin's split date and time
            for suffix, sub, part in zip(widget.widgets_names, widget.widgets, widget.decompress(value)):
                data[field.html_name + suffix] = sub.format_value(part) or ""
        else:
            data[field.html_name] = "" if value is None else value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{key}": value for key, value in management.initial.items()})
    return data


# --- API -----------------------------------------------------------------------------------------


def test_a_lead_created_through_the_api_is_scored_at_once(api, alice, north, sent, on_commit):
    account = AccountFactory(team=north)
    api.force_authenticate(alice)
    with on_commit():
        response = api.post("/api/leads/", {"first_name": "Nina", "account": account.pk, "owner": alice.pk}, format="json")
    assert response.status_code == 201, response.json()
    lead = Lead.objects.get(pk=response.json()["id"])
    assert sent == [[lead.pk]]
    assert fit(lead) == (25, "B", 25) and lead.score_version_id is not None


def test_changing_seniority_through_the_api_changes_fit_and_grade(api, alice, scored_lead, sent, on_commit):
    api.force_authenticate(alice)
    with on_commit():
        response = api.patch(f"/api/leads/{scored_lead.pk}/", {"seniority": Seniority.VP}, format="json")
    assert response.status_code == 200, response.json()
    assert sent == [[scored_lead.pk]]
    assert fit(scored_lead) == (40, "A", 40)


def test_moving_a_lead_to_another_account_through_the_api_rescores_it(api, alice, north, scored_lead, sent, on_commit):
    retail = AccountFactory(team=north, industry="Retail")
    api.force_authenticate(alice)
    with on_commit():
        assert api.patch(f"/api/leads/{scored_lead.pk}/", {"account": retail.pk}, format="json").status_code == 200
    assert sent == [[scored_lead.pk]]
    assert fit(scored_lead) == (20, "C", 20)


def test_an_edit_no_fit_rule_reads_sends_nothing(api, alice, scored_lead, sent, on_commit):
    api.force_authenticate(alice)
    with on_commit():
        # The same seniority again is no change either.
        response = api.patch(f"/api/leads/{scored_lead.pk}/", {"phone": "+1 555 0100", "seniority": ""}, format="json")
    assert response.status_code == 200
    assert sent == []
    assert Lead.objects.get(pk=scored_lead.pk).phone == "+1 555 0100"


def test_a_refused_api_edit_sends_nothing_and_changes_nothing(api, alice, scored_lead, sent, on_commit):
    api.force_authenticate(alice)
    with on_commit():
        response = api.patch(f"/api/leads/{scored_lead.pk}/", {"seniority": Seniority.VP, "email": "not-an-email"}, format="json")
    assert response.status_code == 400 and "email" in response.json()
    assert sent == []
    lead = Lead.objects.get(pk=scored_lead.pk)
    assert lead.seniority == "" and fit(lead) == (25, "B", 25)


def test_an_outsiders_edit_is_still_a_404_and_sends_nothing(api, charlie, scored_lead, sent, on_commit):
    api.force_authenticate(charlie)
    with on_commit():
        assert api.patch(f"/api/leads/{scored_lead.pk}/", {"seniority": Seniority.VP}, format="json").status_code == 404
        assert api.patch(f"/api/accounts/{scored_lead.account_id}/", {"industry": "Retail"}, format="json").status_code == 404
    assert sent == []
    assert Lead.objects.get(pk=scored_lead.pk).seniority == ""
    assert fit(scored_lead) == (25, "B", 25)


def test_editing_an_accounts_industry_through_the_api_rescores_its_leads(api, alice, north, scored_lead, sent, on_commit):
    teammate_lead = LeadFactory(team=north, owner=None, account=scored_lead.account)
    api.force_authenticate(alice)
    with on_commit():
        response = api.patch(f"/api/accounts/{scored_lead.account_id}/", {"industry": "Retail"}, format="json")
    assert response.status_code == 200, response.json()
    assert sent == [sorted([scored_lead.pk, teammate_lead.pk])]
    assert fit(scored_lead) == (20, "C", 20) and fit(teammate_lead) == (20, "C", 20)


def test_renaming_an_account_through_the_api_sends_nothing(api, alice, scored_lead, sent, on_commit):
    api.force_authenticate(alice)
    with on_commit():
        assert api.patch(f"/api/accounts/{scored_lead.account_id}/", {"name": "Acme Renamed"}, format="json").status_code == 200
    assert sent == []


# --- admin -----------------------------------------------------------------------------------------


def test_an_admin_lead_edit_rescores_it(client, root, scored_lead, sent, on_commit):
    client.force_login(root)
    url = reverse("admin:leads_lead_change", args=[scored_lead.pk])
    data = as_submitted(client.get(url))
    with on_commit():
        response = client.post(url, {**data, "seniority": Seniority.VP})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert sent == [[scored_lead.pk]]
    assert fit(scored_lead) == (40, "A", 40)


def test_an_admin_edit_of_another_field_sends_nothing(client, root, scored_lead, sent, on_commit):
    client.force_login(root)
    url = reverse("admin:leads_lead_change", args=[scored_lead.pk])
    data = as_submitted(client.get(url))
    with on_commit():
        assert client.post(url, {**data, "phone": "+1 555 0100"}).status_code == 302
    assert sent == []


def test_a_lead_added_in_admin_is_scored(client, root, north, sent, on_commit):
    account = AccountFactory(team=north)
    client.force_login(root)
    url = reverse("admin:leads_lead_add")
    data = as_submitted(client.get(url))
    with on_commit():
        response = client.post(url, {**data, "first_name": "Ada", "account": account.pk, "team": north.pk})
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead = Lead.objects.get(first_name="Ada")
    assert sent == [[lead.pk]] and fit(lead) == (25, "B", 25)


def test_an_admin_account_edit_rescores_its_leads(client, root, scored_lead, sent, on_commit):
    client.force_login(root)
    url = reverse("admin:leads_account_change", args=[scored_lead.account_id])
    data = as_submitted(client.get(url))
    with on_commit():
        response = client.post(url, {**data, "industry": "Retail"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert sent == [[scored_lead.pk]]
    assert fit(scored_lead) == (20, "C", 20)


# --- CSV import ------------------------------------------------------------------------------------

LEADS_CSV = (
    "First Name,Email,Company,Website,Industry,No. of Employees,Segment,Seniority\n"
    "Ada,ada@analytical.example,Analytical Engines,analytical.example,Software,1000,Enterprise,VP\n"
    "Grace,grace@cobol.example,Cobol Corp,cobol.example,Retail,10,,\n"
)


def test_imported_leads_are_scored_in_one_message(north, maria, sent, on_commit):
    job = create_job(kind="leads", team=north, by=maria, content=LEADS_CSV.encode(), filename="leads.csv")
    with on_commit():
        job = start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE, job.message
    ada, grace = Lead.objects.get(first_name="Ada"), Lead.objects.get(first_name="Grace")
    assert sent == [sorted([ada.pk, grace.pk])]
    assert fit(ada) == (40, "A", 40) and fit(grace) == (0, "D", 0)


def test_an_account_import_rescores_only_the_leads_of_accounts_whose_fit_fields_changed(north, maria, alice, sent, on_commit):
    changed = LeadFactory(team=north, owner=alice, account=AccountFactory(team=north, name="Acme", domain="acme.example"))
    same = LeadFactory(team=north, owner=alice, account=AccountFactory(team=north, name="Same", domain="same.example"))
    scores.score_leads([changed.pk, same.pk])
    content = b"Company,Website,Industry\nAcme Inc,acme.example,Retail\nSame Renamed,same.example,Software\nNew Co,new.example,Retail\n"
    job = create_job(kind="accounts", team=north, by=maria, content=content, filename="accounts.csv")
    with on_commit():
        job = start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE, job.message
    assert sent == [[changed.pk]]
    assert fit(changed) == (20, "C", 20) and fit(same) == (25, "B", 25)
    assert Account.objects.get(domain="same.example").name == "Same Renamed"


# --- the rule itself -------------------------------------------------------------------------------


def test_ids_are_deduplicated_and_nothing_is_sent_for_none(alice, scored_lead, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        triggers.rescore_on_commit([])
        triggers.rescore_account_leads_on_commit([])
    assert callbacks == []
    with django_capture_on_commit_callbacks(execute=True):
        triggers.rescore_on_commit([scored_lead.pk, scored_lead.pk])
    assert sent == [[scored_lead.pk]]


def test_a_large_account_is_rescored_in_chunks(north, sent, on_commit, monkeypatch):
    monkeypatch.setattr(triggers, "CHUNK", 2)
    account = AccountFactory(team=north)
    ids = sorted(LeadFactory(team=north, account=account).pk for _ in range(5))
    with on_commit():
        triggers.rescore_account_leads_on_commit([account.pk, account.pk])
    assert sent == [ids[0:2], ids[2:4], ids[4:]]


def test_the_fields_that_matter_are_those_fit_rules_can_read():
    # "properties": fit rules may read any custom property (lead.properties.<key>, account.properties.<key>).
    assert triggers.LEAD_FIELDS == {"seniority", "persona", "department", "title", "source", "campaign", "email", "account",
                                    "properties"}
    assert triggers.ACCOUNT_FIELDS == {"industry", "employee_count", "revenue_band", "segment", "region", "country", "domain",
                                       "properties"}
    assert not triggers.lead_fit_changed(["phone", "owner", "first_name"])
    assert not triggers.account_fit_changed(["name", "owner"])
