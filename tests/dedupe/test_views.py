"""The duplicates page: RevOps and managers only, team-scoped, merge with field choices, dismiss."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from qualify.dedupe.detect import detect
from qualify.dedupe.models import DuplicateCandidate, Kind, Status
from qualify.leads.models import Lead, MergedLead, Source, Stage
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory


@pytest.fixture
def twins(north, alice):
    acme = AccountFactory(team=north, name="Acme", domain="acme.example")
    a = LeadFactory(team=north, account=acme, owner=alice, stage=Stage.WORKING, email="dana@acme.example",
                    first_name="Dana", last_name="Diaz", phone="")
    b = LeadFactory(team=north, account=acme, email="DANA@acme.example", first_name="Dana", last_name="Diaz",
                    phone="+1 555 010 2030", title="CFO")
    detect(Kind.LEAD, [b.pk])
    return a, b, DuplicateCandidate.objects.get()


def test_page_lists_pairs_for_managers_and_revops(client, twins, maria, rita, django_assert_max_num_queries):
    for user in (maria, rita):
        login(client, user)
        with django_assert_max_num_queries(8):
            page = client.get(reverse("dedupe:candidates"))
        assert page.status_code == 200 and b"same e-mail dana@acme.example" in page.content


@pytest.mark.parametrize(("query", "current", "other"), [("", "Leads", "Accounts"), ("?kind=account", "Accounts", "Leads")])
def test_the_page_marks_its_current_tab(client, twins, maria, query, current, other):
    login(client, maria)
    html = client.get(reverse("dedupe:candidates") + query).content.decode()
    assert re.search(rf'<a href="\?kind=\w+" aria-current="page">{current}</a>', html)
    assert not re.search(rf'aria-current="page">{other}</a>', html)


def test_each_merge_choice_is_labelled_by_its_value_and_described_by_its_field(client, twins, maria):
    a, b, pair = twins
    login(client, maria)
    html = client.get(reverse("dedupe:candidate", args=[pair.pk])).content.decode()
    assert '<th scope="row" id="field-phone">Phone</th>' in html
    assert re.search(rf'<label class="choice"><input type="radio" name="field_phone" value="{b.pk}" aria-describedby="field-phone"[^>]*> \+1 555 010 2030</label>', html)
    # Dana's own phone is empty: read as "empty", shown as a dash.
    assert re.search(rf'name="field_phone" value="{a.pk}" aria-describedby="field-phone"[^>]*> <span aria-hidden="true">—</span><span class="visually-hidden">empty</span></label>', html)


def test_an_email_typed_again_in_capitals_does_not_replace_the_survivors_by_default(client, twins, maria):
    """The newer record's value is the default where both have one, but not for one that differs only
    in capitals: merging the webinar's "DANA@acme.example" keeps "dana@acme.example"."""
    a, b, pair = twins
    login(client, maria)
    html = client.get(reverse("dedupe:candidate", args=[pair.pk])).content.decode()
    assert re.search(rf'name="field_email" value="{a.pk}" aria-describedby="field-email" checked> dana@acme.example<', html)
    assert re.search(rf'name="field_title" value="{b.pk}" aria-describedby="field-title" checked> CFO<', html)  # a real change


def test_the_merge_keeps_where_the_person_first_came_from_by_default(client, north, maria):
    """Attribution is first touch: an inbound lead who fills in a webinar form again stays inbound,
    with its campaign, unless the merger picks the webinar's; the newer title is still the default."""
    acme = AccountFactory(team=north, name="Acme", domain="acme.example")
    first = LeadFactory(team=north, account=acme, email="dana@acme.example", first_name="Dana", last_name="Diaz",
                        source=Source.INBOUND, campaign="Newsletter", title="Head of Ops")
    again = LeadFactory(team=north, account=acme, email="DANA@acme.example", first_name="Dana", last_name="Diaz",
                        source=Source.EVENT, campaign="Webinar: qualification that sticks", title="COO")
    detect(Kind.LEAD, [again.pk])
    pair = DuplicateCandidate.objects.get()
    html = login(client, maria).get(reverse("dedupe:candidate", args=[pair.pk])).content.decode()
    assert re.search(rf'name="field_source" value="{first.pk}" aria-describedby="field-source" checked>', html)
    assert re.search(rf'name="field_campaign" value="{first.pk}" aria-describedby="field-campaign" checked>', html)
    assert re.search(rf'name="field_title" value="{again.pk}" aria-describedby="field-title" checked>', html)


def test_an_account_pair_names_the_country_not_its_code(client, north, maria):
    a = AccountFactory(team=north, name="Wolfe-Erickson", domain="wolfe.example", country="US")
    b = AccountFactory(team=north, name="WOLFE-ERICKSON, Inc.", domain="", country="GB")
    detect(Kind.ACCOUNT, [b.pk])
    pair = DuplicateCandidate.objects.get(kind=Kind.ACCOUNT)
    html = login(client, maria).get(reverse("dedupe:candidate", args=[pair.pk])).content.decode()
    assert re.search(r'aria-describedby="field-country"[^>]*> United States</label>', html)
    assert re.search(r'aria-describedby="field-country"[^>]*> United Kingdom</label>', html)


def test_reps_and_marketing_get_403_whatever_the_pair(client, twins, alice, erin, mark, charlie):
    """A door their role is not for (README, Security): 403, as /metrics/ answers an AE, for their own
    team's pair, another team's and a missing one alike."""
    a, b, pair = twins
    for user in (alice, erin, mark, charlie):
        login(client, user)
        assert client.get(reverse("dedupe:candidates")).status_code == 403
        assert client.post(reverse("dedupe:find")).status_code == 403
        for pk in (pair.pk, 99_999_999):
            assert client.get(reverse("dedupe:candidate", args=[pk])).status_code == 403
            assert client.post(reverse("dedupe:merge", args=[pk]), {"survivor": a.pk}).status_code == 403
            assert client.post(reverse("dedupe:dismiss", args=[pk])).status_code == 403
    assert Lead.objects.filter(pk=b.pk).exists()
    assert DuplicateCandidate.objects.get().status == Status.OPEN


def test_another_teams_manager_does_not_see_the_pair(client, twins, south):
    from accounts.models import Role
    from tests.factories import UserFactory

    magnus = UserFactory.with_role(Role.MANAGER, south, username="magnus")
    login(client, magnus)
    assert b"dana@acme.example" not in client.get(reverse("dedupe:candidates")).content
    assert client.get(reverse("dedupe:candidate", args=[twins[2].pk])).status_code == 404


def test_merge_form_defaults_to_the_lead_further_along_and_non_empty_values(client, twins, maria):
    a, b, pair = twins
    login(client, maria)
    page = client.get(reverse("dedupe:candidate", args=[pair.pk]))
    assert page.context["survivor"] == a
    picks = {f["name"]: f["pick"] for f in page.context["fields"]}
    assert picks["phone"] == b.pk and picks["title"] in (a.pk, b.pk)


def test_merge_from_the_page_keeps_chosen_fields_and_closes_the_pair(client, twins, maria):
    a, b, pair = twins
    login(client, maria)
    response = client.post(reverse("dedupe:merge", args=[pair.pk]),
                           {"survivor": a.pk, "field_phone": b.pk, "field_email": a.pk, "field_title": a.pk})
    assert response.status_code == 302
    a.refresh_from_db()
    assert (a.phone, a.email, a.title) == ("+1 555 010 2030", "dana@acme.example", "VP Operations")
    assert MergedLead.objects.get(merged_id=b.pk).survivor_id == a.pk
    pair.refresh_from_db()
    assert pair.status == Status.MERGED and pair.decided_by == maria


def test_not_a_duplicate(client, twins, maria):
    a, b, pair = twins
    login(client, maria)
    response = client.post(reverse("dedupe:dismiss", args=[pair.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response.content == b""
    pair.refresh_from_db()
    assert pair.status == Status.DISMISSED
    assert b"same e-mail" not in client.get(reverse("dedupe:candidates")).content


def test_find_button_runs_the_finder(client, north, rita, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    acme = AccountFactory(team=north, domain="acme.example")
    LeadFactory(team=north, account=acme, email="x@acme.example")
    LeadFactory(team=north, account=acme, email="x@acme.example")
    login(client, rita)
    assert client.post(reverse("dedupe:find")).status_code == 302
    assert DuplicateCandidate.objects.filter(kind=Kind.LEAD, status=Status.OPEN).count() == 1


def test_admin_merges_two_selected_leads(admin_client, twins):
    client = admin_client
    a, b, pair = twins
    response = client.post(reverse("admin:leads_lead_changelist"),
                           {"action": "merge_two", "_selected_action": [a.pk, b.pk]}, follow=True)
    assert response.status_code == 200
    assert not Lead.objects.filter(pk=b.pk).exists()  # a is further along (Working), so it survives
    assert MergedLead.objects.get(merged_id=b.pk).survivor_id == a.pk


def test_admin_merge_needs_exactly_two(admin_client, twins):
    client = admin_client
    a, b, pair = twins
    response = client.post(reverse("admin:leads_lead_changelist"), {"action": "merge_two", "_selected_action": [a.pk]}, follow=True)
    assert b"Select exactly two" in response.content and Lead.objects.filter(pk=b.pk).exists()


def test_the_find_button_with_the_broker_down_says_so_instead_of_a_500(client, north, rita, monkeypatch):
    from kombu.exceptions import OperationalError

    from qualify.dedupe import tasks

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.find_duplicates_task, "delay", down)
    login(client, rita)
    response = client.post(reverse("dedupe:find"), follow=True)
    assert response.status_code == 200
    assert b"could not be started" in response.content and b"finder is looking" not in response.content
