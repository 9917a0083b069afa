"""Eight simultaneous creates of the same external id or domain: one wins, the others get a clear
400 (a unique-key error used to be a 500), and exactly one row exists (issue 12). And the same
"New lead" / "New account" form sent several times at once makes one record (finding 6a)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qualify.leads.models import Account, Lead
from tests.concurrency import posts_at_once
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8


def post_at_once(user, path: str, body: dict) -> list[tuple[int, dict]]:
    answers = posts_at_once(user, path, body, THREADS, content_type="application/json")
    return [(response.status_code, response.json()) for response in answers]


def test_parallel_creates_of_one_external_id_make_one_lead(alice, north):
    account = AccountFactory(team=north)
    answers = post_at_once(alice, "/api/leads/", {"first_name": "Twin", "external_id": "X-1", "account": account.pk})
    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [400] * (THREADS - 1), answers
    assert all(body == {"external_id": ["A lead with this external id already exists."]} for code, body in answers if code == 400)
    assert Lead.objects.filter(external_id="X-1").count() == 1


def test_parallel_creates_of_one_domain_make_one_account(alice, north):
    answers = post_at_once(alice, "/api/accounts/", {"name": "Acme", "domain": "acme.example", "team": north.pk})
    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [400] * (THREADS - 1), answers
    assert Account.objects.filter(domain="acme.example").count() == 1


def test_one_new_lead_form_sent_six_times_at_once_makes_one_lead(alice, north):
    account = AccountFactory(team=north)
    form = {"first_name": "Nina", "last_name": "Novak", "source": "inbound", "account": account.pk, "form_token": "f-1"}
    answers = posts_at_once(alice, reverse("leads:lead_create"), form, 6)
    [lead] = Lead.objects.filter(first_name="Nina")
    assert [(a.status_code, a["Location"]) for a in answers] == [(302, lead.get_absolute_url())] * 6
    posts_at_once(alice, reverse("leads:lead_create"), form, 1)  # and the same form sent later
    assert Lead.objects.filter(first_name="Nina").count() == 1


def test_one_new_account_form_without_a_domain_sent_at_once_makes_one_account(alice, north):
    form = {"name": "Initech", "team": north.pk, "form_token": "f-2"}
    answers = posts_at_once(alice, reverse("leads:account_create"), form, 5)
    [account] = Account.objects.filter(name="Initech")
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, reverse("leads:account", args=[account.pk]))}
