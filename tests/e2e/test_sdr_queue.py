"""An SDR works her queue in a real browser: ranking, htmx filters, the lead page, inline touches,
"Load more", and another team's lead by URL."""

import re

import pytest
from playwright.sync_api import expect

from qualify.leads import queue
from qualify.leads.models import Lead, Stage, Touch
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, EventFactory, LeadFactory, TouchFactory

ROW_NAMES = "#queue-rows tr.lead-row a.lead-name"
STAGE_BADGE = ".badge[class*='stage-']"  # not the SLA badges beside it


@pytest.fixture
def alices_leads(e2e_cast):
    """Three open leads of alice's with distinct scores, plus leads her queue must not show."""
    north = e2e_cast.north
    acme = AccountFactory(team=north, name="Acme Robotics", industry="Manufacturing", employee_count=1200, region="EMEA")
    leads = {
        "dana": LeadFactory(team=north, owner=e2e_cast.alice, account=acme, first_name="Dana", last_name="Diaz",
                            stage=Stage.WORKING, score=90),
        # Named accounts: Faker's company names (e.g. "Ortiz-Hill") made the searches below match more.
        "omar": LeadFactory(team=north, owner=e2e_cast.alice, account=AccountFactory(team=north, name="Orbit Freight"),
                            first_name="Omar", last_name="Ortiz", stage=Stage.NEW, score=70),
        "nina": LeadFactory(team=north, owner=e2e_cast.alice, account=AccountFactory(team=north, name="Nimbus Foods"),
                            first_name="Nina", last_name="Novak", stage=Stage.MQL, score=40),
    }
    # Not in alice's queue: bob's lead, a nurtured one, and the South team's lead.
    LeadFactory(team=north, owner=e2e_cast.bob, first_name="Bea", last_name="Bobson", score=99)
    LeadFactory(team=north, owner=e2e_cast.alice, first_name="Nora", last_name="Nurture", stage=Stage.NURTURE, score=95)
    leads["south"] = LeadFactory(team=e2e_cast.south, owner=e2e_cast.charlie, first_name="Sofia", last_name="South", score=80)
    return leads


def set_marker(page):
    """A full page load resets window state; htmx swaps keep it. Check with marker_survived()."""
    page.evaluate("window.__marker = 1")


def marker_survived(page) -> bool:
    return page.evaluate("window.__marker === 1")


def test_my_queue_lists_only_my_open_leads_ranked_by_score(page, live_server, alices_leads):
    login_as(page, live_server, "alice")

    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    assert page.locator(ROW_NAMES).all_inner_texts() == ["Dana Diaz", "Omar Ortiz", "Nina Novak"]
    scores = page.locator("#queue-rows tr.lead-row td.num:not(.predicted-cell)").all_inner_texts()
    assert [s.strip() for s in scores] == ["90", "70", "40"]


def test_stage_filter_and_search_update_the_results_in_place(page, live_server, alices_leads):
    login_as(page, live_server, "alice")
    set_marker(page)

    page.get_by_label("Stage", exact=True).select_option(label="MQL")
    expect(page.locator(ROW_NAMES)).to_have_text(["Nina Novak"])
    expect(page).to_have_url(re.compile(r"stage=mql"))  # hx-push-url: the filtered view is linkable

    page.get_by_label("Stage", exact=True).select_option(value="")
    expect(page.locator(ROW_NAMES)).to_have_count(3)

    page.get_by_label("Search").press_sequentially("ortiz")
    expect(page.locator(ROW_NAMES)).to_have_text(["Omar Ortiz"])
    expect(page).to_have_url(re.compile(r"q=ortiz"))

    page.get_by_label("Search").fill("")
    page.get_by_label("Search").press_sequentially("nobody-called-this")
    expect(page).to_have_url(re.compile(r"q=nobody-called-this"))  # the last debounced request is done
    expect(page.locator("#queue-rows")).to_contain_text("Nothing to work here.")
    # Where else to look (a lead created without an owner is in the pool), and a way back.
    expect(page.get_by_role("link", name="Search in Team pool")).to_have_attribute(
        "href", "?scope=pool&q=nobody-called-this")
    assert marker_survived(page), "a filter reloaded the whole page instead of swapping the results"
    page.get_by_role("link", name="Clear the filters").click()
    expect(page.locator(ROW_NAMES)).to_have_count(3)


def test_export_and_a_saved_view_follow_a_filter_changed_in_place(page, live_server, alices_leads):
    """They kept the filters the page was loaded with: an export of the whole queue, a view of it."""
    login_as(page, live_server, "alice")
    page.get_by_label("Stage", exact=True).select_option(label="MQL")
    expect(page.locator(ROW_NAMES)).to_have_text(["Nina Novak"])

    expect(page.locator("#queue-export")).to_have_attribute("href", re.compile(r"^/queue/export/\?.*stage=mql"))
    expect(page.locator("[data-select-all]")).to_have_count(1)  # the header's "select all" stays
    with page.expect_download() as download:
        page.locator("#queue-export").click()
    lines = open(download.value.path(), encoding="utf-8").read().strip().splitlines()
    assert len(lines) == 2 and "Nina" in lines[1], lines

    page.get_by_text("Save this view").click()
    page.get_by_label("Name", exact=True).fill("MQLs to call")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".flash").first).to_contain_text("Saved the view “MQLs to call”")
    page.goto(f"{live_server.url}/queue/")
    expect(page.locator(ROW_NAMES)).to_have_count(3)
    page.get_by_role("link", name="MQLs to call").click()
    expect(page.locator(ROW_NAMES)).to_have_text(["Nina Novak"])


def test_a_filtered_url_opened_directly_shows_the_filtered_list(page, live_server, alices_leads):
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/queue/?stage=new")

    expect(page.locator(ROW_NAMES)).to_have_text(["Omar Ortiz"])
    expect(page.get_by_label("Stage", exact=True)).to_have_value("new")


def test_clicking_a_lead_opens_its_page_with_account_and_timeline(page, live_server, e2e_cast, alices_leads):
    dana = alices_leads["dana"]
    EventFactory(lead=dana, type="page_view", properties={"page_category": "pricing"})
    TouchFactory(lead=dana, author=e2e_cast.alice, kind="email", outcome="replied", note="Asked for a call next week")
    login_as(page, live_server, "alice")

    page.get_by_role("link", name="Dana Diaz").click()

    assert url_path(page) == f"/leads/{dana.pk}/"
    expect(page.get_by_role("heading", name=re.compile("Dana Diaz"))).to_be_visible()
    account = page.locator("section.card", has=page.get_by_role("heading", name="Account", exact=True))
    expect(account).to_contain_text("Acme Robotics")
    expect(account).to_contain_text("Manufacturing")
    expect(account).to_contain_text("1,200")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Page view · pricing")
    expect(timeline).to_contain_text("Email — Replied")
    expect(timeline).to_contain_text("Asked for a call next week")


def test_logging_a_touch_from_the_queue_updates_the_row_in_place(page, live_server, e2e_cast, alices_leads):
    omar = alices_leads["omar"]
    login_as(page, live_server, "alice")
    set_marker(page)
    row = page.locator(f"#lead-{omar.pk}")
    expect(row.locator(STAGE_BADGE)).to_have_text("New")

    row.get_by_text("Log touch").click()
    row.get_by_label("Kind").select_option(label="Call")
    row.get_by_label("Outcome").select_option(label="Connected")
    row.get_by_label("Note").fill("Intro call, wants pricing")
    row.get_by_role("button", name="Save").click()

    row = page.locator(f"#lead-{omar.pk}")
    expect(row.get_by_role("status")).to_contain_text("Logged:")
    expect(row.locator(STAGE_BADGE)).to_have_text("Working")
    expect(row).not_to_contain_text("never")  # last touch is now set
    assert marker_survived(page), "logging a touch reloaded the page"
    assert page.locator(ROW_NAMES).count() == 3  # the other rows are untouched

    touch = Touch.objects.get(lead=omar)
    assert (touch.kind, touch.outcome, touch.note, touch.author) == ("call", "connected", "Intro call, wants pricing", e2e_cast.alice)
    assert Lead.objects.get(pk=omar.pk).stage == Stage.WORKING


def test_a_row_action_on_a_lead_gone_since_the_page_loaded_says_so(page, live_server, e2e_cast, alices_leads):
    """htmx swaps nothing for an error answer: without a word the click would seem to do nothing."""
    omar = alices_leads["omar"]
    login_as(page, live_server, "alice")
    row = page.locator(f"#lead-{omar.pk}")
    row.get_by_text("Log touch").click()
    row.get_by_label("Note").fill("Intro call")
    # Meanwhile an admin moves the lead to the other team: it is now "not found" for alice.
    Lead.objects.filter(pk=omar.pk).update(team=e2e_cast.south, owner=e2e_cast.charlie)
    alert = page.locator("#request-error")
    expect(alert).to_be_hidden()

    row.get_by_role("button", name="Save").click()

    expect(alert).to_be_visible()
    expect(alert).to_contain_text("no longer here")
    expect(alert).to_contain_text("Reload the page")
    assert not Touch.objects.filter(lead=omar).exists()
    alert.get_by_role("button", name="Close this message").click()
    expect(alert).to_be_hidden()


def test_load_more_appends_the_next_page_of_rows(page, live_server, e2e_cast):
    LeadFactory.create_batch(55, team=e2e_cast.north, owner=e2e_cast.alice, score=50)
    login_as(page, live_server, "alice")
    set_marker(page)
    expect(page.locator(ROW_NAMES)).to_have_count(50)

    page.get_by_role("link", name="Load more").click()

    expect(page.locator(ROW_NAMES)).to_have_count(55)
    expect(page.get_by_role("link", name="Load more")).to_have_count(0)
    ids = page.locator("#queue-rows tr.lead-row").evaluate_all("rows => rows.map(r => r.id)")
    assert len(set(ids)) == 55, "a lead appeared twice across pages"
    assert marker_survived(page)


def test_an_sdr_opening_another_teams_lead_by_url_gets_a_404(page, live_server, alices_leads):
    login_as(page, live_server, "alice")

    response = page.goto(f"{live_server.url}/leads/{alices_leads['south'].pk}/")

    assert response.status == 404
    expect(page.get_by_text("Sofia")).to_have_count(0)
    expect(page.get_by_role("heading", name="We can't find that page")).to_be_visible()


def test_the_stage_sort_and_a_total_from_the_planners_estimate(page, live_server, alices_leads, monkeypatch):
    # The live server answers from a thread of this process, so the lowered threshold applies to it:
    # a list of stage/source/segment/rep/team filters is then totalled from the planner's estimate.
    monkeypatch.setattr(queue, "ESTIMATE_FIRST_OVER", 1)
    login_as(page, live_server, "alice")

    page.locator("#sort-stage").click()
    expect(page.locator(ROW_NAMES)).to_have_text(["Omar Ortiz", "Nina Novak", "Dana Diaz"])  # New, MQL, Working
    expect(page.locator("#sort-stage")).to_contain_text("▲")
    expect(page.locator("#queue-total")).to_contain_text(re.compile(r"^about [\d,]+ leads? \(estimated\)"))

    page.locator("#sort-stage").click()  # the other way: Working first
    expect(page.locator(ROW_NAMES)).to_have_text(["Dana Diaz", "Nina Novak", "Omar Ortiz"])
    # A search is counted, however large the estimate.
    page.get_by_label("Search").press_sequentially("ortiz")
    expect(page.locator(ROW_NAMES)).to_have_text(["Omar Ortiz"])
    expect(page.locator("#queue-total")).to_contain_text(re.compile(r"^1 lead\b"))
    page.screenshot(path="/tmp/queue-stage-estimate.png")
