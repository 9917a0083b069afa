"""Eight simultaneous creates of the same external id or domain: one wins, the others get a clear
400 (a unique-key error used to be a 500), and exactly one row exists (issue 12)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.test import Client

from qualify.leads.models import Account, Lead
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS = 8


def post_at_once(user, path: str, body: dict) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, dict]] = []

    def work():
        try:
            client = Client()
            client.force_login(user)
            barrier.wait()
            response = client.post(path, body, content_type="application/json")
            answers.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return answers


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
