"""The figures in SQL on a hand-made set of closed leads: which rules fired (as the explanation
says, as of close), counts, lift, bands, reasons, the window, and the current-state fallback."""

import datetime

import pytest
from django.db import connection, transaction

from qualify.calibration import figures
from qualify.leads.models import DisqualifyReason, Seniority
from qualify.scoring import engine, sql
from qualify.scoring.models import ScoreSnapshot
from qualify.scoring.ranking import to_us
from qualify.scoring.scores import spec_for_version
from tests.calibration.conftest import DISQUALIFIED, LOST, NOW, WON, closed, rule
from tests.factories import EventFactory


def _scope(model, *teams, days=365):
    return figures.scope_for(model, tuple(t.pk for t in teams), days, now=NOW)


def test_rules_fired_are_the_explanations_lines_as_of_close(north, model):
    """The SQL decides 'fired' the way the engine's explanation does, with events up to close only."""
    leads = [
        closed(north, WON, model=model, before=["demo_request", "form_fill"], after=["webinar_attended"],
               seniority=Seniority.VP),
        closed(north, LOST, model=model, before=["email_click"], after=["demo_request"], email="x@gmail.com"),
        closed(north, DISQUALIFIED, model=model, after=["intent_surge"], seniority=Seniority.STUDENT),
    ]
    EventFactory(lead=leads[1], type="page_view", properties={"page_category": "pricing"},
                 occurred_at=leads[1].stage_changed_at - datetime.timedelta(days=3))
    spec = spec_for_version(model.current_version)
    params = {"since": NOW - datetime.timedelta(days=365), "teams": [north.pk], "model": model.pk}
    with transaction.atomic(), connection.cursor() as cur, figures.closed_table(cur, params):
        cur.execute(figures.fired_sql(spec), {"version": model.current_version_id})
        got: dict[int, set[int]] = {}
        for lead_id, key in cur.fetchall():
            got.setdefault(lead_id, set()).add(key)
    for lead in leads:
        lead.refresh_from_db()
        cut = to_us(lead.stage_changed_at)
        events = [engine.Ev(e.id, to_us(e.occurred_at), e.type, e.properties) for e in lead.events.all() if to_us(e.occurred_at) <= cut]
        lines = engine.score(spec, sql.lead_facts(lead), events, cut).lines
        assert got.get(lead.pk, set()) == {line.rule for line in lines}, lead
    assert rule(model, "Demo request").pk in got[leads[0].pk]
    assert rule(model, "Webinar attended").pk not in got[leads[0].pk]  # after it closed
    assert rule(model, "Demo request").pk not in got[leads[1].pk]
    assert rule(model, "Free-mail address").pk in got[leads[1].pk]


def test_counts_lift_and_bands_on_a_hand_made_set(north, model):
    # 4 won, 6 lost; a demo request before close on 3 won and 1 lost, and after close on a lost one.
    for i in range(4):
        closed(north, WON, model=model, score=80 + i, before=["demo_request"] if i < 3 else [])
    for i in range(6):
        closed(north, LOST, model=model, score=20 + i, before=["demo_request"] if i == 0 else [],
               after=["demo_request"] if i == 1 else [])
    r = figures.compute(_scope(model, north), min_sample=2)
    assert (r.closed, r.won, r.lost, r.disqualified, r.current_state) == (10, 4, 6, 0, 0)
    assert r.base == 0.4
    demo = next(x for x in r.rules if x.label == "Demo request")
    assert (demo.counts.eligible, demo.counts.eligible_won, demo.counts.fired, demo.counts.fired_won) == (10, 4, 4, 3)
    assert demo.counts.fired_rate == 0.75 and demo.counts.not_fired_rate == pytest.approx(1 / 6)
    assert demo.counts.lift == pytest.approx(0.75 / 0.4)
    assert demo.points == 30 and not demo.below_floor
    # Ten distinct scores: ten bands of one lead each, lowest first.
    assert [(b.low, b.high, b.leads, b.won) for b in r.bands] == [(s, s, 1, int(s >= 80)) for s in [20, 21, 22, 23, 24, 25, 80, 81, 82, 83]]
    # Thresholds from the highest recorded score: at 60, the 4 won leads and nobody else.
    at60 = next(t for t in r.thresholds if t.threshold == 60)
    assert (at60.mqls, at60.won, at60.won_share, at60.conversion, at60.current) == (4, 4, 1.0, 1.0, True)


def test_the_highest_recorded_score_counts_for_the_threshold(north, model):
    lead = closed(north, LOST, model=model, score=30)
    ScoreSnapshot.objects.create(lead=lead, version=model.current_version, kind="mql", stage="mql", on=NOW.date(),
                                 at=lead.stage_changed_at - datetime.timedelta(days=5), score=72)
    r = figures.compute(_scope(model, north))
    assert next(t for t in r.thresholds if t.threshold == 70).mqls == 1
    assert r.bands[0].low == 30  # the bands stay on the score at close


def test_reasons_list_the_rules_that_fired_most_on_leads_disqualified_with_them(north, model):
    no_fit = DisqualifyReason.objects.create(name="No ICP fit (test)", action="close")
    for _ in range(3):
        closed(north, DISQUALIFIED, model=model, reason=no_fit, before=["form_fill"], email="a@gmail.com")
    closed(north, DISQUALIFIED, model=model, reason=no_fit, before=["careers"])
    closed(north, LOST, model=model, before=["form_fill", "form_fill"])
    r = figures.compute(_scope(model, north))
    [row] = r.reasons
    assert (row.name, row.leads) == ("No ICP fit (test)", 4)
    top = {x.label: n for x, n in row.top}
    assert top["Form fill"] == 3 and top["Free-mail address"] == 3
    assert "Careers page visit" not in top  # 'careers' is no event type a rule counts


def test_the_window_and_the_teams_decide_which_closed_leads_count(north, south, model):
    closed(north, WON, model=model, days_ago=10)
    closed(north, LOST, model=model, days_ago=100)
    closed(south, WON, model=model, days_ago=10)
    assert figures.compute(_scope(model, north, days=30)).closed == 1
    assert figures.compute(_scope(model, north, days=365)).closed == 2
    assert figures.compute(_scope(model, north, south)).closed == 3


def test_a_lead_with_no_score_recorded_at_close_is_explained_in_its_current_state(north, model):
    closed(north, WON, model=model, score=64, recorded=False, after=["demo_request"])
    closed(north, LOST, model=model, score=20)
    r = figures.compute(_scope(model, north))
    assert (r.closed, r.current_state) == (2, 1)
    demo = next(x for x in r.rules if x.label == "Demo request")
    assert (demo.counts.fired, demo.counts.fired_won) == (1, 1)  # all its events count, the late one too
    assert [b.low for b in r.bands] == [20, 64]  # its current score


def test_drill_down_lists_the_leads_behind_a_band_a_rule_and_a_reason(north, south, model):
    a = closed(north, WON, model=model, score=81, before=["demo_request"])
    b = closed(north, LOST, model=model, score=30)
    closed(south, WON, model=model, score=81, before=["demo_request"])
    scope = _scope(model, north)
    rows, total = figures.drill_down(scope, band=(80, 90))
    assert [x.pk for x in rows] == [a.pk] and total == 1 and rows[0].score_at_close == 81
    rows, total = figures.drill_down(scope, rule=rule(model, "Demo request").pk)
    assert [x.pk for x in rows] == [a.pk]
    rows, total = figures.drill_down(scope, outcome=LOST)
    assert [x.pk for x in rows] == [b.pk]
