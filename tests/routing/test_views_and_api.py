"""Reassigning from the lead page, the breaches page and the API: same function, same rules."""

import pytest
from rest_framework.test import APIClient

from qualify.leads.models import Lead
from qualify.routing.models import Assignment, Method, RoutingRule
from tests.conftest import login


def owner_of(lead):
    return Lead.objects.get(pk=lead.pk).owner


# --- lead page -----------------------------------------------------------------------------------


def test_manager_sees_the_reassign_form(client, alices_lead, maria, bob):
    html = login(client, maria).get(f"/leads/{alices_lead.pk}/").content.decode()
    assert 'id="reassign-form"' in html
    assert f'<option value="{bob.pk}">Bob Brown</option>' in html


def test_sdr_does_not_see_the_reassign_form(client, alices_lead, alice):
    assert 'id="reassign-form"' not in login(client, alice).get(f"/leads/{alices_lead.pk}/").content.decode()


def test_manager_reassigns_to_a_named_rep(client, alices_lead, maria, bob):
    response = login(client, maria).post(
        f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk), "why": "Alice is out today"}
    )
    assert response.status_code == 302 and response["Location"] == f"/leads/{alices_lead.pk}/"
    assert owner_of(alices_lead) == bob
    a = Assignment.objects.get(lead=alices_lead)
    assert (a.by, a.why) == (maria, "Alice is out today")


def test_manager_reassigns_through_the_rules(client, alices_lead, maria, bob, north):
    RoutingRule.objects.create(name="RR", team=north, method=Method.ROUND_ROBIN)
    login(client, maria).post(f"/leads/{alices_lead.pk}/reassign/", {"target": "route"})
    assert owner_of(alices_lead) == bob
    assert Assignment.objects.get(lead=alices_lead).rule_name == "RR"


def test_routing_with_nobody_else_keeps_the_owner_and_says_so(client, alices_lead, alice, maria):
    response = login(client, maria).post(f"/leads/{alices_lead.pk}/reassign/", {"target": "route"}, follow=True)
    assert owner_of(alices_lead) == alice
    assert "Routing found nobody else" in response.content.decode()


def test_manager_returns_a_lead_to_the_pool(client, alices_lead, maria):
    login(client, maria).post(f"/leads/{alices_lead.pk}/reassign/", {"target": "pool"})
    assert owner_of(alices_lead) is None


def test_redirects_back_to_the_breaches_page(client, alices_lead, maria, bob):
    response = login(client, maria).post(
        f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk), "next": "/sla/breaches/"}
    )
    assert response["Location"] == "/sla/breaches/"


def test_next_to_another_site_is_ignored(client, alices_lead, maria, bob):
    response = login(client, maria).post(
        f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk), "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/leads/{alices_lead.pk}/"


@pytest.mark.parametrize("target", ["", "nobody", "999999"])
def test_bad_target_changes_nothing(client, alices_lead, alice, maria, target):
    response = login(client, maria).post(f"/leads/{alices_lead.pk}/reassign/", {"target": target}, follow=True)
    assert owner_of(alices_lead) == alice
    assert not Assignment.objects.exists()
    assert 'role="status"' in response.content.decode()


def test_target_from_another_team_changes_nothing(client, alices_lead, alice, maria, charlie):
    response = login(client, maria).post(f"/leads/{alices_lead.pk}/reassign/", {"target": str(charlie.pk)}, follow=True)
    assert owner_of(alices_lead) == alice
    assert "not a rep on this lead&#x27;s team" in response.content.decode()


def test_owner_sdr_cannot_reassign(client, alices_lead, alice, bob):
    assert login(client, alice).post(f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk)}).status_code == 403
    assert owner_of(alices_lead) == alice


def test_marketing_reads_but_cannot_reassign(client, alices_lead, alice, mark, bob):
    assert login(client, mark).post(f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk)}).status_code == 403
    assert owner_of(alices_lead) == alice


def test_outsider_gets_a_404(client, alices_lead, alice, charlie, bob):
    assert login(client, charlie).post(f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk)}).status_code == 404
    assert owner_of(alices_lead) == alice


def test_reassign_is_post_only(client, alices_lead, maria):
    assert login(client, maria).get(f"/leads/{alices_lead.pk}/reassign/").status_code == 405


def test_lead_page_lists_the_assignment_history(client, alices_lead, maria, bob):
    login(client, maria).post(f"/leads/{alices_lead.pk}/reassign/", {"target": str(bob.pk), "why": "Coverage"})
    html = client.get(f"/leads/{alices_lead.pk}/").content.decode()
    assert "Alice Adams → <strong>Bob Brown</strong>" in html and "by Maria Moreno" in html


# --- API -------------------------------------------------------------------------------------------


@pytest.fixture
def api():
    return APIClient()


def test_api_reassign_to_a_rep(api, alices_lead, maria, bob):
    api.force_authenticate(maria)
    response = api.post("/api/assignments/", {"lead": alices_lead.pk, "mode": "user", "to": bob.pk, "why": "Coverage"}, format="json")
    assert response.status_code == 201
    assert response.json()["to_user"] == bob.pk and response.json()["by"] == maria.pk
    assert owner_of(alices_lead) == bob


def test_api_reassign_by_rules_and_to_pool(api, alices_lead, maria, bob, north):
    RoutingRule.objects.create(name="RR", team=north, method=Method.ROUND_ROBIN)
    api.force_authenticate(maria)
    assert api.post("/api/assignments/", {"lead": alices_lead.pk, "mode": "route"}, format="json").json()["rule_name"] == "RR"
    assert api.post("/api/assignments/", {"lead": alices_lead.pk, "mode": "pool"}, format="json").json()["to_user"] is None
    assert owner_of(alices_lead) is None


@pytest.mark.parametrize(
    "payload, field",
    [({"mode": "user"}, "to"), ({"mode": "sideways"}, "mode"), ({"mode": "user", "to": 999999}, "to")],
)
def test_api_bad_reassign_is_a_400_and_changes_nothing(api, alices_lead, alice, maria, payload, field):
    api.force_authenticate(maria)
    response = api.post("/api/assignments/", {"lead": alices_lead.pk, **payload}, format="json")
    assert response.status_code == 400 and field in response.json()
    assert owner_of(alices_lead) == alice


def test_api_route_with_nobody_else_is_a_400(api, alices_lead, alice, maria):
    api.force_authenticate(maria)
    response = api.post("/api/assignments/", {"lead": alices_lead.pk, "mode": "route"}, format="json")
    assert response.status_code == 400
    assert owner_of(alices_lead) == alice


def test_api_reassign_access(api, alices_lead, alice, bob, charlie, mark):
    payload = {"lead": alices_lead.pk, "mode": "user", "to": bob.pk}
    api.force_authenticate(charlie)
    assert api.post("/api/assignments/", payload, format="json").status_code == 404
    api.force_authenticate(alice)
    assert api.post("/api/assignments/", payload, format="json").status_code == 403
    api.force_authenticate(mark)
    assert api.post("/api/assignments/", payload, format="json").status_code == 403
    assert owner_of(alices_lead) == alice


def test_api_assignment_history_of_a_lead(api, alices_lead, maria, bob, charlie, django_assert_num_queries):
    api.force_authenticate(maria)
    api.post("/api/assignments/", {"lead": alices_lead.pk, "mode": "user", "to": bob.pk}, format="json")
    api.post("/api/assignments/", {"lead": alices_lead.pk, "mode": "pool"}, format="json")
    with django_assert_num_queries(2):  # lead (memberships cached on the user), page
        body = api.get(f"/api/assignments/?lead={alices_lead.pk}").json()
    assert [a["to_user"] for a in body["results"]] == [None, bob.pk]
    api.force_authenticate(charlie)
    assert api.get(f"/api/assignments/?lead={alices_lead.pk}").status_code == 404


def test_api_rules_for_managers_and_admins(api, maria, rita, alice, north):
    RoutingRule.objects.create(name="RR", team=north, method=Method.ROUND_ROBIN)
    api.force_authenticate(maria)
    assert [r["name"] for r in api.get("/api/routing-rules/").json()] == ["RR"]
    api.force_authenticate(rita)
    assert api.get("/api/routing-rules/").status_code == 200
    api.force_authenticate(alice)
    assert api.get("/api/routing-rules/").status_code == 403
    api.force_authenticate(rita)
    assert api.post("/api/routing-rules/", {"name": "X", "method": "round_robin"}, format="json").status_code == 405
