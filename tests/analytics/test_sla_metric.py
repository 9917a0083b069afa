"""SLA compliance, read from qualify.sla's clock table, on hand-made clocks."""

import datetime

import pytest

from qualify.analytics import metrics as m
from qualify.sla.models import BusinessCalendar, Clock, SlaPolicy
from tests.conftest import login
from tests.factories import LeadFactory

JAN = datetime.datetime(2026, 1, 15, 10, tzinfo=datetime.UTC)


@pytest.fixture
def clocks(north, south):
    calendar = BusinessCalendar.objects.get(is_default=True)
    policies = {p.kind: p for p in SlaPolicy.objects.filter(is_default=True)}

    def clock(team, kind, status, *, breached=False, started=JAN):
        lead = LeadFactory(team=team)
        return Clock.objects.create(
            lead=lead, team=team, policy=policies[kind], calendar=calendar, kind=kind, started_at=started,
            warn_at=started + datetime.timedelta(minutes=45), due_at=started + datetime.timedelta(hours=1), status=status,
            breached_at=started + datetime.timedelta(hours=1) if breached else None,
        )

    for status, breached in [("met", False), ("met", False), ("late", True), ("open", True), ("open", False), ("cancelled", False)]:
        clock(north, "mql_first_touch", status, breached=breached)
    clock(north, "handoff_decision", "met")
    clock(south, "mql_first_touch", "late", breached=True)  # another team
    clock(north, "mql_first_touch", "late", breached=True, started=JAN - datetime.timedelta(days=60))  # before the range


def test_sla_compliance_by_clock_kind(clocks, north):
    f = m.Filters(datetime.date(2026, 1, 1), datetime.date(2026, 1, 31), (north.pk,))
    rows = {r.key: r for r in m.sla_compliance(f)}
    overall, mql, handoff = rows[""], rows["mql_first_touch"], rows["handoff_decision"]
    assert (mql.total, mql.met, mql.late, mql.breached_open, mql.open, mql.rate) == (5, 2, 1, 1, 1, 50.0)
    assert (handoff.total, handoff.met, handoff.rate) == (1, 1, 100.0)
    assert (overall.label, overall.total, overall.decided, overall.rate) == ("All clocks", 6, 5, 60.0)


def test_sla_table_on_the_quality_page_and_csv(client, clocks, maria):
    login(client, maria)
    html = client.get("/metrics/quality/?start=2026-01-01&end=2026-01-31").content.decode()
    assert 'id="sla-table"' in html and "60%" in html
    csv_text = client.get("/metrics/quality/?start=2026-01-01&end=2026-01-31&export=sla").content.decode()
    assert csv_text.splitlines()[1] == "All clocks,6,3,1,1,1,60.0"
