"""No answer tells one team about another team's customers, people or rules (issue 12)."""

from __future__ import annotations

import pytest

from accounts.models import Role
from qualify.leads.models import Account
from qualify.routing.models import Method, RoutingRule
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory, UserFactory


@pytest.fixture
def magnus(south):
    return UserFactory.with_role(Role.MANAGER, south, username="magnus", first_name="Magnus", last_name="Moe")


def test_a_domain_another_team_has_is_simply_created(client, alice, north, south):
    AccountFactory(team=south, domain="acme.example", name="Acme EMEA")
    login(client, alice)
    response = client.post("/api/accounts/", {"name": "Acme", "domain": "ACME.example", "team": north.pk},
                           content_type="application/json")
    assert response.status_code == 201, response.json()
    assert Account.objects.filter(domain="acme.example").count() == 2


def test_a_domain_the_team_already_has_is_refused_naming_only_the_teams_own_account(client, alice, north):
    acme = AccountFactory(team=north, domain="acme.example", name="Acme")
    login(client, alice)
    response = client.post("/api/accounts/", {"name": "Acme again", "domain": "acme.example", "team": north.pk},
                           content_type="application/json")
    assert response.status_code == 400
    # Every member of the team sees its accounts: naming it tells nothing new.
    assert response.json() == {"domain": [f"This team already has an account with this domain: Acme (#{acme.pk})."]}


def test_assigning_another_teams_user_does_not_name_them(client, maria, alice, charlie, north):
    lead = LeadFactory(team=north, owner=alice)
    login(client, maria)
    response = client.patch(f"/api/leads/{lead.pk}/", {"owner": charlie.pk}, content_type="application/json")
    assert response.status_code == 400
    text = response.content.decode()
    assert "charlie" not in text.lower() and "Chen" not in text and "EMEA" not in text


def test_a_manager_sees_their_teams_rules_and_global_ones_without_other_teams_people(client, maria, magnus, alice, charlie, north, south):
    RoutingRule.objects.create(name="NA round robin", team=north, method=Method.ROUND_ROBIN)
    emea = RoutingRule.objects.create(name="EMEA round robin", team=south, method=Method.ROUND_ROBIN)
    everyone = RoutingRule.objects.create(name="Global", method=Method.ROUND_ROBIN)
    everyone.members.set([alice, charlie])
    emea.members.set([charlie])
    login(client, magnus)
    rules = {r["name"]: r for r in client.get("/api/routing-rules/").json()}
    assert set(rules) == {"EMEA round robin", "Global"}
    assert rules["Global"]["members"] == [charlie.pk]
    login(client, maria)
    rules = {r["name"]: r for r in client.get("/api/routing-rules/").json()}
    assert set(rules) == {"NA round robin", "Global"} and rules["Global"]["members"] == [alice.pk]
