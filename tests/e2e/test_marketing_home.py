"""Marketing signs in and lands on their sources' page (funnel by source, handoff feedback), not
on an empty queue; their queue is the whole team's, read only; a page that doesn't exist says so in
the app's layout, with a way back."""

import re

import pytest
from playwright.sync_api import expect

from qualify.analytics.rollups import refresh
from qualify.handoff.models import Handoff
from qualify.leads.models import DisqualifyReason, Source, Stage
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path
from tests.e2e.test_metrics import funnel  # noqa: F401  (the fixture: inbound and outbound leads with history)
from tests.factories import LeadFactory


@pytest.fixture
def feedback(e2e_cast, funnel):  # noqa: F811
    c = e2e_cast
    reason = DisqualifyReason.objects.get(name="No authority")
    for n, (status, why) in enumerate([("accepted", None), ("rejected", reason), ("rejected", reason)]):
        lead = LeadFactory(team=c.north, owner=c.alice, source=Source.INBOUND)
        Handoff.objects.create(lead=lead, team=c.north, from_user=c.alice, to_user=c.erin, next_step=f"Demo number {n}",
                               source="inbound", status=status, reason=why, decision_note="Cannot sign" if why else "",
                               decided_by=c.erin)
    refresh(full=True)


def test_marketer_lands_on_their_sources_page(page, live_server, e2e_cast, feedback):
    login_as(page, live_server, "mark")

    assert url_path(page) == "/metrics/marketing/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Your sources: funnel and handoff feedback")
    expect(page.locator("#sources-funnel svg")).to_be_visible()
    feedback_table = page.locator("section.card", has=page.get_by_role("heading", name=re.compile("Handoff acceptance by source")))
    expect(feedback_table.locator("tr", has_text="Inbound")).to_contain_text("33.3%")
    expect(page.locator("#sources-rejections")).to_contain_text("No authority")
    expect(page.get_by_role("link", name="Sources")).to_have_attribute("aria-current", "page")
    page.screenshot(path="/tmp/ws-marketing-home.png", full_page=True)


def test_marketing_reads_the_whole_teams_queue_with_no_action_to_be_refused_by(page, live_server, e2e_cast):
    """Marketing changes no lead (README, Security): no row action, row checkbox or bulk bar."""
    c = e2e_cast
    LeadFactory(team=c.north, owner=c.alice, first_name="Dana", last_name="Diaz", stage=Stage.WORKING, score=90)
    LeadFactory(team=c.north, owner=c.bob, first_name="Bea", last_name="Bobson", stage=Stage.MQL, score=70)
    LeadFactory(team=c.north, owner=None, first_name="Pia", last_name="Pool", stage=Stage.NEW, score=50)
    LeadFactory(team=c.south, owner=c.charlie, first_name="Sofia", last_name="South", score=80)
    login_as(page, live_server, "mark")
    page.goto(f"{live_server.url}/queue/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Team leads")
    expect(page.get_by_role("tab", name="Whole team")).to_have_attribute("aria-selected", "true")
    rows = page.locator("#queue-rows tr.lead-row")
    expect(rows.locator("a.lead-name")).to_have_text(["Dana Diaz", "Bea Bobson", "Pia Pool"])
    expect(rows.locator("td.actions-col")).to_have_text(["Read only"] * 3)
    for action in ("Log touch", "Claim", "Move to stage"):
        expect(rows.get_by_text(action)).to_have_count(0)
    expect(page.locator("input[name=ids]")).to_have_count(0)
    expect(page.locator("[data-select-all]")).to_have_count(0)
    expect(page.locator("#bulk-form")).to_have_count(0)
    page.screenshot(path="/tmp/e2e-marketing-queue.png", full_page=True)
    assert_accessible(page, "marketing's read-only queue")


def test_unknown_page_says_why_and_leads_back(page, live_server, e2e_cast, settings):
    settings.DEBUG = False
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/leads/999999/")

    expect(page.get_by_role("heading", level=1)).to_have_text("We can't find that page")
    expect(page.locator("main")).to_contain_text("belongs to a team you are not on")
    page.screenshot(path="/tmp/ws-404.png", full_page=True)
    page.get_by_role("link", name="The lead queue").click()
    assert url_path(page) == "/queue/"


@pytest.mark.parametrize(("who", "path"), [("mark", "/duplicates/"), ("erin", "/metrics/")])
def test_a_page_not_for_your_role_says_so_alike(page, live_server, e2e_cast, settings, who, path):
    """Marketing at the duplicates and an AE at metrics get the same answer (README, Security): a
    403 that names the role rule, not the 404 of a page that does not exist."""
    settings.DEBUG = False
    login_as(page, live_server, who)
    response = page.goto(f"{live_server.url}{path}")

    assert response.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("You can't do that here")
    expect(page.locator("main")).to_contain_text("are for managers")
    assert_accessible(page, f"the 403 page at {path}")
