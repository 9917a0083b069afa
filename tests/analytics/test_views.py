import csv
import io
import re

import pytest

from accounts.models import Role
from tests.conftest import login
from tests.factories import UserFactory

RANGE = "start=2026-01-01&end=2026-02-28"
PAGES = ["/metrics/", "/metrics/velocity/", "/metrics/handoffs/", "/metrics/quality/", "/metrics/marketing/"]


def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["alice", "erin", "charlie"])
def test_sdrs_and_aes_get_403(client, refreshed, page, who, request):
    assert login(client, request.getfixturevalue(who)).get(f"{page}?{RANGE}").status_code == 403


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", ["maria", "mark", "rita"])
def test_managers_marketing_and_admins_read_every_page(client, refreshed, page, who, request):
    r = login(client, request.getfixturevalue(who)).get(f"{page}?{RANGE}")
    assert r.status_code == 200
    # Quality has no reviews or SLA clocks in this data set: its charts say so instead of drawing.
    assert "<svg" in r.content.decode() or "No data in this selection" in r.content.decode()


def test_another_teams_manager_gets_404_for_north(client, refreshed, south, north):
    sven = UserFactory.with_role(Role.MANAGER, south, username="sven")
    assert login(client, sven).get(f"/metrics/?{RANGE}&team={north.pk}").status_code == 404


def test_manager_sees_only_their_teams(client, refreshed, maria, south):
    html = login(client, maria).get(f"/metrics/?{RANGE}").content.decode()
    assert "South" not in html
    # 5 North leads; South's won lead is not counted.
    assert rows_of(client.get(f"/metrics/?{RANGE}&export=funnel"))[1][:7] == ["All leads", "5", "4", "2", "1", "1", "1"]


def test_admin_sees_all_teams(client, refreshed, rita):
    rows = rows_of(login(client, rita).get(f"/metrics/?{RANGE}&export=funnel"))
    assert rows[1][:7] == ["All leads", "6", "5", "3", "2", "2", "1"]


def test_funnel_page_draws_the_funnel_and_tables(client, refreshed, maria):
    html = login(client, maria).get(f"/metrics/?{RANGE}&dim=source").content.decode()
    assert 'id="funnel-chart"' in html
    assert "Conversion by source" in html and "Inbound" in html
    assert "Jan 2026" in html and "Feb 2026" in html


def test_the_cohort_chart_reads_its_rate_on_a_percent_axis_of_its_own(client, refreshed, maria):
    html = login(client, maria).get(f"/metrics/?{RANGE}").content.decode()
    cohorts = html[html.index("Leads per monthly cohort"):]
    cohorts = cohorts[:cohorts.index("</svg>")]
    assert '<g class="rate-axis">' in cohorts and ">Lead → won %</text>" in cohorts and ">Leads</text>" in cohorts
    assert re.search(r'class="tick rate-tick">0%</text>', cohorts)


def test_the_speed_to_lead_bars_are_the_shares_their_text_gives(client, refreshed, maria):
    """'23.4% (111 of 475)' and '25.8% (32 of 124)': the longer bar is the larger share, not the larger count."""
    r = login(client, maria).get(f"/metrics/velocity/?{RANGE}")
    chart = r.context["speed_chart"]
    assert chart.bars
    for bar in chart.bars:
        share = bar.text.split("%")[0]
        assert bar.value == (0 if share.startswith("—") else float(share)), bar.text  # "— (0 of 0)": no MQLs
    widest = max(chart.bars, key=lambda b: b.w)
    assert widest.value == max(b.value for b in chart.bars)


def test_paretos_in_half_a_card_are_drawn_half_wide(client, refreshed, maria):
    """Two to a row, the per-source charts are drawn WIDTH wide (their text near its size), the overall one WIDE."""
    html = login(client, maria).get(f"/metrics/handoffs/?{RANGE}").content.decode()
    overall, _, per_source = html.partition("Rejection reasons by source")
    assert 'viewBox="0 0 1100 240"' in overall
    assert 'viewBox="0 0 640 240"' in per_source and 'viewBox="0 0 1100 240"' not in per_source
    # So is marketing's, beside its sources chart.
    marketing = login(client, maria).get(f"/metrics/marketing/?{RANGE}").content.decode()
    assert 'viewBox="0 0 640 240"' in marketing and 'viewBox="0 0 1100 240"' not in marketing


@pytest.mark.parametrize(
    ("url", "header"),
    [
        ("/metrics/?export=funnel&dim=source", "source"),
        ("/metrics/?export=cohorts", "month"),
        ("/metrics/velocity/?export=speed", "source"),
        ("/metrics/velocity/?export=stages", "stage"),
        ("/metrics/velocity/?export=cycle&dim=campaign", "campaign"),
        ("/metrics/handoffs/?export=by_sdr", "sdr"),
        ("/metrics/handoffs/?export=by_source", "source"),
        ("/metrics/handoffs/?export=pareto", "source"),
        ("/metrics/handoffs/?export=consistency", "sdr"),
        ("/metrics/quality/?export=false_sql_rep", "rep"),
        ("/metrics/quality/?export=false_sql_source", "source"),
        ("/metrics/quality/?export=sla", "kind"),
    ],
)
def test_every_table_exports_csv(client, refreshed, maria, url, header):
    r = login(client, maria).get(f"{url}&{RANGE}")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    assert rows_of(r)[0][0] == header


def test_funnel_csv_by_source_matches_the_hand_computed_figures(client, refreshed, maria):
    rows = {r[0]: r for r in rows_of(login(client, maria).get(f"/metrics/?{RANGE}&export=funnel&dim=source"))}
    assert rows["Inbound"][1:7] == ["3", "3", "2", "1", "1", "1"]
    assert rows["Inbound"][-2:] == ["33.3", "50.0"]


def test_stage_time_csv(client, refreshed, maria):
    rows = rows_of(login(client, maria).get(f"/metrics/velocity/?{RANGE}&export=stages"))
    assert rows[1:] == [["New", "4", "0.27"], ["MQL", "2", "1.48"], ["Working", "3", "4.0"], ["Handed off", "2", "1.5"],
                        ["Accepted", "2", "11.5"], ["Opportunity", "1", "20.0"]]


@pytest.mark.parametrize("page", PAGES)
def test_pages_cost_a_fixed_number_of_queries(client, refreshed, maria, page, django_assert_max_num_queries):
    login(client, maria)
    with django_assert_max_num_queries(16):
        assert client.get(f"{page}?{RANGE}&dim=sdr").status_code == 200


def test_bad_filters_fall_back_to_defaults(client, refreshed, maria):
    r = login(client, maria).get("/metrics/?start=yesterday&end=2026-13-01&dim=nonsense")
    assert r.status_code == 200


@pytest.mark.parametrize("query", ["start=0001-01-01&end=9999-12-31", "end=0001-01-01", "start=9999-12-31"])
def test_dates_out_of_reach_fall_back_to_the_default_range(client, refreshed, maria, query):
    """A range ending at year 1 overflowed when a day was subtracted from it: a 500 on every page."""
    login(client, maria)
    for url in ("/metrics/", "/metrics/velocity/", "/metrics/handoffs/", "/metrics/quality/", "/metrics/marketing/",
                "/api/metrics/funnel/"):
        assert client.get(f"{url}?{query}").status_code == 200, url
    assert client.get(f"/metrics/?{query}&export=funnel").status_code == 200


def test_refresh_button_recomputes(client, funnel, maria):
    login(client, maria)
    r = client.post("/metrics/refresh/", {"next": f"/metrics/?{RANGE}"})
    assert r.status_code == 302
    assert rows_of(client.get(f"/metrics/?{RANGE}&export=funnel"))[1][1] == "5"


def test_refresh_is_refused_to_sdrs(client, funnel, alice):
    assert login(client, alice).post("/metrics/refresh/").status_code == 403
