"""The duplicates API (list and dismiss) and the lead page's "possible duplicate" badge: managers of
their teams and RevOps; another team's pair is a 404; a decided pair cannot be dismissed again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qualify.dedupe.detect import detect
from qualify.dedupe.models import DuplicateCandidate, Kind, Status
from qualify.leads.models import Stage
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(north, alice):
    acme = AccountFactory(team=north, name="Acme", domain="acme.example")
    a = LeadFactory(team=north, account=acme, owner=alice, stage=Stage.WORKING, email="dana@acme.example",
                    first_name="Dana", last_name="Diaz")
    b = LeadFactory(team=north, account=acme, email="DANA@acme.example", first_name="Dana", last_name="Diaz")
    detect(Kind.LEAD, [b.pk])
    return a, b, DuplicateCandidate.objects.get()


@pytest.fixture
def stella(south):
    from accounts.models import Role

    return UserFactory.with_role(Role.MANAGER, south, username="stella")


def test_managers_and_revops_list_their_teams_open_pairs(client, twins, maria, rita, stella):
    a, b, pair = twins
    for user in (maria, rita):
        login(client, user)
        body = client.get("/api/duplicates/").json()
        assert [row["id"] for row in body["results"]] == [pair.pk]
        row = body["results"][0]
        assert row["records"] == [f"/api/leads/{a.pk}/", f"/api/leads/{b.pk}/"] and row["reasons"][0]["rule"] == "email"
    login(client, stella)
    assert client.get("/api/duplicates/").json()["results"] == []
    assert client.get(f"/api/duplicates/{pair.pk}/").status_code == 404


def test_sdrs_are_refused_the_duplicates_api(client, twins, alice):
    login(client, alice)
    assert client.get("/api/duplicates/").status_code == 403
    assert client.post(f"/api/duplicates/{twins[2].pk}/dismiss/").status_code == 403
    assert DuplicateCandidate.objects.get().status == Status.OPEN


def test_bad_filters_are_a_400(client, twins, maria):
    login(client, maria)
    r = client.get("/api/duplicates/?status=maybe")
    assert r.status_code == 400 and "status" in r.json()
    assert client.get("/api/duplicates/?kind=account").json()["results"] == []


def test_dismiss_closes_the_pair_once(client, twins, maria, stella):
    pair = twins[2]
    login(client, stella)
    assert client.post(f"/api/duplicates/{pair.pk}/dismiss/").status_code == 404
    login(client, maria)
    r = client.post(f"/api/duplicates/{pair.pk}/dismiss/")
    assert r.status_code == 200 and r.json()["status"] == "dismissed"
    again = client.post(f"/api/duplicates/{pair.pk}/dismiss/")
    assert again.status_code == 400 and "already decided" in again.json()["non_field_errors"][0]
    pair.refresh_from_db()
    assert pair.status == Status.DISMISSED and pair.decided_by == maria
    assert client.get("/api/duplicates/").json()["results"] == []
    assert [r["id"] for r in client.get("/api/duplicates/?status=dismissed").json()["results"]] == [pair.pk]


def test_lead_page_badge_links_managers_to_the_pair(client, twins, maria, alice):
    a, b, pair = twins
    login(client, maria)
    html = client.get(a.get_absolute_url()).content.decode()
    assert "Possible duplicate" in html and reverse("dedupe:candidate", args=[pair.pk]) in html
    assert b.get_absolute_url() in html
    # alice sees the badge on her lead, but the pair page is not hers, and b (unowned pool lead) she may open.
    login(client, alice)
    html = client.get(a.get_absolute_url()).content.decode()
    assert "Possible duplicate" in html and reverse("dedupe:candidate", args=[pair.pk]) not in html
    assert "your manager or RevOps can merge them" in html


def test_no_badge_once_the_pair_is_dismissed(client, twins, maria):
    from qualify.dedupe.decisions import dismiss

    a, b, pair = twins
    dismiss(pair, by=maria)
    login(client, maria)
    assert "Possible duplicate" not in client.get(a.get_absolute_url()).content.decode()


@pytest.mark.parametrize("who", ["alice", "erin", "mark"])
def test_a_role_the_api_is_not_for_gets_one_403_whatever_the_id(client, twins, who, request):
    """Like every API role refusal (review queues, routing rules, webhooks, imports): a 403, the same
    for a pair that exists and one that does not, so it says nothing about the team's pairs."""
    login(client, request.getfixturevalue(who))
    pair = twins[2]
    answers = [client.get("/api/duplicates/"), client.get(f"/api/duplicates/{pair.pk}/"),
               client.get(f"/api/duplicates/{pair.pk + 999}/"), client.post(f"/api/duplicates/{pair.pk}/dismiss/"),
               client.post(f"/api/duplicates/{pair.pk + 999}/dismiss/")]
    assert {(r.status_code, r.json()["detail"]) for r in answers} == {(403, "Duplicates are for managers and RevOps.")}
    assert DuplicateCandidate.objects.get().status == Status.OPEN


def test_the_sdr_who_may_change_both_leads_is_refused_their_merge_too(client, twins, alice):
    a, b, _ = twins
    login(client, alice)
    response = client.post(f"/api/leads/{a.pk}/merge/", {"other": b.pk}, content_type="application/json")
    assert response.status_code == 403 and response.json()["detail"] == "Merging is for the team's managers and RevOps."
