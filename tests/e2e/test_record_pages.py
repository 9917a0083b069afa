"""Creating and editing leads and accounts in a real browser: an SDR adds a company and a person at
it from the queue, corrects the person's seniority and sees the score move; a refused form keeps
what was typed; a second account with the team's domain is refused naming the first; marketing
creates but never edits. Each page also passes axe (tests/e2e/a11y.py).

Scoring runs in the live server's thread right after commit, as a worker would (no broker here).
"""

import pytest
from playwright.sync_api import expect

from qualify.leads.models import Account, Lead
from qualify.scoring import tasks
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, LeadFactory
from tests.scoring.conftest import ensure_default_model

SCREENSHOTS = "test-results"


@pytest.fixture
def scored_at_once(monkeypatch):
    ensure_default_model()
    monkeypatch.setattr(tasks.score_leads, "delay", lambda ids: tasks.score_leads(list(ids)))


def test_sdr_creates_an_account_and_a_lead_then_edits_the_lead_and_the_score_moves(page, live_server, e2e_cast, scored_at_once):
    login_as(page, live_server, "alice")
    page.get_by_role("link", name="New lead").click()
    assert url_path(page) == "/leads/new/"
    assert_accessible(page, "the new lead form")

    # The company is not there yet: "New account…" and back, with the account chosen.
    page.get_by_label("First name").fill("Nina")
    page.get_by_role("link", name="New account…").click()
    page.get_by_label("Name").fill("Corner Shops")
    page.get_by_label("Domain").fill("Corner-Shops.example")
    page.get_by_label("Industry").fill("Retail")
    page.get_by_label("Employee count").fill("250")
    page.get_by_label("Country").fill("D1")
    page.get_by_label("Segment").select_option(label="Mid-market")
    page.get_by_role("button", name="Create account").click()
    # Refused, as typed, with the problem beside its field and in the summary.
    expect(page.locator(".error-summary")).to_contain_text("Country: Country is a two-letter ISO code, like US or DE.")
    expect(page.get_by_label("Country")).to_have_value("D1")
    expect(page.get_by_label("Domain")).to_have_value("Corner-Shops.example")
    expect(page.get_by_label("Country")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "the refused account form")
    page.get_by_label("Country").fill("US")
    page.get_by_role("button", name="Create account").click()

    account = Account.objects.get(name="Corner Shops")
    assert account.domain == "corner-shops.example" and account.team == e2e_cast.north
    assert url_path(page) == "/leads/new/"
    expect(page.get_by_label("Account")).to_have_value(str(account.pk))
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("Novak")
    page.get_by_label("Email").fill("nina@corner-shops.example")
    page.get_by_label("Seniority").select_option(label="Individual contributor")
    page.get_by_label("Make me the owner").check()
    page.screenshot(path=f"{SCREENSHOTS}/lead-form.png", full_page=True)
    page.get_by_role("button", name="Create lead").click()

    lead = Lead.objects.get(email="nina@corner-shops.example")
    assert url_path(page) == f"/leads/{lead.pk}/"
    expect(page.get_by_role("status")).to_contain_text("Lead Nina Novak created.")
    expect(page.locator(".score-box .score")).to_have_text("20")  # mid-market 10 + 250 people 10
    assert lead.owner == e2e_cast.alice

    page.get_by_role("link", name="Edit lead").click()
    expect(page.get_by_label("First name")).to_have_value("Nina")
    page.get_by_label("Seniority").select_option(label="C-level")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: seniority.")
    expect(page.locator(".score-box .score")).to_have_text("40")  # C-level adds 20

    # The account, from the lead page: its size is a fit rule, so its leads are rescored.
    page.get_by_role("link", name="Edit account").click()
    page.get_by_label("Employee count").fill("9000")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("Saved: employee count.")
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator(".score-box .score")).to_have_text("36")  # over 5,000 people: 6 instead of 10


def test_a_second_account_with_the_teams_domain_is_refused_and_links_the_first(page, live_server, e2e_cast):
    """Typed as a web address, the domain is the bare host the first account has."""
    daniel = AccountFactory(team=e2e_cast.north, name="Daniel Ltd", domain="daniel.com")
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/accounts/new/")
    page.get_by_label("Name").fill("Daniel Limited")
    page.get_by_label("Domain").fill("https://www.daniel.com/")
    page.get_by_role("button", name="Create account").click()

    summary = page.locator(".error-summary")
    expect(summary).to_contain_text("Nothing was saved: one problem to fix.")
    expect(summary).to_contain_text("Domain: This team already has an account with this domain: Daniel Ltd.")
    expect(page.get_by_label("Domain")).to_have_value("https://www.daniel.com/")
    expect(page.get_by_label("Name")).to_have_value("Daniel Limited")
    assert list(Account.objects.values_list("name", flat=True)) == ["Daniel Ltd"]
    assert_accessible(page, "the account form refused for a domain taken")

    summary.get_by_role("link", name="Daniel Ltd").click()
    assert url_path(page) == f"/accounts/{daniel.pk}/"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Daniel Ltd")
    assert_accessible(page, "the account that has the domain")


def test_a_double_click_on_create_makes_one_lead(page, live_server, e2e_cast):
    AccountFactory(team=e2e_cast.north, name="Acme Robotics")
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/leads/new/")
    page.get_by_label("First name").fill("Otto")
    page.get_by_label("Account").select_option(label="Acme Robotics")
    page.get_by_role("button", name="Create lead").dblclick()
    expect(page.get_by_role("heading", name="Otto")).to_be_visible()
    assert Lead.objects.filter(first_name="Otto").count() == 1


def test_marketing_creates_a_lead_but_cannot_edit_one(page, live_server, e2e_cast):
    account = AccountFactory(team=e2e_cast.north, name="Acme Robotics")
    theirs = LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, account=account, first_name="Dana", last_name="Diaz")
    login_as(page, live_server, "mark")
    page.goto(f"{live_server.url}/leads/new/")
    expect(page.get_by_label("Make me the owner")).to_have_count(0)
    page.get_by_label("First name").fill("Mona")
    page.get_by_label("Account").select_option(label="Acme Robotics")
    page.get_by_role("button", name="Create lead").click()
    expect(page.get_by_role("heading", name="Mona")).to_be_visible()

    page.goto(f"{live_server.url}/leads/{theirs.pk}/")
    expect(page.get_by_role("link", name="Edit lead")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit account")).to_have_count(0)
    response = page.goto(f"{live_server.url}/leads/{theirs.pk}/edit/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("You can read this lead but not change it.")
