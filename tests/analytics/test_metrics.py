"""Each metric on the hand-computed funnel of conftest.py."""

import datetime

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from qualify.analytics import metrics as m
from qualify.analytics.models import LeadFact
from qualify.analytics.rollups import refresh
from qualify.leads.models import Stage, StageChange

from .conftest import at


@pytest.fixture
def north_f(north):
    return m.Filters(datetime.date(2026, 1, 1), datetime.date(2026, 2, 28), (north.pk,))


def test_funnel_totals_follow_the_stage_history(refreshed, north_f):
    t = m.funnel_total(north_f)
    assert (t.leads, t.mql, t.handed_off, t.accepted, t.opportunity, t.won, t.lost) == (5, 4, 2, 2, 1, 1, 1)
    assert t.mql_rate == 80.0 and t.accept_rate == 50.0 and t.opp_rate == 50.0 and t.won_from_opp == 100.0
    assert t.lead_to_won == 20.0 and t.win_rate == 50.0


def test_a_lead_that_skipped_mql_still_reached_it(refreshed):
    fact = LeadFact.objects.get(lead_id=refreshed["l3"].pk)
    assert fact.mql_at == at(11)  # its move to Working, a later funnel stage
    assert LeadFact.objects.get(lead_id=refreshed["l4"].pk).mql_at is None


def test_funnel_by_source(refreshed, north_f):
    rows = {r.key: r for r in m.funnel_by(north_f, "source")}
    assert set(rows) == {"inbound", "outbound", "event"}
    inbound = rows["inbound"]
    assert (inbound.leads, inbound.mql, inbound.accepted, inbound.opportunity, inbound.won, inbound.lost) == (3, 3, 2, 1, 1, 1)
    assert inbound.label == "Inbound" and inbound.lead_to_won == 33.3
    assert (rows["outbound"].leads, rows["outbound"].mql, rows["outbound"].won) == (1, 1, 0)
    assert (rows["event"].leads, rows["event"].mql) == (1, 0)


def test_funnel_by_segment_and_persona(refreshed, north_f):
    seg = {r.key: r.leads for r in m.funnel_by(north_f, "segment")}
    assert seg == {"mid_market": 4, "enterprise": 1}
    persona = m.funnel_by(north_f, "persona")
    assert [(r.label, r.leads) for r in persona] == [("Unknown", 5)]


def test_funnel_by_rep_credits_the_sdr_who_handed_off(refreshed, north_f, alice, bob, erin):
    sdr = {r.label: (r.leads, r.accepted, r.won) for r in m.funnel_by(north_f, "sdr")}
    assert sdr == {"Alice Adams": (3, 2, 1), "Bob Brown": (2, 0, 0)}
    ae = {r.label: r.won for r in m.funnel_by(north_f, "ae")}
    assert ae == {"Erin Evans": 1, "Unassigned": 0}


def test_monthly_cohorts(refreshed, north_f):
    months = m.cohorts(north_f)
    assert [(r.key, r.leads, r.mql, r.won) for r in months] == [("2026-01", 4, 3, 1), ("2026-02", 1, 1, 0)]


def test_date_range_is_by_creation_date(refreshed, north):
    feb = m.Filters(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28), (north.pk,))
    assert m.funnel_total(feb).leads == 1


def test_other_teams_are_not_counted(refreshed, north_f, south):
    assert m.funnel_total(north_f).won == 1
    both = m.Filters(north_f.start, north_f.end, (*north_f.team_ids, south.pk))
    assert m.funnel_total(both).won == 2


def test_speed_to_lead(refreshed, north_f):
    t = m.funnel_total(north_f)
    assert (t.speed_n, t.speed_5m, t.speed_1h, t.speed_1d, t.unanswered) == (3, 1, 1, 3, 1)
    assert t.avg_speed_minutes == 521.0  # (3 min + 120 min + 1440 min) / 3


def test_time_in_stage(refreshed, north_f):
    t = m.funnel_total(north_f)
    assert t.stage_time["new"][0] == 4 and t.avg_stage_days("new") == 0.27  # (1 h + 0 + 24 h + 1 h) / 4
    assert t.avg_stage_days("mql") == 1.48  # (23 h + 48 h) / 2
    assert t.avg_stage_days("working") == 4.0  # (1 + 2 + 9) / 3, L2 worked twice
    assert t.avg_stage_days("handed_off") == 1.5
    assert t.avg_stage_days("accepted") == 11.5
    assert t.avg_stage_days("opportunity") == 20.0


def test_sales_cycle_and_win_rate(refreshed, north_f):
    t = m.funnel_total(north_f)
    assert t.avg_cycle_days == 30.0
    assert m.median_cycle_days(north_f) == {"": 30.0}
    by = {r.key: r for r in m.funnel_by(north_f, "source", with_median=True)}
    assert by["inbound"].median_cycle_days == 30.0 and by["inbound"].win_rate == 50.0
    assert by["outbound"].median_cycle_days is None and by["outbound"].win_rate is None


def test_handoff_acceptance_and_rejection_pareto(refreshed, north_f):
    (alice_row,) = m.acceptance_by(north_f, "sdr")
    assert (alice_row.label, alice_row.handed_off, alice_row.accepted, alice_row.rejected, alice_row.rate) == (
        "Alice Adams", 3, 2, 1, 66.7)
    overall, per_source = m.rejection_pareto(north_f)
    assert [(b.reason, b.count, b.cumulative) for b in overall] == [("Not enough discovery", 1, 100.0)]
    assert [(p.label, p.total) for p in per_source] == [("Inbound", 1)]


def test_pareto_sorts_and_accumulates():
    bars = m.pareto([("B", 3), ("A", 5), ("C", 2)])
    assert [(b.reason, b.share, b.cumulative) for b in bars] == [("A", 50.0, 50.0), ("B", 30.0, 80.0), ("C", 20.0, 100.0)]
    assert m.pareto([]) == []


def test_consistency_compares_each_rep_with_peers_on_the_same_mix():
    # Stratum x: peers accept 8/10; stratum y: 2/10. Ann works mostly y, so her 30% is about expected.
    rows = [("ann", "x", 2, 2), ("ann", "y", 1, 8), ("ben", "x", 8, 10), ("ben", "y", 2, 10), ("cat", "z", 1, 1)]
    out = {r.rep: r for r in m.consistency_from(rows)}
    ann = out["ann"]
    assert ann.rate == 30.0
    assert ann.expected == pytest.approx(round(100 * (2 * 0.8 + 8 * 0.2) / 10, 1))  # 32.0
    assert ann.gap == -2.0
    assert out["ben"].expected == pytest.approx(round(100 * (10 * 1.0 + 10 * 0.125) / 20, 1))  # 56.2
    assert out["cat"].expected is None and out["cat"].comparable == 0  # nobody else saw stratum z


def test_incremental_refresh_recomputes_only_leads_that_changed(refreshed, north_f, alice, monkeypatch):
    from qualify.analytics import rollups

    # No re-scan margins (ids just below the watermark, rows updated just before the last run), so
    # the count is exact.
    monkeypatch.setattr(rollups, "ID_SAFETY", 0)
    monkeypatch.setattr(rollups, "TIME_SAFETY", datetime.timedelta(0))
    l5 = refreshed["l5"]
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)):
        StageChange.objects.create(lead=l5, from_stage=Stage.MQL, to_stage=Stage.WORKING, at=at(6, 2), by=alice)
        result = refresh()
    assert result.ran and not result.full
    assert result.leads == 1
    assert result.cells == 1  # North, Feb 5
    assert m.funnel_total(north_f).stage_time["mql"][0] == 3


def test_concurrent_refresh_returns_at_once(refreshed):
    from django.db import connection

    from qualify.analytics.rollups import LOCK_KEY

    with connection.cursor() as c:
        c.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        import threading

        results = []
        def other_worker():
            try:
                results.append(refresh())
            finally:
                connection.close()  # this thread's own session, else open until the garbage collector finds it

        t = threading.Thread(target=other_worker)
        t.start()
        t.join()
        assert results and not results[0].ran
    finally:
        with connection.cursor() as c:
            c.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])


def test_full_refresh_is_idempotent(refreshed, north_f):
    before = m.funnel_total(north_f)
    refresh(full=True)
    refresh()
    assert m.funnel_total(north_f) == before


def _snapshot():
    from qualify.analytics.models import FunnelRollup, HandoffRollup, WonDeal

    skip = {"id"}
    rollup = {
        (r.dim, r.team_id, r.day, r.key): tuple(round(getattr(r, f.attname), 3) if isinstance(getattr(r, f.attname), float)
                                                else getattr(r, f.attname) for f in FunnelRollup._meta.fields if f.attname not in skip)
        for r in FunnelRollup.objects.all()
    }
    handoffs = sorted(HandoffRollup.objects.values_list("day", "team_id", "sdr_id", "source", "segment", "status", "reason_id", "n"))
    won = sorted(WonDeal.objects.values_list("lead_id", "seconds"))
    return rollup, handoffs, won


def test_incremental_refresh_gives_what_a_full_rebuild_gives(refreshed, north, south, alice, bob, erin, monkeypatch):
    """Apply a mix of changes, refresh incrementally (a delta on the rollups), then compare every
    rollup row with a full rebuild from scratch."""
    from qualify.analytics import rollups
    from qualify.handoff.models import Handoff
    from qualify.leads.models import Lead, Touch
    from tests.factories import LeadFactory

    monkeypatch.setattr(rollups, "ID_SAFETY", 0)
    monkeypatch.setattr(rollups, "TIME_SAFETY", datetime.timedelta(0))
    l3, l4, l5 = refreshed["l3"], refreshed["l4"], refreshed["l5"]
    with time_machine.travel(datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=1)):
        # A lead moves on and gets touched, another is won, one moves team, a new one arrives.
        StageChange.objects.create(lead=l5, from_stage=Stage.MQL, to_stage=Stage.WORKING, at=at(6, 2), by=alice)
        Touch.objects.create(lead=l5, author=alice, kind="call", outcome="connected", occurred_at=at(5, 2, hour=2))
        for i, to in enumerate([Stage.NEW, Stage.MQL, Stage.WORKING, Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON]):
            StageChange.objects.create(lead=l4, from_stage="", to_stage=to, at=at(11 + i), by=bob)
        Lead.objects.filter(pk=l3.pk).update(team=south, updated_at=datetime.datetime.now(datetime.UTC))
        LeadFactory(team=north, owner=bob, created_at=at(7, 2), updated_at=datetime.datetime.now(datetime.UTC))
        # Handoffs are created "now" (never backdated): the refresh finds them by timestamp.
        Handoff.objects.create(lead=l5, team=north, from_user=alice, to_user=erin, next_step="Call on Monday", source="inbound",
                               status="pending")
        Handoff.objects.filter(lead=refreshed["l1"]).update(status="rejected", reason_id=Handoff.objects.filter(
            reason__isnull=False).values_list("reason_id", flat=True)[0], decided_at=datetime.datetime.now(datetime.UTC))
        result = refresh()
    assert result.ran and not result.full
    incremental = _snapshot()
    refresh(full=True)
    assert incremental == _snapshot()


@given(
    start=st.dates(min_value=datetime.date(2024, 1, 1), max_value=datetime.date(2026, 12, 31)),
    days=st.integers(min_value=0, max_value=800),
)
def test_grain_filter_covers_every_day_of_the_range_exactly_once(start, days):
    """Model the rows as (grain, day) for every day and month start of three years, and check the
    selected ones cover each day in [start, end] once and nothing outside it."""
    end = start + datetime.timedelta(days=days)
    q = m.grain_q(start, end)
    covered: list[datetime.date] = []
    d = datetime.date(2023, 12, 1)
    while d <= datetime.date(2030, 1, 1):
        if _matches(q, "d", d):
            covered.append(d)
        if d.day == 1 and _matches(q, "m", d):
            nxt = m._month_after(d)
            covered += [d + datetime.timedelta(days=i) for i in range((nxt - d).days)]
        d += datetime.timedelta(days=1)
    assert sorted(covered) == [start + datetime.timedelta(days=i) for i in range(days + 1)]


def _matches(q, grain, day) -> bool:
    """Evaluate the Q of grain_q on one (grain, day) row in Python."""
    from django.db.models import Q

    if isinstance(q, Q) and q.children and all(isinstance(c, tuple) for c in q.children) and q.connector == "AND":
        ok = True
        for key, value in q.children:
            field, _, op = key.partition("__")
            actual = grain if field == "grain" else day
            ok &= {"": actual == value, "gte": actual >= value, "lt": actual < value, "lte": actual <= value}[op]
        return ok != q.negated
    results = [_matches(c, grain, day) for c in q.children]
    return any(results) if q.connector == "OR" else all(results)
