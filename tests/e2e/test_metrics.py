"""Issue 6 in a real browser: a manager reads the funnel, breaks it down, switches pages and
downloads a CSV; the charts are the project's own SVG (no external requests)."""

import datetime

import pytest
from playwright.sync_api import expect

from qualify.analytics.rollups import refresh
from qualify.leads.models import Source, Stage, StageChange
from tests.e2e.a11y import assert_accessible
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


def test_the_cohort_chart_reads_its_won_rate_on_a_right_hand_percent_axis(page, live_server, e2e_cast, funnel):
    login_as(page, live_server, "maria")
    page.goto(f"{live_server.url}/metrics/?start=2026-01-01&end=2026-01-31")
    chart = page.locator("figure.chart", has=page.get_by_text("Leads per monthly cohort"))
    svg = chart.locator("svg")
    expect(svg.locator("text.axis-name").first).to_have_text("Leads")
    expect(svg.locator(".rate-name")).to_have_text("Lead → won %")
    expect(svg.locator(".rate-tick").first).to_have_text("0%")
    expect(svg.locator(".rate-tick")).to_have_text(["0%", "10%", "20%", "30%"])  # 1 won of 4 leads: 25 %
    # The percent axis is right of every column, the count axis left of them.
    box = svg.bounding_box()
    bars = [b.bounding_box() for b in svg.locator("rect.cbar").all()]
    ticks = [t.bounding_box() for t in svg.locator(".rate-tick").all()]
    assert min(t["x"] for t in ticks) >= max(b["x"] + b["width"] for b in bars)
    assert max(t["x"] + t["width"] for t in ticks) <= box["x"] + box["width"] + 1
    # The rate's dot sits at 25 % on the rate axis (between its 20 % and 30 % ticks), not at the
    # count axis' top as when the line was scaled to its own maximum.
    mid = [t["y"] + t["height"] / 2 for t in ticks]
    dot = svg.locator("circle.dot").first.bounding_box()
    expected = mid[0] + (mid[-1] - mid[0]) * 25 / 30
    assert abs((dot["y"] + dot["height"] / 2) - expected) < 2
    chart.screenshot(path="/tmp/polish-cohort-chart.png")
    assert_accessible(page, "the funnel page with its cohort chart")
