"""Every sort of the queue (queue.SORTS), both directions: keyset pages list each row exactly once,
in the order the sort promises, ties broken by id; the total; bad sort input falls back quietly."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Case, IntegerField, Value, When
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qualify.leads import queue
from qualify.leads.models import NEVER, Lead, Property, Stage, StageRank
from qualify.leads.queue import SORTS, count_leads, load_queue
from qualify.sla.models import BusinessCalendar, Clock, ClockKind, ClockStatus, SlaPolicy
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory

NOW = timezone.now().replace(microsecond=0)
RANK = {s: i for i, s in enumerate(Stage.values)}


def _walk(user, per: int, **params) -> list[int]:
    seen, after, pages = [], "", 0
    while True:
        query = QueryDict(mutable=True)
        query.update({"per": str(per), **params})
        if after:
            query["after"] = after
        page = load_queue(user, query, count=False)
        seen += [lead.pk for lead in page.leads]
        pages += 1
        assert pages < 200, "the cursor does not advance"
        if not page.next_after:
            return seen
        after = page.next_after


def _clock(lead, due: datetime.datetime, status=ClockStatus.OPEN, kind=ClockKind.MQL_FIRST_TOUCH) -> Clock:
    return Clock.objects.create(
        lead=lead, team=lead.team, policy=SlaPolicy.objects.filter(kind=kind).order_by("id").first(),
        calendar=BusinessCalendar.objects.order_by("id").first(), kind=kind, owner=lead.owner,
        started_at=due - datetime.timedelta(hours=4), warn_at=due - datetime.timedelta(hours=1), due_at=due, status=status,
    )


@pytest.fixture
def mixed(alice, north):
    """Leads of alice with ties in every sort key (score, touch time, creation time, stage,
    predicted conversion), some never touched or not predicted, and running clocks on some (two on one lead, a closed one on another)."""
    stages = [Stage.NEW, Stage.MQL, Stage.WORKING]
    leads = []
    for i in range(19):
        lead = LeadFactory(
            team=north, owner=alice, score=[5, 5, 9][i % 3], stage=stages[i % 3],
            last_touch_at=None if i % 4 == 0 else NOW - datetime.timedelta(hours=i % 2),
            created_at=NOW - datetime.timedelta(days=i % 3), predicted=[None, 0.3, 0.3, 0.7][i % 4],
        )
        leads.append(lead)
    for i, lead in enumerate(leads[:8]):
        _clock(lead, NOW + datetime.timedelta(hours=i % 2))
    _clock(leads[0], NOW - datetime.timedelta(hours=3), kind=ClockKind.RECYCLED_TOUCH)  # its soonest clock
    _clock(leads[10], NOW - datetime.timedelta(hours=9), status=ClockStatus.MET)  # stopped: no SLA due
    return leads


def _expected(leads, name: str, descending: bool) -> list[int]:
    def key(lead: Lead):
        if name == "score":
            return lead.score
        if name == "last_touch":
            return lead.last_touch_at or NEVER
        if name == "created":
            return lead.created_at
        if name == "stage":
            return RANK[lead.stage]
        if name == "predicted":
            return -1 if lead.predicted is None else lead.predicted  # not predicted yet: last
        return min(c.due_at for c in lead.sla_clocks.filter(status=ClockStatus.OPEN))

    rows = [lead for lead in leads if name != "sla_due" or lead.sla_clocks.filter(status=ClockStatus.OPEN).exists()]
    return [lead.pk for lead in sorted(rows, key=lambda lead: (key(lead), lead.pk), reverse=descending)]


@pytest.mark.parametrize("name", list(SORTS))
@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_every_sort_pages_through_every_row_once_in_order(alice, mixed, name, direction):
    for lead in mixed:
        lead.refresh_from_db()
    expected = _expected(mixed, name, direction == "desc")
    assert expected, "the fixture gives every sort rows"
    for per in (1, 3, 7, 50):
        assert _walk(alice, per, sort=name, dir=direction) == expected, (name, direction, per)


def test_the_default_direction_is_the_useful_one(alice, mixed):
    assert _walk(alice, 50, sort="last_touch") == _walk(alice, 50, sort="last_touch", dir="asc")  # stale first
    assert _walk(alice, 50, sort="created") == _walk(alice, 50, sort="created", dir="desc")  # newest first
    assert _walk(alice, 50) == _walk(alice, 50, sort="score", dir="desc")


@pytest.mark.parametrize("params", [
    {"sort": "nonsense"}, {"sort": "score", "dir": "sideways"}, {"sort": "created", "after": "not-a-date:12"},
    {"sort": "last_touch", "after": "2026-01-01T00:00:00:x"}, {"sort": "last_touch", "after": "2026-01-01T00:00:00:5"},
    {"sort": "stage", "after": "::"},
])
def test_bad_sort_input_falls_back_without_error(client, alice, mixed, params):
    response = login(client, alice).get("/queue/", params)
    assert response.status_code == 200
    assert response.content.count(b'class="lead-row"') == len(mixed)


def test_a_cursor_from_another_sort_is_ignored_not_misread(alice, mixed):
    page = load_queue(alice, QueryDict("sort=score&per=2"))
    created = QueryDict(mutable=True)
    created.update({"sort": "created", "after": page.next_after, "per": "50"})
    assert len(load_queue(alice, created).leads) == len(mixed)


def test_the_column_headers_flip_the_current_sort_and_say_which_it_is(client, alice, mixed):
    body = login(client, alice).get("/queue/", {"sort": "created", "dir": "desc"}).content.decode()
    assert 'aria-sort="descending"' in body
    assert "sort=created&amp;dir=asc" in body  # the current column's link flips
    assert "sort=last_touch&amp;dir=asc" in body  # the others start at their default


def test_sla_due_sort_says_it_lists_running_clocks_only(client, alice, mixed):
    body = login(client, alice).get("/queue/", {"sort": "sla_due"}).content.decode()
    assert "Leads with a running SLA clock" in body
    assert body.count('class="lead-row"') == 8


def test_search_matches_title_too(client, alice, north):
    LeadFactory(team=north, owner=alice, title="Head of Robotics Procurement", first_name="Zed")
    LeadFactory(team=north, owner=alice, title="CFO", first_name="Yan", account=AccountFactory(team=north, name="Acme"))
    body = login(client, alice).get("/queue/", {"q": "procurement"}).content.decode()
    assert "Zed" in body and "Yan" not in body


# The expression leads 0016 built lead_owner_stage_rank and lead_team_stage_rank with.
INDEXED_STAGE_RANK = Case(
    *[When(stage=value, then=Value(rank)) for rank, value in enumerate(Stage.values)], output_field=IntegerField(),
)


def test_the_stage_sort_compiles_to_the_indexed_expression(alice, mixed):
    # Postgres uses an expression index only for the very same expression: StageRank (cheap to
    # build) must write what the Case the indexes were built with writes.
    def final_sql(expression):
        sql, params = Lead.objects.filter(owner=alice).annotate(k=expression).values("k").query.sql_with_params()
        with connection.cursor() as cursor:
            return cursor.cursor.mogrify(sql, params)

    assert final_sql(StageRank()) == final_sql(INDEXED_STAGE_RANK)
    qs = queue.sorted_leads(Lead.objects.filter(owner=alice, stage__in=["new", "mql", "working"]), "stage", False)
    sql, params = qs.values("pk")[:51].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "lead_owner_stage_rank" in plan, plan


# --- the total ------------------------------------------------------------------------------


def test_total_is_exact_when_small(client, alice, mixed):
    body = login(client, alice).get("/queue/total/", {"per": 2}, HTTP_HX_REQUEST="true").content.decode()
    assert f"{len(mixed)} leads" in body and 'id="queue-total"' in body and "<html" not in body
    assert str(count_leads(Lead.objects.filter(owner=alice))) == str(len(mixed))


def test_the_page_shows_its_rows_without_counting_and_asks_for_the_total_after(client, alice, mixed):
    login(client, alice)
    with CaptureQueriesContext(connection) as page:
        body = client.get("/queue/", {"stage": "mql", "sort": "created"}).content.decode()
    assert not any("count(*)" in q["sql"] for q in page.captured_queries)
    # The placeholder asks for the same list's total: same scope, filters and sort.
    assert 'hx-get="/queue/total/?' in body and "Counting…" in body
    url = body.split('hx-get="/queue/total/?', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    assert {"stage=mql", "sort=created", "scope=mine"} <= set(url.split("&"))
    total = client.get("/queue/total/?" + url, HTTP_HX_REQUEST="true").content.decode()
    mqls = sum(1 for lead in mixed if lead.stage == Stage.MQL)
    assert f"{mqls} lead" in total and "hx-get" not in total  # the total replaces the placeholder for good


def test_total_counts_only_what_the_user_may_see(client, alice, charlie, south, mixed):
    LeadFactory.create_batch(3, team=south, owner=charlie)
    body = login(client, charlie).get("/queue/total/", {"scope": "mine"}).content.decode()
    assert "3 leads" in body
    # alice's team pool or whole team is not charlie's to count: his scope falls back to his own.
    body = client.get("/queue/total/", {"scope": "team"}).content.decode()
    assert "3 leads" in body and f"{len(mixed)}" not in body


def test_total_of_an_invalid_filter_is_zero_and_changes_nothing(client, alice, mixed):
    body = login(client, alice).get("/queue/total/", {"stage": "nonsense"}).content.decode()
    assert "0 leads" in body


def test_total_is_capped(alice, mixed, monkeypatch):
    monkeypatch.setattr(queue, "COUNT_CAP", 10)
    total = count_leads(Lead.objects.filter(owner=alice))
    assert (total.kind, str(total)) == ("capped", "10+")


def test_total_past_its_time_budget_is_an_estimate_said_as_such(alice, mixed, monkeypatch):
    monkeypatch.setattr(queue, "COUNT_BUDGET_MS", 5)
    slow = Lead.objects.filter(owner=alice).extra(where=["pg_sleep(0.01) IS NOT NULL"])
    total = count_leads(slow)
    assert total.kind == "estimate" and str(total).startswith("about ")
    # The budget ended with the count: the next statement runs without it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] in ("0", "0ms")


def test_a_large_estimate_of_plain_filters_answers_without_counting(alice, mixed, monkeypatch):
    # Stage, source, segment, owner and team have column statistics: past ESTIMATE_FIRST_OVER the
    # count would only say "COUNT_CAP+", so the estimate answers and no count runs.
    monkeypatch.setattr(queue, "ESTIMATE_FIRST_OVER", 1)
    with CaptureQueriesContext(connection) as ran:
        page = load_queue(alice, QueryDict("source=inbound&stage=mql"), rows=False)
    assert page.total.kind == "estimate" and str(page.total).startswith("about ")
    assert not any("count(*)" in q["sql"] for q in ran.captured_queries)
    assert sum("EXPLAIN" in q["sql"] for q in ran.captured_queries) == 1


@pytest.mark.parametrize("params", ["q=ann", "sla=breached", "prop.visits.min=3", "sort=sla_due"])
def test_a_search_a_property_an_sla_state_or_the_sla_sort_is_counted_however_large_the_estimate(
        alice, mixed, monkeypatch, params):
    # The planner's estimate is not trusted there (a trigram search, an id array, a JSON path).
    Property.objects.create(key="visits", label="Visits", kind="number")
    monkeypatch.setattr(queue, "ESTIMATE_FIRST_OVER", 1)
    with CaptureQueriesContext(connection) as ran:
        page = load_queue(alice, QueryDict(params), rows=False)
    assert page.total.kind == "exact"
    assert any("count(*)" in q["sql"] for q in ran.captured_queries)


def test_a_count_past_its_budget_after_an_estimate_asks_the_planner_once(alice, mixed, monkeypatch):
    monkeypatch.setattr(queue, "COUNT_BUDGET_MS", 5)
    slow = Lead.objects.filter(owner=alice).extra(where=["pg_sleep(0.01) IS NOT NULL"])
    with CaptureQueriesContext(connection) as ran:
        total = count_leads(slow, estimate_first=True)
    assert total.kind == "estimate"
    assert sum("EXPLAIN" in q["sql"] for q in ran.captured_queries) == 1


def test_the_planner_knows_a_rep_decides_the_team(alice, bob, charlie, north, south):
    # leads 0025: dependency statistics on (team, owner). Without them Postgres multiplies the two
    # selectivities and estimates half of a rep's leads in a two-team table.
    accounts = {team.pk: AccountFactory(team=team) for team in (north, south)}
    Lead.objects.bulk_create(
        Lead(first_name="x", team=team, owner=owner, account=accounts[team.pk], stage=Stage.NEW)
        for owner, team in ((alice, north), (bob, north), (charlie, south), (None, north), (None, south))
        for _ in range(400)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    estimate = queue._estimate(Lead.objects.filter(team=north, owner=alice))
    assert 320 <= estimate <= 480, estimate


def test_a_small_estimate_is_counted_exactly(alice, mixed):
    page = load_queue(alice, QueryDict("stage=mql"), rows=False)
    assert (page.total.kind, page.total.value) == ("exact", sum(1 for lead in mixed if lead.stage == Stage.MQL))


def test_load_more_does_not_count(client, alice, mixed):
    login(client, alice)
    page = load_queue(alice, QueryDict("per=2"))
    with CaptureQueriesContext(connection) as more:
        client.get("/queue/", {"per": 2, "after": page.next_after}, HTTP_HX_REQUEST="true")
    assert not any("count(*)" in q["sql"] for q in more.captured_queries)


# --- the rep filter and owner column ------------------------------------------------------


def test_manager_filters_the_team_by_rep_and_sees_owners(client, maria, alice, bob, north):
    LeadFactory(team=north, owner=alice, first_name="Alicelead")
    LeadFactory(team=north, owner=bob, first_name="Boblead")
    body = login(client, maria).get("/queue/", {"scope": "team", "owner": alice.pk}).content.decode()
    assert 'aria-label="Rep"' in body
    assert "Alicelead" in body and "Boblead" not in body
    assert alice.get_full_name() in body  # the owner column


def test_an_sdr_gets_no_rep_filter_and_no_reassign(client, alice, north):
    LeadFactory(team=north, owner=alice)
    body = login(client, alice).get("/queue/").content.decode()
    assert 'aria-label="Rep"' not in body and 'value="reassign"' not in body


def test_rep_filter_cannot_reach_another_team(client, maria, charlie, south):
    LeadFactory(team=south, owner=charlie, first_name="Southsecret")
    body = login(client, maria).get("/queue/", {"scope": "team", "owner": charlie.pk}).content.decode()
    assert "Southsecret" not in body
