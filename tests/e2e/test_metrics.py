"""Issue 6 in a real browser: a manager reads the funnel, breaks it down, switches pages and
downloads a CSV; the charts are the project's own SVG (no external requests)."""

import datetime

import pytest
from playwright.sync_api import expect

from qualify.analytics.rollups import refresh
from qualify.leads.models import Source, Stage, StageChange
from tests.e2e.conftest import login_as
from tests.factories import LeadFactory

UTC = datetime.UTC


def day(n):
    return datetime.datetime(2026, 1, n, tzinfo=UTC)


@pytest.fixture
def funnel(e2e_cast):
    c = e2e_cast
    S = Stage
    paths = [
        (Source.INBOUND, c.alice, [S.NEW, S.MQL, S.WORKING, S.HANDED_OFF, S.ACCEPTED, S.OPPORTUNITY, S.WON]),
        (Source.INBOUND, c.alice, [S.NEW, S.MQL, S.WORKING, S.HANDED_OFF, S.ACCEPTED, S.LOST]),
        (Source.INBOUND, c.bob, [S.NEW, S.MQL]),
        (Source.OUTBOUND, c.bob, [S.NEW, S.WORKING]),
    ]
    for source, sdr, path in paths:
        lead = LeadFactory(team=c.north, owner=sdr, source=source, stage=path[-1], created_at=day(5))
        StageChange.objects.bulk_create([
            StageChange(lead=lead, from_stage=prev, to_stage=to, at=day(5 + i), by=sdr if to in (S.WORKING, S.HANDED_OFF) else None)
            for i, (prev, to) in enumerate(zip(["", *path], path))
        ])
    refresh(full=True)


def test_manager_reads_the_funnel_and_breaks_it_down(page, live_server, e2e_cast, funnel):
    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server.url) else None)
    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Metrics").click()
    expect(page.get_by_role("heading", name="Funnel conversion")).to_be_visible()
    page.get_by_label("From").fill("2026-01-01")
    page.get_by_label("To").fill("2026-01-31")
    page.get_by_role("button", name="Apply").click()

    chart = page.locator("#funnel-chart")
    expect(chart).to_be_visible()
    expect(chart.locator("g.step")).to_have_count(5)
    expect(chart).to_contain_text("Leads")
    # 4 leads, all reached MQL (the outbound one through Working), 2 accepted, 1 opportunity, 1 won.
    expect(chart.locator("g.step").nth(2)).to_contain_text("2 · 50% of previous")
    expect(chart.locator("g.step").nth(4)).to_contain_text("1 · 100% of previous")
    table = page.locator(".metrics-table").first
    expect(table.locator("tr.total")).to_contain_text("All leads")
    expect(table).to_contain_text("Inbound")

    page.get_by_label("Break down by").select_option("sdr")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("heading", name="Conversion by sdr (rep)")).to_be_visible()
    expect(page.locator(".metrics-table").first).to_contain_text("Alice Adams")

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").first.click()
    text = open(download.value.path()).read()
    assert text.splitlines()[0].startswith("sdr,leads,mql")
    assert any(line.startswith("Alice Adams,2,2,2") for line in text.splitlines())

    page.get_by_role("link", name="Velocity").click()
    expect(page.locator("#stage-table")).to_contain_text("Average time in stage")
    expect(page.locator("#stage-table")).to_contain_text("Working")
    assert external == []  # charts and styles come from the project itself


def test_an_sdr_gets_403_on_metrics(page, live_server, e2e_cast, funnel):
    login_as(page, live_server, "alice")
    expect(page.get_by_role("link", name="Metrics")).to_have_count(0)
    assert page.goto(f"{live_server.url}/metrics/").status == 403
