import datetime

import pytest
from django.utils import timezone

from qualify.errors import DomainError
from qualify.leads import lifecycle
from qualify.leads.lifecycle import ALLOWED
from qualify.leads.models import DisqualifyReason, Lead, Stage, StageChange
from qualify.leads.touches import log_touch
from tests.factories import LeadFactory

ALL_PAIRS = [(a, b) for a in Stage.values for b in Stage.values]


def _reason(action="close"):
    return DisqualifyReason.objects.filter(action=action, active=True, note_required=True).first()


def _kwargs_for(to):
    if to == Stage.NURTURE:
        return {"recycle_on": timezone.localdate() + datetime.timedelta(days=30), "reason": _reason("nurture")}
    if to == Stage.DISQUALIFIED:
        return {"reason": _reason("close")}
    return {}


@pytest.mark.parametrize(("src", "dst"), [p for p in ALL_PAIRS if p[1] in ALLOWED[p[0]]])
def test_allowed_transition_moves_and_records_history(src, dst, alice, north):
    lead = LeadFactory(team=north, owner=alice, stage=src)
    lifecycle.move_stage(lead, to=dst, by=alice, why="because", **_kwargs_for(dst))
    lead.refresh_from_db()
    assert lead.stage == dst
    change = StageChange.objects.get(lead=lead)
    assert (change.from_stage, change.to_stage, change.by, change.why) == (src, dst, alice, "because")


@pytest.mark.parametrize(("src", "dst"), [p for p in ALL_PAIRS if p[1] not in ALLOWED[p[0]]])
def test_illegal_transition_is_refused_and_changes_nothing(src, dst, alice, north):
    lead = LeadFactory(team=north, owner=alice, stage=src)
    with pytest.raises(DomainError, match="cannot move"):
        lifecycle.move_stage(lead, to=dst, by=alice, **_kwargs_for(dst))
    lead.refresh_from_db()
    assert lead.stage == src
    assert not StageChange.objects.filter(lead=lead).exists()


def test_unknown_stage_is_refused(alices_lead, alice):
    with pytest.raises(DomainError, match="not a stage"):
        lifecycle.move_stage(alices_lead, to="limbo", by=alice)


def test_move_with_stale_expectation_is_refused(alices_lead, alice):
    lifecycle.move_stage(alices_lead, to=Stage.WORKING, by=alice)
    stale = Lead.objects.get(pk=alices_lead.pk)
    stale.stage = Stage.NEW  # what a second browser tab still shows
    with pytest.raises(DomainError, match="someone else changed it first"):
        lifecycle.move_stage(stale, to=Stage.MQL, by=alice, expect=Stage.NEW)
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.WORKING


def test_nurture_without_recycle_date_is_refused(alices_lead, alice):
    with pytest.raises(DomainError, match="recycle date"):
        lifecycle.move_stage(alices_lead, to=Stage.NURTURE, by=alice, reason=_reason("nurture"))
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.NEW


def test_nurture_in_the_past_is_refused(alices_lead, alice):
    with pytest.raises(DomainError, match="future"):
        lifecycle.nurture(alices_lead, reason=_reason("nurture"), note="Budget next year, call in Q3", by=alice,
                          recycle_on=timezone.localdate())


def test_nurture_with_a_reason_that_does_not_nurture_is_refused(alices_lead, alice):
    for action in ("close", "back_to_sdr"):
        with pytest.raises(DomainError, match="does not nurture"):
            lifecycle.nurture(alices_lead, reason=_reason(action) or DisqualifyReason.objects.filter(action=action).first(),
                              note="Budget next year, call in Q3", by=alice)
    assert Lead.objects.get(pk=alices_lead.pk).stage == Stage.NEW


def test_nurture_defaults_recycle_date_from_reason(alices_lead, alice):
    reason = DisqualifyReason.objects.get(name="Bad timing")
    lifecycle.nurture(alices_lead, reason=reason, note="Re-org until spring, call back", by=alice)
    alices_lead.refresh_from_db()
    assert alices_lead.stage == Stage.NURTURE
    assert alices_lead.recycle_on == timezone.localdate() + datetime.timedelta(days=reason.recycle_days)
    assert alices_lead.disqualify_reason == reason


def test_disqualify_with_short_note_changes_nothing(alices_lead, alice):
    reason = DisqualifyReason.objects.get(name="Other")
    with pytest.raises(DomainError, match="at least 40 characters"):
        lifecycle.disqualify(alices_lead, reason=reason, note="meh", by=alice)
    alices_lead.refresh_from_db()
    assert alices_lead.stage == Stage.NEW
    assert not StageChange.objects.filter(lead=alices_lead).exists()


def test_retired_reason_cannot_be_used(alices_lead, alice):
    reason = DisqualifyReason.objects.get(name="Duplicate")
    reason.active = False
    reason.save()
    with pytest.raises(DomainError, match="retired"):
        lifecycle.disqualify(alices_lead, reason=reason, note="", by=alice)


def test_apply_reason_sends_lead_where_reason_says(alice, north):
    for name, expected in [("No authority", Stage.WORKING), ("No budget", Stage.NURTURE), ("No ICP fit", Stage.DISQUALIFIED)]:
        lead = LeadFactory(team=north, owner=alice, stage=Stage.HANDED_OFF)
        lifecycle.apply_reason(lead, reason=DisqualifyReason.objects.get(name=name), note="Explained at length here", by=alice)
        lead.refresh_from_db()
        assert lead.stage == expected, name


def test_recycle_brings_back_exactly_the_due_leads_once(alice, north):
    today = timezone.localdate()
    reason = _reason("nurture")
    due = LeadFactory(team=north, owner=alice, stage=Stage.NURTURE, recycle_on=today - datetime.timedelta(days=1), disqualify_reason=reason)
    due_today = LeadFactory(team=north, owner=alice, stage=Stage.NURTURE, recycle_on=today, disqualify_reason=reason)
    later = LeadFactory(team=north, owner=alice, stage=Stage.NURTURE, recycle_on=today + datetime.timedelta(days=1))
    assert lifecycle.recycle_due(today=today) == 2
    assert lifecycle.recycle_due(today=today) == 0
    for lead in (due, due_today, later):
        lead.refresh_from_db()
    assert (due.stage, due_today.stage, later.stage) == (Stage.WORKING, Stage.WORKING, Stage.NURTURE)
    change = StageChange.objects.get(lead=due)
    assert change.to_stage == Stage.WORKING and change.by is None
    day = today - datetime.timedelta(days=1)
    assert change.why == f"Recycle date {day.day} {day:%b %Y} reached"  # "4 Dec 2026", not "2026-12-04"
    assert change.reason == reason
    assert StageChange.objects.filter(lead=due_today).count() == 1


def test_first_touch_moves_new_lead_to_working(alices_lead, alice):
    log_touch(alices_lead, by=alice, kind="call", outcome="connected", note="Spoke 10 min")
    alices_lead.refresh_from_db()
    assert alices_lead.stage == Stage.WORKING
    assert alices_lead.last_touch_at is not None


def test_touch_with_bad_outcome_writes_nothing(alices_lead, alice):
    with pytest.raises(DomainError):
        log_touch(alices_lead, by=alice, kind="call", outcome="teleported")
    assert not alices_lead.touches.exists()
    alices_lead.refresh_from_db()
    assert alices_lead.stage == Stage.NEW


def test_stage_history_is_append_only(alices_lead, alice):
    from django.db import ProgrammingError, transaction

    lifecycle.move_stage(alices_lead, to=Stage.WORKING, by=alice)
    with pytest.raises(ProgrammingError, match="Cannot update"), transaction.atomic():
        StageChange.objects.filter(lead=alices_lead).update(why="rewritten")


def test_lead_changes_are_audited_with_the_actor(alices_lead, alice):
    import pghistory

    with pghistory.context(user=alice.pk):
        lifecycle.move_stage(alices_lead, to=Stage.WORKING, by=alice)
    rows = list(alices_lead.history.order_by("pgh_id"))
    assert rows[-1].stage == Stage.WORKING
    assert rows[-1].pgh_context.metadata["user"] == alice.pk


def test_handed_off_lead_cannot_be_nurtured_or_disqualified_around_the_ae(alice, north):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.HANDED_OFF)
    with pytest.raises(DomainError, match="waiting for an AE"):
        lifecycle.disqualify(lead, reason=_reason("close"), note="Not a fit after all, sorry", by=alice)
    with pytest.raises(DomainError, match="waiting for an AE"):
        lifecycle.nurture(lead, reason=_reason("nurture"), note="Maybe later this year", by=alice)
    assert lifecycle.manual_next(Stage.HANDED_OFF) == []
    assert Lead.objects.get(pk=lead.pk).stage == Stage.HANDED_OFF


@pytest.mark.django_db
@pytest.mark.parametrize("verb", ["disqualify", "nurture"])
def test_a_handoff_landing_after_the_read_still_stops_nurture_and_disqualify(verb, alice, north):
    """The page read the lead as Working; before the verb locks it, the SDR's other tab hands it
    off. The verb must see that under its lock, not close the brand-new handoff's lead."""
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    Lead.objects.filter(pk=lead.pk).update(stage=Stage.HANDED_OFF)  # `lead` still says Working
    kind = "close" if verb == "disqualify" else "nurture"
    with pytest.raises(DomainError, match="waiting for an AE"):
        getattr(lifecycle, verb)(lead, reason=_reason(kind), note="Not a fit after all, sorry", by=alice)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.HANDED_OFF
    assert not StageChange.objects.filter(lead=lead).exists()


@pytest.mark.django_db
def test_move_many_moves_only_leads_still_where_the_caller_saw_them(alice, north):
    reason = _reason("nurture")
    fresh = LeadFactory(team=north, owner=alice, stage=Stage.NEW)
    nurtured = LeadFactory(
        team=north, owner=alice, stage=Stage.NURTURE, disqualify_reason=reason,
        recycle_on=timezone.localdate() + datetime.timedelta(days=9),
    )
    moved_on = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)  # seen as New, now Working
    closed = LeadFactory(team=north, owner=alice, stage=Stage.WON)  # Won → MQL is not a move
    moves = {fresh.pk: (Stage.NEW, "a"), nurtured.pk: (Stage.NURTURE, "b"), moved_on.pk: (Stage.NEW, "c"),
             closed.pk: (Stage.WON, "d")}

    assert sorted(lifecycle.move_many(moves, to=Stage.MQL, by=None)) == sorted([fresh.pk, nurtured.pk])

    stages = dict(Lead.objects.values_list("pk", "stage"))
    assert (stages[moved_on.pk], stages[closed.pk]) == (Stage.WORKING, Stage.WON)
    back = Lead.objects.get(pk=nurtured.pk)
    assert back.stage == Stage.MQL and back.recycle_on is None and back.disqualify_reason is None
    history = StageChange.objects.filter(to_stage=Stage.MQL).order_by("lead_id")
    assert [(c.lead_id, c.from_stage, c.why) for c in history] == [(fresh.pk, Stage.NEW, "a"), (nurtured.pk, Stage.NURTURE, "b")]


@pytest.mark.django_db
@pytest.mark.parametrize("to", [Stage.NURTURE, Stage.DISQUALIFIED, "nowhere"])
def test_move_many_refuses_moves_that_need_more_and_changes_nothing(alice, north, to):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.NEW)
    with pytest.raises(DomainError):
        lifecycle.move_many({lead.pk: (Stage.NEW, "x")}, to=to, by=None)
    assert Lead.objects.get(pk=lead.pk).stage == Stage.NEW and not StageChange.objects.filter(lead=lead).exclude(from_stage="").exists()
