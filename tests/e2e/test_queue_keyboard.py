"""The queue from the keyboard in a real browser: "/" focuses the search, j/k move the selected row
(the focus ring shows it), Enter opens the lead; a skip link; sort headers; a bulk claim."""

import re

import pytest
from playwright.sync_api import expect

from qualify.leads.models import Lead, Stage
from tests.e2e.conftest import login_as
from tests.factories import LeadFactory

ROW_NAMES = "#queue-rows tr.lead-row a.lead-name"


@pytest.fixture
def three_leads(e2e_cast):
    north, alice = e2e_cast.north, e2e_cast.alice
    return [
        LeadFactory(team=north, owner=alice, first_name="Dana", last_name="Diaz", stage=Stage.WORKING, score=90),
        LeadFactory(team=north, owner=alice, first_name="Omar", last_name="Ortiz", stage=Stage.NEW, score=70),
        LeadFactory(team=north, owner=alice, first_name="Nina", last_name="Novak", stage=Stage.MQL, score=40),
    ]


def test_slash_j_k_and_enter(page, live_server, three_leads, tmp_path):
    login_as(page, live_server, "alice")
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("/")
    expect(page.locator("#queue-search")).to_be_focused()
    page.keyboard.press("Escape")

    page.keyboard.press("j")
    expect(page.locator(ROW_NAMES).nth(0)).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(ROW_NAMES).nth(2)).to_be_focused()
    page.keyboard.press("j")  # stays on the last row
    expect(page.locator(ROW_NAMES).nth(2)).to_be_focused()
    page.keyboard.press("k")
    expect(page.locator(ROW_NAMES).nth(1)).to_be_focused()
    expect(page.locator("#queue-rows tr.lead-row.selected")).to_have_count(1)
    page.screenshot(path=str(tmp_path / "queue-keyboard.png"), full_page=True)

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/leads/{three_leads[1].pk}/$"))


def test_typing_j_in_the_search_box_types_it(page, live_server, three_leads):
    login_as(page, live_server, "alice")
    page.locator("#queue-search").click()
    page.keyboard.type("jk")
    expect(page.locator("#queue-search")).to_have_value("jk")


def test_skip_link_is_the_first_tab_stop_and_jumps_to_the_content(page, live_server, three_leads):
    login_as(page, live_server, "alice")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))


def test_sort_header_orders_the_rows_and_flips(page, live_server, three_leads):
    login_as(page, live_server, "alice")
    page.get_by_role("link", name="Stage").click()
    expect(page.locator(ROW_NAMES)).to_have_text(["Omar Ortiz", "Nina Novak", "Dana Diaz"])  # New, MQL, Working
    page.get_by_role("link", name=re.compile(r"^Stage")).click()
    expect(page.locator(ROW_NAMES)).to_have_text(["Dana Diaz", "Nina Novak", "Omar Ortiz"])
    expect(page.locator("th[aria-sort='descending']")).to_have_count(1)


def test_bulk_claim_from_the_pool(page, live_server, e2e_cast):
    pool = [LeadFactory(team=e2e_cast.north, owner=None, first_name=f"Pool{i}", score=50 + i) for i in range(3)]
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/queue/?scope=pool")
    page.get_by_label("Select all rows on this page").check()
    expect(page.locator("#bulk-count")).to_have_text("3 selected")
    page.get_by_label("Bulk action").select_option("claim")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Claimed 3 leads.")).to_be_visible()
    assert set(Lead.objects.filter(pk__in=[p.pk for p in pool]).values_list("owner_id", flat=True)) == {e2e_cast.alice.pk}


def test_a_manager_filters_by_rep_and_reassigns_from_the_team_queue(page, live_server, e2e_cast):
    """The Rep and "Reassign to" menus (built in Python, leads.views.select_options): the chosen rep
    stays selected after a reload of the pushed URL, and the bulk reassign goes through assign()."""
    north = e2e_cast.north
    bobs = LeadFactory(team=north, owner=e2e_cast.bob, first_name="Bea", last_name="Bobson", score=80)
    LeadFactory(team=north, owner=e2e_cast.alice, first_name="Ann", last_name="Alison", score=70)
    login_as(page, live_server, "maria")
    page.goto(f"{live_server.url}/queue/?scope=team")
    page.get_by_label("Rep", exact=True).select_option(label="Bob Brown")
    expect(page.locator(ROW_NAMES)).to_have_text(["Bea Bobson"])
    expect(page).to_have_url(re.compile(rf"owner={e2e_cast.bob.pk}"))
    page.reload()
    expect(page.get_by_label("Rep", exact=True)).to_have_value(str(e2e_cast.bob.pk))
    page.get_by_label("Select Bea Bobson").check()
    page.get_by_label("Bulk action").select_option("reassign")
    page.get_by_label("Reassign to", exact=True).select_option(label="Alice Adams")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Reassigned 1 lead.")).to_be_visible()
    bobs.refresh_from_db()
    assert bobs.owner_id == e2e_cast.alice.pk
    assert bobs.assignments.latest("at").by_id == e2e_cast.maria.pk
