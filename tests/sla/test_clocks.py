"""Clocks start on the right events, stop on the right actions, and follow reassignment."""

import datetime

import pytest

from qualify.handoff.workflow import accept, hand_off, reject
from qualify.leads.assignment import assign, claim
from qualify.leads.lifecycle import move_stage, nurture, recycle_due
from qualify.leads.models import DisqualifyReason, Lead, Stage
from qualify.leads.touches import log_touch
from qualify.lookups import reused_lookups
from qualify.sla.clocks import choose_policy, start_clock, start_touch_clocks
from qualify.sla.models import (
    BusinessCalendar,
    CalendarHoliday,
    Clock,
    ClockKind,
    ClockSchedule,
    ClockStatus,
    OnReassign,
    SlaPolicy,
    TeamCalendar,
    WorkingHours,
)
from tests.factories import LeadFactory
from tests.handoff.conftest import qualify_fully

from .conftest import at

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"
HOUR = datetime.timedelta(hours=1)


def clocks(lead, kind=None):
    qs = Clock.objects.filter(lead=lead)
    return list(qs.filter(kind=kind) if kind else qs)


# --- starting ----------------------------------------------------------------------------------


def test_owned_lead_entering_mql_starts_first_touch_clock(frozen, alices_lead, alice, make_mql, mql_policy):
    make_mql(alices_lead)

    [clock] = clocks(alices_lead)
    assert (clock.kind, clock.owner, clock.policy, clock.status) == (ClockKind.MQL_FIRST_TOUCH, alice, mql_policy, "open")
    assert clock.started_at == at(2025, 3, 4, 10, 0)
    assert clock.due_at == at(2025, 3, 4, 11, 0)  # 1 business hour
    assert clock.warn_at == at(2025, 3, 4, 10, 45)  # 75 %
    assert clock.schedule.next_action_at == clock.warn_at and clock.schedule.next_step == 0
    # The ladder: warning, breach, notify at breach, reassign +1h, pool +4h (business time).
    assert [k for k, _ in clock.plan] == ["warning", "breach", "notify", "reassign", "return_to_pool"]
    assert [s for _, s in clock.steps()][2:] == [at(2025, 3, 4, 11), at(2025, 3, 4, 12), at(2025, 3, 4, 15)]


def test_mql_clock_late_in_the_day_is_due_next_morning(frozen, alices_lead, make_mql):
    frozen.move_to(at(2025, 3, 7, 16, 30))  # Friday 16:30
    make_mql(alices_lead)
    assert clocks(alices_lead)[0].due_at == at(2025, 3, 10, 9, 30)  # Monday 9:30


def test_team_calendar_with_time_zone_and_holidays_sets_the_deadline(frozen, alices_lead, north, make_mql):
    ny = BusinessCalendar.objects.create(name="New York", time_zone="America/New_York", country="US", subdivision="NY")
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=ny, weekday=d, start=datetime.time(9), end=datetime.time(17)) for d in range(5)
    )
    CalendarHoliday.objects.create(calendar=ny, date=datetime.date(2025, 7, 7), name="Company day")
    TeamCalendar.objects.create(team=north, calendar=ny)
    frozen.move_to(at(2025, 7, 3, 20, 30))  # Thursday 16:30 in New York; Friday 4 July is a holiday
    make_mql(alices_lead)
    # 30 min on Thursday, then Friday (public), the weekend and Monday (custom) are closed.
    assert clocks(alices_lead)[0].due_at == at(2025, 7, 8, 13, 30)  # Tuesday 9:30 EDT


def test_unowned_mql_starts_no_clock_until_someone_owns_it(frozen, pool_lead, bob, make_mql):
    make_mql(pool_lead)
    assert clocks(pool_lead) == []  # no routing rules: it waits in the pool

    frozen.move_to(at(2025, 3, 4, 13, 0))
    claim(pool_lead, by=bob)
    [clock] = clocks(pool_lead)
    assert (clock.owner, clock.started_at, clock.due_at) == (bob, at(2025, 3, 4, 13), at(2025, 3, 4, 14))


def test_assigning_a_lead_that_is_not_an_mql_starts_nothing(frozen, pool_lead, bob):
    assign(pool_lead, owner=bob, by=None)
    assert clocks(pool_lead) == []


def test_double_start_keeps_one_running_clock(frozen, alices_lead, mql_policy):
    alices_lead = Lead.objects.select_related("account").get(pk=alices_lead.pk)
    first = start_clock(alices_lead, ClockKind.MQL_FIRST_TOUCH, owner_id=alices_lead.owner_id)
    second = start_clock(alices_lead, ClockKind.MQL_FIRST_TOUCH, owner_id=alices_lead.owner_id)
    assert first.pk == second.pk
    assert Clock.objects.filter(lead=alices_lead, status="open").count() == 1


def test_a_batch_of_clock_starts_reads_policies_and_calendars_once(
    frozen, alices_lead, mql_policy, north, django_assert_num_queries
):
    other = Lead.objects.select_related("account").get(pk=LeadFactory(team=north, owner=alices_lead.owner, stage=Stage.MQL).pk)
    alices_lead = Lead.objects.select_related("account").get(pk=alices_lead.pk)
    with reused_lookups():
        start_clock(alices_lead, ClockKind.MQL_FIRST_TOUCH, owner_id=alices_lead.owner_id)
        with django_assert_num_queries(1):  # the clock with its schedule: no policy, no calendar
            second = start_clock(other, ClockKind.MQL_FIRST_TOUCH, owner_id=other.owner_id)
    assert second.policy == mql_policy
    # Outside a batch every start reads them again, so an admin's edit applies at once.
    third = LeadFactory(team=north, owner=alices_lead.owner, stage=Stage.MQL)
    with django_assert_num_queries(4):  # policies and calendar read again
        start_clock(Lead.objects.select_related("account").get(pk=third.pk), ClockKind.MQL_FIRST_TOUCH, owner_id=third.owner_id)



def test_touch_clocks_for_a_batch_start_in_one_insert_and_skip_running_ones(
    frozen, alices_lead, mql_policy, north, django_assert_num_queries
):
    owner = alices_lead.owner
    fresh = [LeadFactory(team=north, owner=owner, stage=Stage.MQL) for _ in range(3)]
    running = start_clock(
        Lead.objects.select_related("account").get(pk=alices_lead.pk), ClockKind.MQL_FIRST_TOUCH, owner_id=owner.pk
    )
    leads = list(Lead.objects.select_related("account").filter(pk__in=[alices_lead.pk, *(lead.pk for lead in fresh)]))
    with reused_lookups():
        # Policies and calendar are read here; alice's lead already has its clock.
        assert start_touch_clocks([lead for lead in leads if lead.pk == alices_lead.pk], ClockKind.MQL_FIRST_TOUCH) == []
        with django_assert_num_queries(1):
            started = start_touch_clocks(leads, ClockKind.MQL_FIRST_TOUCH)
    assert sorted(c.lead_id for c in started) == sorted(lead.pk for lead in fresh)
    assert Clock.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH, status="open").count() == 4
    assert Clock.objects.get(lead=alices_lead, status="open").pk == running.pk
    for clock in started:
        schedule = ClockSchedule.objects.get(clock_id=clock.pk)
        assert (clock.owner_id, schedule.next_step, schedule.next_action_at) == (owner.pk, 0, clock.warn_at)

# --- stopping ----------------------------------------------------------------------------------


def test_touch_in_time_meets_the_clock(frozen, alices_lead, alice, make_mql):
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 10, 40))
    log_touch(alices_lead, by=alice, kind="call", outcome="connected")

    clock = clocks(alices_lead)[0]
    assert (clock.status, clock.closed_at, clock.closed_by) == (ClockStatus.MET, at(2025, 3, 4, 10, 40), alice)
    assert clock.closed_note == "Touch: Call: Connected"
    assert not ClockSchedule.objects.filter(clock=clock).exists()  # nothing left for the sweep


def test_touch_after_the_deadline_is_late(frozen, alices_lead, alice, make_mql):
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 11, 30))
    log_touch(alices_lead, by=alice, kind="email", outcome="sent")
    assert clocks(alices_lead)[0].status == ClockStatus.LATE


def test_touch_logged_late_but_made_in_time_counts_as_met(frozen, alices_lead, alice, make_mql):
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 12, 0))
    log_touch(alices_lead, by=alice, kind="call", outcome="voicemail", occurred_at=at(2025, 3, 4, 10, 50))
    assert clocks(alices_lead)[0].status == ClockStatus.MET


def test_touch_dated_before_the_clock_started_does_not_stop_it(frozen, alices_lead, alice, make_mql):
    make_mql(alices_lead)
    log_touch(alices_lead, by=alice, kind="call", outcome="voicemail", occurred_at=at(2025, 3, 3, 15, 0))
    assert clocks(alices_lead)[0].status == ClockStatus.OPEN


def test_moving_a_lead_to_working_without_a_touch_keeps_the_clock(frozen, alices_lead, alice, make_mql, on_commit):
    make_mql(alices_lead)
    with on_commit():
        move_stage(alices_lead, to=Stage.WORKING, by=alice)
    assert clocks(alices_lead)[0].status == ClockStatus.OPEN


def test_nurturing_cancels_the_touch_clock(frozen, alices_lead, alice, make_mql, on_commit):
    make_mql(alices_lead)
    reason = DisqualifyReason.objects.get(name="Bad timing")
    with on_commit():
        nurture(alices_lead, reason=reason, note="Call back next quarter", by=alice)
    clock = clocks(alices_lead)[0]
    assert (clock.status, clock.closed_note) == (ClockStatus.CANCELLED, "Lead moved to Nurture")


def test_recycled_lead_gets_a_touch_again_clock(frozen, alice, north, recycle_policy, on_commit):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.NURTURE, recycle_on=datetime.date(2025, 3, 4))
    with on_commit():
        assert recycle_due(today=datetime.date(2025, 3, 4)) == 1
    [clock] = clocks(lead)
    assert (clock.kind, clock.owner, clock.policy) == (ClockKind.RECYCLED_TOUCH, alice, recycle_policy)
    assert clock.due_at == at(2025, 3, 5, 10, 0)  # 8 business hours = one business day

    log_touch(lead, by=alice, kind="call", outcome="connected")
    assert clocks(lead)[0].status == ClockStatus.MET


def test_manually_recycled_lead_into_mql_gets_only_the_recycle_clock(frozen, alice, north, make_mql):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.NURTURE)
    make_mql(lead)
    assert [c.kind for c in clocks(lead)] == [ClockKind.RECYCLED_TOUCH]


# --- handoffs ----------------------------------------------------------------------------------


@pytest.fixture
def handed_off(frozen, alice, erin, north):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    return hand_off(lead, to=erin, by=alice, next_step=NEXT)


def test_hand_off_starts_the_aes_clock(handed_off, erin, handoff_policy):
    [clock] = clocks(handed_off.lead, ClockKind.HANDOFF_DECISION)
    assert (clock.owner, clock.handoff, clock.policy) == (erin, handed_off, handoff_policy)
    assert clock.due_at == at(2025, 3, 4, 14, 0)  # 4 business hours


def test_accept_stops_the_handoff_clock(handed_off, erin, frozen):
    frozen.move_to(at(2025, 3, 4, 13, 0))
    accept(handed_off, by=erin)
    clock = clocks(handed_off.lead, ClockKind.HANDOFF_DECISION)[0]
    assert (clock.status, clock.closed_by, clock.closed_note) == (ClockStatus.MET, erin, "Handoff accepted")


def test_late_reject_stops_the_handoff_clock_as_late(handed_off, erin, frozen):
    frozen.move_to(at(2025, 3, 5, 10, 0))
    reason = DisqualifyReason.objects.get(name="No budget")
    reject(handed_off, by=erin, reason=reason, note="No budget this year, confirmed with the CFO")
    clock = clocks(handed_off.lead, ClockKind.HANDOFF_DECISION)[0]
    assert clock.status == ClockStatus.LATE
    assert clock.closed_note == "Handoff rejected: No budget"


def test_refused_accept_leaves_the_clock_running(handed_off, bob):
    from qualify.errors import DomainError

    with pytest.raises(DomainError):
        accept(handed_off, by=bob)
    assert clocks(handed_off.lead, ClockKind.HANDOFF_DECISION)[0].status == ClockStatus.OPEN


# --- reassignment --------------------------------------------------------------------------------


def test_keep_policy_hands_the_running_clock_to_the_new_owner(frozen, alices_lead, bob, maria, make_mql):
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 10, 30))
    assign(alices_lead, owner=bob, by=maria)
    [clock] = clocks(alices_lead)
    assert (clock.owner, clock.status, clock.due_at) == (bob, ClockStatus.OPEN, at(2025, 3, 4, 11, 0))


def test_restart_policy_starts_a_fresh_clock_for_the_new_owner(frozen, alices_lead, bob, maria, make_mql, mql_policy):
    mql_policy.on_reassign = OnReassign.RESTART
    mql_policy.save()
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 10, 30))
    assign(alices_lead, owner=bob, by=maria)
    old, new = sorted(clocks(alices_lead), key=lambda c: c.pk)
    assert (old.status, old.closed_note) == (ClockStatus.CANCELLED, "Restarted: the lead was reassigned")
    assert (new.owner, new.status, new.due_at) == (bob, ClockStatus.OPEN, at(2025, 3, 4, 11, 30))


def test_return_to_pool_keeps_the_clock_even_under_restart(frozen, alices_lead, maria, make_mql, mql_policy):
    mql_policy.on_reassign = OnReassign.RESTART
    mql_policy.save()
    make_mql(alices_lead)
    assign(alices_lead, owner=None, by=maria)
    [clock] = clocks(alices_lead)
    assert (clock.owner, clock.status) == (None, ClockStatus.OPEN)


# --- choosing the policy ---------------------------------------------------------------------------


def policy(**kw):
    defaults = {"kind": ClockKind.MQL_FIRST_TOUCH, "target_minutes": 30, "position": 10}
    return SlaPolicy.objects.create(**{**defaults, **kw})


def test_first_matching_policy_wins_and_default_catches_the_rest(db, mql_policy):
    enterprise = policy(name="Enterprise", segment="enterprise", position=20)
    inbound_ent = policy(name="Inbound enterprise", segment="enterprise", source="inbound", position=10)
    all_policies = SlaPolicy.objects.all()
    pick = lambda **facts: choose_policy(all_policies.filter(kind=ClockKind.MQL_FIRST_TOUCH), team_id=1, **facts)
    assert pick(segment="enterprise", source="inbound", grade="") == inbound_ent
    assert pick(segment="enterprise", source="event", grade="") == enterprise
    assert pick(segment="smb", source="inbound", grade="") == mql_policy


def test_grade_condition_never_matches_a_lead_without_a_grade(db, mql_policy):
    graded = policy(name="A-grade", grade="A")
    candidates = SlaPolicy.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH)
    assert choose_policy(candidates, team_id=1, segment="smb", source="inbound", grade="A") == graded
    assert choose_policy(candidates, team_id=1, segment="smb", source="inbound", grade="") == mql_policy


def test_inactive_policies_are_ignored(db, mql_policy):
    policy(name="Off", active=False)
    candidates = SlaPolicy.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH)
    assert choose_policy(candidates, team_id=1, segment="", source="inbound", grade="") == mql_policy


def test_segment_policy_applies_to_its_leads(frozen, alice, north, make_mql):
    policy(name="Enterprise in 30 min", segment="enterprise")
    lead = LeadFactory(team=north, owner=alice, account__segment="enterprise")
    make_mql(lead)
    clock = clocks(lead)[0]
    assert (clock.policy.name, clock.due_at) == ("Enterprise in 30 min", at(2025, 3, 4, 10, 30))


def test_default_policy_with_conditions_is_refused_by_the_database(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        policy(name="Bad default", is_default=True, kind=ClockKind.RECYCLED_TOUCH, segment="smb")


def test_a_team_calendar_without_working_hours_starts_no_clock_and_blocks_no_handoff(frozen, alice, erin, north):
    """RevOps saved a calendar with no hours (or every day closed) and gave it to the team: the
    deadline cannot be computed. The handoff still happens; only its clock is missing."""
    empty = BusinessCalendar.objects.create(name="Nobody works")
    TeamCalendar.objects.create(team=north, calendar=empty)
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    handoff = hand_off(lead, to=erin, by=alice, next_step=NEXT)
    assert handoff.pk and Lead.objects.get(pk=lead.pk).stage == Stage.HANDED_OFF
    assert clocks(lead, ClockKind.HANDOFF_DECISION) == []
