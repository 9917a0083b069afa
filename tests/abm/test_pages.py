"""The account page, the lead page's committee panel, the queue's account signal and the account
API: the same team rules as leads (another team's account is a 404 that reveals nothing)."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from qualify.abm.refresh import refresh_accounts
from qualify.handoff.models import Handoff
from qualify.leads.models import Persona, Stage
from tests.conftest import login

from .conftest import NOW, engage, person, score

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def populated(acme, scoring, alice, bob, erin):
    acme.owner = erin
    acme.save()
    cfo = person(acme, first_name="Carla", last_name="Cruz", department="Finance", persona=Persona.ECONOMIC_BUYER,
                 owner=alice)
    arch = person(acme, first_name="Ari", last_name="Ames", department="IT", title="Architect", owner=bob)
    quiet = person(acme, first_name="Quinn", last_name="Quiet", department="Operations", persona=Persona.CHAMPION)
    engage(cfo)
    engage(arch)
    score(cfo, arch, quiet)
    refresh_accounts([acme.pk], now=NOW)
    return {"cfo": cfo, "arch": arch, "quiet": quiet}


def test_account_page_shows_people_engagement_committee_owners_and_mqa(client, alice, acme, populated, django_assert_max_num_queries):
    login(client, alice)
    with django_assert_max_num_queries(25):
        r = client.get(reverse("leads:account", args=[acme.pk]))
    assert r.status_code == 200
    html = r.content.decode()
    for text in ("Acme Robotics", "Carla Cruz", "Ari Ames", "Quinn Quiet", "Finance", "Economic buyer",
                 "Buying committee: 2 of 4 roles covered", "Technical evaluator", "known, not engaged: Quinn Quiet",
                 "Marketing-qualified account since", "Erin Evans", "Team pool"):
        assert text in html, text
    # alice may open her own lead and the pool's; bob's lead is listed (with its owner) but not linked.
    assert populated["cfo"].get_absolute_url() in html
    assert populated["quiet"].get_absolute_url() in html
    assert populated["arch"].get_absolute_url() not in html
    assert "Bob Brown" in html


def test_account_and_lead_pages_name_the_country_not_its_code(client, alice, acme, populated):
    acme.region, acme.country = "NA", "CA"
    acme.save(update_fields=["region", "country"])
    login(client, alice)
    for url in (reverse("leads:account", args=[acme.pk]), populated["cfo"].get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<dt>Region</dt><dd>NA · Canada</dd>" in html, url


def test_account_page_of_another_team_is_a_404_that_names_nothing(client, charlie, acme, populated):
    login(client, charlie)
    r = client.get(reverse("leads:account", args=[acme.pk]))
    assert r.status_code == 404
    assert b"Acme" not in r.content and b"Carla" not in r.content
    assert client.get(reverse("leads:account", args=[99_999_999])).status_code == 404


def test_account_page_lists_open_handoffs(client, maria, acme, populated, alice, erin):
    lead = populated["cfo"]
    Handoff.objects.create(lead=lead, team=lead.team, from_user=alice, to_user=erin, next_step="Demo on Friday")
    login(client, maria)
    html = client.get(reverse("leads:account", args=[acme.pk])).content.decode()
    assert "Open handoffs" in html and "Alice Adams → Erin Evans" in html


def test_lead_page_shows_the_compact_committee_panel_and_links_the_company(client, alice, acme, populated):
    login(client, alice)
    html = client.get(populated["cfo"].get_absolute_url()).content.decode()
    assert f'href="{acme.get_absolute_url()}"' in html
    assert "Buying committee at" in html and "2 of 4 roles covered" in html
    assert "Marketing-qualified account" in html
    assert "Ari Ames, Architect — Bob Brown" in html  # who owns the others at the account


def test_queue_links_the_company_and_shows_the_account_signal(client, alice, acme, populated):
    login(client, alice)
    html = client.get(reverse("leads:queue")).content.decode()
    assert f'href="{acme.get_absolute_url()}"' in html
    assert "MQA" in html


def test_account_api_has_engagement_by_department_committee_and_mqa(client, alice, charlie, acme, populated):
    login(client, alice)
    body = client.get(f"/api/accounts/{acme.pk}/").json()
    q = body["qualification"]
    assert body["name"] == "Acme Robotics"
    assert q["engaged_people"] == 2 and q["roles_covered"] == 2 and q["score"] == 60 and q["mqa_at"]
    assert {d["department"] for d in q["by_department"]} == {"Finance", "IT", "Operations"}
    assert sum(d["engagement"] for d in q["by_department"]) == pytest.approx(q["engagement"], abs=0.01)
    covered = {c["role"]: c["filled_by"] for c in q["committee"]}
    assert covered["Economic buyer"] == [populated["cfo"].pk]
    login(client, charlie)
    r = client.get(f"/api/accounts/{acme.pk}/")
    assert r.status_code == 404 and b"Acme" not in r.content


def test_a_merged_away_account_id_opens_the_survivor(client, maria, acme, populated, north):
    from qualify.leads.merge import merge_accounts
    from tests.factories import AccountFactory

    other = AccountFactory(team=north, name="Acme Robotics Inc", domain="")
    merge_accounts(acme.pk, other.pk, by=maria)
    login(client, maria)
    r = client.get(reverse("leads:account", args=[other.pk]))
    assert r.status_code == 301 and r["Location"] == acme.get_absolute_url()


def test_new_lead_at_an_owned_account_goes_to_its_owner_when_it_becomes_an_mql(acme, erin, alice, north, django_capture_on_commit_callbacks):
    """Account-based routing still holds end to end: created through the verb, promoted by the
    score, routed by the MQL listener to the account's owner."""
    from qualify.leads.records import create_lead
    from qualify.routing.models import AccountOwned, Method, RoutingRule
    from qualify.scoring.scores import score_leads

    acme.owner = erin
    acme.save()
    RoutingRule.objects.create(name="ABM", method=Method.ACCOUNT_OWNER, account_owned=AccountOwned.YES, position=1)
    RoutingRule.objects.create(name="Rest", team=north, method=Method.ROUND_ROBIN, position=2)
    with django_capture_on_commit_callbacks(execute=True):
        lead = create_lead(by=alice, team=north, account=acme, first_name="New", last_name="Person",
                           email="new@acme-robotics.example", owner=None)
    engage(lead, n=6, days_ago=0.01, type="demo_request")
    with django_capture_on_commit_callbacks(execute=True):
        score_leads([lead.pk], now=NOW)
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL and lead.owner_id == erin.pk


def test_the_account_signal_is_in_the_leads_score_explanation(client, alice, acme, populated):
    login(client, alice)
    body = client.get(f"/api/scores/{populated['cfo'].pk}/").json()
    assert body["signals"] == [
        "Acme Robotics is a marketing-qualified account (since 15 Jun 2026; account score 60, 2 of 4 committee roles "
        "covered).",
        "2 people at Acme Robotics engaged this week.",
    ]
    html = client.get(populated["cfo"].get_absolute_url()).content.decode()
    assert "2 people at Acme Robotics engaged this week." in html


def test_an_unknown_headcount_reads_as_a_dash_not_none(client, alice, acme, populated):
    type(acme).objects.filter(pk=acme.pk).update(employee_count=None)
    html = login(client, alice).get(reverse("leads:account", args=[acme.pk])).content.decode()
    assert "<dt>Employees</dt><dd>—</dd>" in html and "<dd>None</dd>" not in html
