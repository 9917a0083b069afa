"""Issue 16 in a real browser: an SDR qualifying a lead sees the buying committee of its account
(who fills each role, who owns the others) and opens the account page from it."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qualify.abm.models import AccountRule, AccountScoring, CommitteeRole, Measure
from qualify.abm.refresh import refresh_accounts
from qualify.leads.models import Persona, Stage
from qualify.scoring.models import ScoringModel
from qualify.scoring.scores import score_leads
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, EventFactory, LeadFactory


@pytest.fixture
def acme(e2e_cast):
    c = e2e_cast
    scoring = AccountScoring.objects.create(model=ScoringModel.objects.get(is_default=True), engaged_points=5,
                                            mqa_threshold=50)
    for i, (name, persona) in enumerate((("Economic buyer", Persona.ECONOMIC_BUYER), ("Champion", Persona.CHAMPION),
                                         ("Technical evaluator", Persona.TECHNICAL_EVALUATOR),
                                         ("User", Persona.END_USER)), 1):
        CommitteeRole.objects.create(scoring=scoring, position=i, name=name, personas=persona)
    AccountRule.objects.create(scoring=scoring, measure=Measure.ENGAGED_PEOPLE, at_least=2, points=30)
    AccountRule.objects.create(scoring=scoring, measure=Measure.COVERAGE, at_least=50, points=30)
    account = AccountFactory(team=c.north, name="Acme Robotics", domain="acme-robotics.example", owner=c.erin)
    mine = LeadFactory(team=c.north, account=account, owner=c.alice, stage=Stage.WORKING, first_name="Carla",
                       last_name="Cruz", title="CFO", department="Finance", persona=Persona.ECONOMIC_BUYER)
    theirs = LeadFactory(team=c.north, account=account, owner=c.bob, first_name="Ari", last_name="Ames",
                         title="Cloud Architect", department="IT", persona=Persona.TECHNICAL_EVALUATOR)
    LeadFactory(team=c.north, account=account, owner=None, first_name="Quinn", last_name="Quiet",
                department="Operations", persona=Persona.CHAMPION)
    now = timezone.now()
    for lead in (mine, theirs):
        for i in range(3):
            EventFactory(lead=lead, type="demo_request", occurred_at=now - datetime.timedelta(hours=2, minutes=i))
    score_leads([mine.pk, theirs.pk], promote=False)
    refresh_accounts([account.pk])
    return account, mine


def test_sdr_sees_the_buying_committee_and_opens_the_account(page, live_server, e2e_cast, acme):
    account, mine = acme
    login_as(page, live_server, "alice")
    page.get_by_role("link", name="Carla Cruz").click()
    panel = page.locator("#lead-committee")
    expect(panel.get_by_role("heading", level=2)).to_have_text("Buying committee at Acme Robotics: 2 of 4 roles covered")
    expect(panel).to_contain_text("Marketing-qualified account")
    expect(panel).to_contain_text("Carla Cruz (this lead)")
    expect(panel).to_contain_text("Ari Ames, Cloud Architect — Bob Brown")  # who owns the others
    page.screenshot(path="/tmp/abm-lead-page.png", full_page=True)

    panel.get_by_role("link", name="Open the account").click()
    assert url_path(page) == f"/accounts/{account.pk}/"
    expect(page.get_by_role("heading", name="Buying committee: 2 of 4 roles covered")).to_be_visible()
    committee = page.locator("#buying-committee")
    expect(committee).to_contain_text("✓ Technical evaluator: Ari Ames")
    expect(committee).to_contain_text("✗ Champion: missing")
    expect(committee).to_contain_text("known, not engaged: Quinn Quiet")
    people = page.locator("#account-people")
    expect(people.locator("tbody tr")).to_have_count(3)
    # Bob's lead is listed with its owner but is not a link for alice; her own is.
    expect(people.get_by_role("link", name="Carla Cruz")).to_be_visible()
    expect(people.get_by_role("link", name="Ari Ames")).to_have_count(0)
    expect(people).to_contain_text("Bob Brown")
    expect(page.locator("#account-owners")).to_contain_text("Alice Adams: 1 lead")
    page.screenshot(path="/tmp/abm-account-page.png", full_page=True)
