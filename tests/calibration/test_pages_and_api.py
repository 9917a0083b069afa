"""Who sees calibration and over whose leads, bad input, and accepting a suggestion into the draft
(exactly that change, once) through the page and the API."""

import pytest
from django.urls import reverse

from accounts.models import Role
from qualify.calibration.models import AcceptedSuggestion
from qualify.leads.models import Lead
from qualify.scoring.models import ModelVersion, Rule, ScoringModel
from tests.calibration.conftest import LOST, WON, closed, rule
from tests.conftest import login
from tests.factories import UserFactory

PAGE, LEADS, ACCEPT = "calibration:report", "calibration:leads", "calibration:accept"
API, API_LEADS, API_ACCEPT = "/api/calibration/", "/api/calibration/leads/", "/api/calibration/accept/"


@pytest.fixture
def outcomes(north, south, model, settings):
    """North: 40 closed leads where a demo request (+30) goes with winning; South: one lead with a
    name North must never read."""
    settings.CALIBRATION_MIN_SAMPLE = 10
    for i in range(20):
        closed(north, WON if i < 15 else LOST, model=model, score=70 + i % 10, before=["demo_request"],
               first_name="Northwon")
    for i in range(20):
        closed(north, LOST, model=model, score=20 + i, first_name="Northlost")
    closed(south, WON, model=model, score=90, before=["demo_request"], first_name="Sofiasecret")
    return model


@pytest.mark.parametrize("role", [Role.SDR, Role.AE, Role.MARKETING])
def test_sdrs_aes_and_marketing_are_refused_on_the_page_and_the_api(client, north, outcomes, role):
    login(client, UserFactory.with_role(role, north))
    assert client.get(reverse(PAGE)).status_code == 403
    assert client.get(reverse(LEADS)).status_code == 403
    assert client.get(API).status_code == 403
    assert client.get(API_LEADS).status_code == 403


def test_a_manager_sees_only_their_teams_figures_and_leads(client, maria, stella_of_south, outcomes):
    login(client, maria)
    page = client.get(reverse(PAGE))
    assert page.status_code == 200
    assert b"<strong>40</strong> closed leads" in page.content
    assert b'href="/calibration/"' in page.content  # in the navigation
    drill = client.get(reverse(LEADS), {"outcome": "won"})
    assert b"Northwon" in drill.content and b"Sofiasecret" not in drill.content
    api = client.get(API).json()
    assert api["closed"] == 40 and api["won"] == 15
    names = {x["name"].split()[0] for x in client.get(API_LEADS, {"band": "0-100"}).json()["leads"]}
    assert names == {"Northwon", "Northlost"}
    # Another team's figures: a 404, as if it did not exist.
    assert client.get(reverse(PAGE), {"team": stella_of_south.memberships.get().team_id}).status_code == 404
    assert client.get(API, {"team": stella_of_south.memberships.get().team_id}).status_code == 404
    login(client, stella_of_south)
    assert client.get(API).json()["closed"] == 1
    body = client.get(reverse(LEADS), {"band": "0-100"}).content
    assert b"Sofiasecret" in body and b"North" not in body


@pytest.fixture
def stella_of_south(south):
    return UserFactory.with_role(Role.MANAGER, south, username="stella")


@pytest.mark.parametrize("query, field", [({"days": "abc"}, "days"), ({"days": "0"}, "days"), ({"model": "x"}, "model"),
                                          ({"band": "90-10"}, "band"), ({"outcome": "maybe"}, "outcome")])
def test_bad_input_is_a_clear_400(client, rita, outcomes, query, field):
    login(client, rita)
    page = client.get(reverse(LEADS if "band" in query or "outcome" in query else PAGE), query)
    assert page.status_code == 400 and f"&#x27;{field}&#x27;".encode() in page.content
    api = client.get(API_LEADS, query)
    assert api.status_code == 400 and field in api.json()


def _draft(model):
    model = ScoringModel.objects.get(pk=model.pk)
    return model.to_spec_json(0)


def test_rita_accepts_a_suggestion_into_the_draft_exactly_once(client, rita, outcomes):
    model = outcomes
    login(client, rita)
    report = client.get(API).json()
    demo = rule(model, "Demo request")
    [s] = [s for s in report["suggestions"] if s["rule_id"] == demo.pk]
    assert s["headline"] == "Demo request: +30 → +60" and s["state"] == "open"
    before, versions, scores = _draft(model), ModelVersion.objects.count(), list(Lead.objects.values_list("id", "score"))

    response = client.post(reverse(ACCEPT), {"model": model.pk, "key": s["key"]})
    assert response.status_code == 302
    after = _draft(model)
    index = [r["key"] for r in before["rules"]].index(demo.pk)
    assert [i for i, (a, b) in enumerate(zip(before["rules"], after["rules"], strict=True)) if a != b] == [index]
    assert after["rules"][index] == {**before["rules"][index], "points": 60}
    assert {k: v for k, v in before.items() if k != "rules"} == {k: v for k, v in after.items() if k != "rules"}
    assert ModelVersion.objects.count() == versions  # nothing published
    assert list(Lead.objects.values_list("id", "score")) == scores  # no lead rescored
    record = AcceptedSuggestion.objects.get()
    assert (record.from_value, record.to_value, record.accepted_by, record.version) == (30, 60, rita, model.current_version)
    assert "against a base of" in record.evidence and record.sample == 41  # RevOps counts every team
    assert client.get(API).json()["suggestions"][[x["key"] for x in report["suggestions"]].index(s["key"])]["state"] == "in_draft"

    # Twice: refused with the reason, nothing changes.
    again = client.post(API_ACCEPT, {"model": model.pk, "key": s["key"]}, content_type="application/json")
    assert again.status_code == 400 and "Already in the draft" in again.json()["non_field_errors"][0]
    assert _draft(model) == after and AcceptedSuggestion.objects.count() == 1
    page = client.post(reverse(ACCEPT), {"model": model.pk, "key": s["key"]}, follow=True)
    assert b"Already in the draft" in page.content and AcceptedSuggestion.objects.count() == 1


def test_the_api_accepts_and_refuses_a_draft_changed_meanwhile(client, rita, outcomes):
    model = outcomes
    login(client, rita)
    key = next(s["key"] for s in client.get(API).json()["suggestions"] if s["kind"] == "weight")
    rule_id = int(key.split(":")[1])
    Rule.objects.filter(pk=rule_id).update(points=17)  # someone edited it in admin
    refused = client.post(API_ACCEPT, {"model": model.pk, "key": key}, content_type="application/json")
    assert refused.status_code == 400 and "no longer holds" in refused.json()["non_field_errors"][0]
    assert Rule.objects.get(pk=rule_id).points == 17 and not AcceptedSuggestion.objects.exists()
    Rule.objects.filter(pk=rule_id).update(points=int(key.split(":")[2]))
    done = client.post(API_ACCEPT, {"model": model.pk, "key": key}, content_type="application/json")
    assert done.status_code == 201 and done.json()["to_value"] == int(key.split(":")[3])
    unknown = client.post(API_ACCEPT, {"model": model.pk, "key": "rule:1:2:3"}, content_type="application/json")
    assert unknown.status_code == 400 and "no longer make that suggestion" in unknown.json()["key"][0]


def test_a_manager_reads_suggestions_but_cannot_accept_them(client, maria, outcomes):
    login(client, maria)
    key = client.get(API).json()["suggestions"][0]["key"]
    assert b"RevOps decides" in client.get(reverse(PAGE)).content
    assert client.post(reverse(ACCEPT), {"model": outcomes.pk, "key": key}).status_code == 403
    assert client.post(API_ACCEPT, {"model": outcomes.pk, "key": key}, content_type="application/json").status_code == 403
    assert not AcceptedSuggestion.objects.exists()


def test_no_suggestion_below_the_sample_floor(client, rita, outcomes, settings):
    settings.CALIBRATION_MIN_SAMPLE = 41
    login(client, rita)
    report = client.get(API).json()
    assert report["suggestions"] == [] and report["closed"] == 41
    assert all(r["below_floor"] for r in report["rules"])
