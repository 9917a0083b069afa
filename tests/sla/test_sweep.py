"""The sweep: warnings, breaches and the escalation ladder, each acted on exactly once."""

import datetime
import importlib

import pytest
from django.apps import apps as live_apps
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualify.leads.models import Lead
from qualify.leads.touches import log_touch
from qualify.routing.models import Assignment, Method, RoundRobinCursor, RoutingRule
from qualify.sla import sweep as sweep_module
from qualify.sla.models import Clock, ClockSchedule, ClockStatus, Escalation, StepKind
from qualify.notifications.models import EmailState, Notification
from tests.conftest import login
from qualify.notifications.delivery import send_pending_emails
from qualify.sla.sweep import sweep
from qualify.sla.tasks import sweep as sweep_task
from tests.factories import LeadFactory

from .conftest import at


def steps(clock):
    return list(Escalation.objects.filter(clock=clock).order_by("step").values_list("step", "kind"))


def notes_for(user):
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def mql_clock(frozen, alices_lead, make_mql, maria):
    make_mql(alices_lead)
    return Clock.objects.get(lead=alices_lead)


def test_nothing_due_does_nothing(mql_clock):
    result = sweep()
    assert (result.clocks, result.steps) == (0, 0)
    assert not Escalation.objects.exists()


def test_warning_notifies_the_owner_only(frozen, mql_clock, alice, maria):
    frozen.move_to(at(2025, 3, 4, 10, 45))
    result = sweep()
    assert (result.clocks, result.steps, result.by_kind["warning"]) == (1, 1, 1)
    assert steps(mql_clock) == [(0, StepKind.WARNING)]
    assert notes_for(alice) == ["sla_warning"] and notes_for(maria) == []
    mql_clock.refresh_from_db()
    schedule = ClockSchedule.objects.get(clock=mql_clock)
    assert (schedule.next_step, schedule.next_action_at, mql_clock.breached_at) == (1, at(2025, 3, 4, 11), None)


def test_breach_records_it_and_notifies_owner_and_manager(frozen, mql_clock, alice, maria):
    frozen.move_to(at(2025, 3, 4, 11, 0))
    sweep()
    assert steps(mql_clock) == [(0, "warning"), (1, "breach"), (2, "notify")]
    mql_clock.refresh_from_db()
    assert mql_clock.breached_at == at(2025, 3, 4, 11, 0)
    assert mql_clock.status == ClockStatus.OPEN  # still waiting for the touch
    # The warning's moment (10:45) passed while no sweep ran: recorded, but nobody hears "at risk"
    # beside "breached".
    assert notes_for(alice) == ["sla_breach"]
    assert notes_for(maria) == ["sla_breach"]
    warning = Escalation.objects.get(clock=mql_clock, step=0)
    assert warning.superseded and warning.superseded_by == Escalation.objects.get(clock=mql_clock, step=1)
    breach_note = Notification.objects.select_related("lead").get(user=maria)
    # The one date format, in the calendar's zone (titles are stored text: made right at send time).
    assert breach_note.title == "SLA breached: first touch was due 4 Mar 2025, 11:00 UTC"
    assert breach_note.headline == "Dana Diaz — SLA breached: first touch was due 4 Mar 2025, 11:00 UTC"
    assert Escalation.objects.get(clock=mql_clock, step=1).detail.startswith("Due 4 Mar 2025, 11:00 UTC; owner ")
    assert breach_note.url == f"/leads/{mql_clock.lead_id}/"
    assert Escalation.objects.get(clock=mql_clock, step=2).detail == "Notified Alice, Maria"


def test_a_warning_on_time_then_the_breach_each_tell_the_owner(frozen, mql_clock, alice, maria):
    frozen.move_to(at(2025, 3, 4, 10, 46))
    sweep()
    frozen.move_to(at(2025, 3, 4, 11, 1))
    sweep()
    assert notes_for(alice) == ["sla_warning", "sla_breach"] and notes_for(maria) == ["sla_breach"]
    assert not Escalation.objects.get(clock=mql_clock, step=0).superseded


def test_each_step_happens_once_however_often_the_sweep_runs(frozen, mql_clock):
    frozen.move_to(at(2025, 3, 4, 11, 5))
    first = sweep()
    again = sweep()
    assert first.steps == 3 and again.steps == 0
    assert Escalation.objects.count() == 3
    assert Notification.objects.count() == 2  # the breach to alice and maria (the warning came with it)


def test_a_touch_before_the_due_time_prevents_the_breach(frozen, mql_clock, alice):
    frozen.move_to(at(2025, 3, 4, 10, 50))
    sweep()
    log_touch(mql_clock.lead, by=alice, kind="call", outcome="connected")
    frozen.move_to(at(2025, 3, 4, 18, 0))
    assert sweep().steps == 0
    assert steps(mql_clock) == [(0, "warning")]


def test_escalation_reassigns_through_routing_then_returns_to_pool(frozen, mql_clock, alice, bob, maria, north):
    RoutingRule.objects.create(name="North SDRs", team=north, method=Method.ROUND_ROBIN)
    frozen.move_to(at(2025, 3, 4, 12, 0))  # one business hour past due
    sweep()
    lead = Lead.objects.get(pk=mql_clock.lead_id)
    assert lead.owner == bob
    reassigned = Escalation.objects.get(clock=mql_clock, kind=StepKind.REASSIGN)
    assert reassigned.detail == "Reassigned from Alice Adams to Bob Brown by North SDRs"
    a = Assignment.objects.filter(lead=lead).latest("id")
    assert (a.from_user, a.to_user, a.rule_name, a.by) == (alice, bob, "North SDRs", None)
    assert a.why.startswith("SLA escalation: first touch overdue since 4 Mar 2025, 11:00 UTC")
    mql_clock.refresh_from_db()
    assert mql_clock.owner == bob  # the default policy keeps the clock
    assert "assigned" in notes_for(bob)

    frozen.move_to(at(2025, 3, 4, 15, 0))
    sweep()
    lead.refresh_from_db()
    assert lead.owner is None
    assert Escalation.objects.get(clock=mql_clock, kind=StepKind.RETURN_TO_POOL).detail == "Returned to the North pool (was Bob Brown)"
    mql_clock.refresh_from_db()
    assert mql_clock.status == ClockStatus.OPEN  # still waiting for a touch
    assert not ClockSchedule.objects.filter(clock=mql_clock).exists()  # but the ladder is finished


def test_reassign_with_nobody_else_available_keeps_the_owner(frozen, mql_clock, alice):
    frozen.move_to(at(2025, 3, 4, 12, 0))
    sweep()
    assert Lead.objects.get(pk=mql_clock.lead_id).owner == alice
    assert Escalation.objects.get(clock=mql_clock, kind=StepKind.REASSIGN).detail == "No other rep available; stays with Alice Adams"


def test_a_sweep_that_was_down_for_hours_changes_ownership_once(frozen, mql_clock, bob, north, client, maria):
    RoutingRule.objects.create(name="North SDRs", team=north, method=Method.ROUND_ROBIN)
    frozen.move_to(at(2025, 3, 5, 9, 0))  # every step is overdue
    result = sweep()
    assert result.steps == 5
    assert Lead.objects.get(pk=mql_clock.lead_id).owner is None  # straight to the pool
    skipped = Escalation.objects.get(clock=mql_clock, kind=StepKind.REASSIGN)
    assert skipped.detail == "Superseded by a later step in the same sweep."
    assert skipped.superseded and skipped.superseded_by == Escalation.objects.get(clock=mql_clock, kind=StepKind.RETURN_TO_POOL)
    assert not skipped.superseded_by.superseded
    assert not Assignment.objects.filter(lead_id=mql_clock.lead_id, to_user=bob).exists()
    # The breaches page shows that rung as skipped, not in red among the things that happened.
    html = login(client, maria).get("/sla/breaches/").content.decode()
    assert html.count('class="sla-step-skipped"') == 1 and "(skipped)" in html


def overdue_leads_of(owner, team, make_mql, count):
    """`count` MQLs of `owner`, their first touch one business hour overdue at Tuesday 12:00."""
    return [make_mql(LeadFactory(team=team, owner=owner)) for _ in range(count)]


@pytest.mark.parametrize(("count", "notices"), [(5, 1), (2, 2)])
def test_a_sweep_reassigning_more_than_three_leads_to_one_rep_tells_them_once(
    frozen, alice, bob, north, make_mql, count, notices
):
    leads = overdue_leads_of(alice, north, make_mql, count)
    RoutingRule.objects.create(name="North SDRs", team=north, method=Method.ROUND_ROBIN)
    frozen.move_to(at(2025, 3, 4, 12, 0))
    sweep()
    ids = [lead.pk for lead in leads]
    assert set(Lead.objects.filter(pk__in=ids).values_list("owner", flat=True)) == {bob.pk}
    # Every lead keeps its own record and its own rung's account of what happened.
    assert Assignment.objects.filter(lead__in=ids, from_user=alice, to_user=bob, rule_name="North SDRs").count() == count
    assert set(Escalation.objects.filter(lead__in=ids, kind=StepKind.REASSIGN).values_list("detail", flat=True)) == {
        "Reassigned from Alice Adams to Bob Brown by North SDRs"
    }
    told = Notification.objects.filter(user=bob, kind="assigned")
    assert told.count() == notices
    if count > 3:
        assert told.get().title == f"{count} leads reassigned to you"


def test_a_sweep_reassigning_more_leads_costs_no_more_queries(frozen, alice, bob, north, make_mql):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rule = RoutingRule.objects.create(name="North SDRs", team=north, method=Method.ROUND_ROBIN)
    RoundRobinCursor.objects.create(rule=rule)
    costs = []
    for count, hour in ((2, 12), (6, 15)):
        ClockSchedule.objects.all().delete()  # the earlier round's later rungs stay out of this one
        frozen.move_to(at(2025, 3, 4, hour - 2, 0))
        overdue_leads_of(alice, north, make_mql, count)
        frozen.move_to(at(2025, 3, 4, hour, 0))
        with CaptureQueriesContext(connection) as queries:
            assert sweep().by_kind["reassign"] == count
        costs.append(len(queries))
    assert costs[0] == costs[1]


def test_failure_mid_batch_rolls_back_and_the_next_sweep_redoes_it(frozen, mql_clock, monkeypatch):
    frozen.move_to(at(2025, 3, 4, 11, 0))
    real = sweep_module._notify

    def boom(acted, now):
        raise RuntimeError("worker died")

    monkeypatch.setattr(sweep_module, "_notify", boom)
    with pytest.raises(RuntimeError):
        sweep()
    assert not Escalation.objects.exists() and not Notification.objects.exists()
    assert ClockSchedule.objects.get(clock=mql_clock).next_step == 0

    monkeypatch.setattr(sweep_module, "_notify", real)
    assert sweep().steps == 3
    assert Notification.objects.count() == 2  # the breach's, to alice and maria


def test_steps_already_recorded_are_not_acted_on_again(frozen, mql_clock):
    """The UNIQUE(clock, step) guard: even if a clock's cursor were stale, no second notification."""
    frozen.move_to(at(2025, 3, 4, 11, 0))
    sweep()
    ClockSchedule.objects.filter(clock=mql_clock).update(next_step=0, next_action_at=at(2025, 3, 4, 10, 45))
    Clock.objects.filter(pk=mql_clock.pk).update(breached_at=None)
    result = sweep()
    assert result.clocks == 1 and result.steps == 0
    assert Notification.objects.count() == 2  # the breach's, to alice and maria
    mql_clock.refresh_from_db()
    assert ClockSchedule.objects.get(clock=mql_clock).next_step == 3  # cursor repaired
    assert mql_clock.breached_at == at(2025, 3, 4, 11)


def test_sweep_query_count_does_not_grow_with_clocks_not_due(frozen, alice, north, make_mql, django_assert_num_queries):
    due = LeadFactory(team=north, owner=alice)
    make_mql(due)
    frozen.move_to(at(2025, 3, 4, 12, 0))
    for _ in range(30):
        make_mql(LeadFactory(team=north, owner=alice))  # started later: not due
    frozen.move_to(at(2025, 3, 4, 10, 45))
    ClockSchedule.objects.exclude(clock__lead=due).update(next_action_at=at(2025, 3, 6, 9))
    # savepoint, claim, insert escalations, advance, the recipients' notification preferences,
    # notifications, webhook endpoints subscribed to the batch's steps (qualify/webhooks/outbox.py),
    # release (a warning needs no managers)
    with django_assert_num_queries(8):
        result = sweep()
    assert result.clocks == 1


def test_handoff_breach_notifies_the_ae_and_manager_but_never_reassigns(frozen, erin, maria, alice, north):
    from qualify.handoff.workflow import hand_off
    from qualify.leads.models import Stage
    from tests.handoff.conftest import qualify_fully

    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    hand_off(lead, to=erin, by=alice, next_step="Demo Tuesday 10:00 with the CFO")
    frozen.move_to(at(2025, 3, 5, 10, 0))  # 4 business hours later (Tue 14:00 due) + 4 more
    sweep()
    clock = Clock.objects.get(lead=lead)
    assert [k for _, k in steps(clock)] == ["warning", "breach", "notify", "notify_managers"]
    assert notes_for(erin) == ["handoff_received", "sla_breach"]  # the warning came with the breach
    assert notes_for(maria) == ["sla_breach", "sla_escalation"]
    assert Lead.objects.get(pk=lead.pk).ae == erin


def test_breach_without_an_owner_still_notifies_managers(frozen, pool_lead, maria, bob, make_mql):
    from qualify.leads.assignment import assign, claim

    make_mql(pool_lead)
    claim(pool_lead, by=bob)
    assign(pool_lead, owner=None, by=maria)
    frozen.move_to(at(2025, 3, 4, 10, 46))
    sweep()
    frozen.move_to(at(2025, 3, 4, 11, 0))
    sweep()
    # Nobody owns it, so the team's managers hear about the warning too.
    assert notes_for(maria) == ["sla_warning", "sla_breach"]
    assert notes_for(bob) == []


def test_sweep_task_sends_breach_emails_but_not_warnings(frozen, mql_clock, alice, maria, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen.move_to(at(2025, 3, 4, 11, 0))
    summary = sweep_task()
    assert summary.startswith("1 clocks, 3 steps")
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@example.com", "maria@example.com"]
    assert mail.outbox[0].subject == "[Qualify] Dana Diaz — SLA breached: first touch was due 4 Mar 2025, 11:00 UTC"
    assert f"/leads/{mql_clock.lead_id}/" in mail.outbox[0].body
    assert Notification.objects.filter(email_state=EmailState.PENDING).count() == 0
    assert send_pending_emails() == 0  # nothing sent twice


def test_email_failure_keeps_them_queued(frozen, mql_clock, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    frozen.move_to(at(2025, 3, 4, 11, 0))
    sweep()

    def down(self, messages):
        raise OSError("SMTP down")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", down)
    assert send_pending_emails() == 0
    assert Notification.objects.filter(email_state=EmailState.PENDING).count() == 2
    monkeypatch.undo()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_pending_emails() == 2


def test_beat_entry_is_shipped(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="sla.sweep")
    assert (task.interval.every, task.interval.period, task.enabled) == (1, "minutes", True)



# The db fixture is read-only here (one SELECT per example), so sharing it across examples is safe.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00")))))
def test_array_literal_round_trips_through_postgres(db, values):
    """The sweep's hand-made array literals come back from Postgres exactly as they went in."""
    from django.db import connection

    from qualify.sla.sweep import array_literal

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [array_literal(values)])
        assert cursor.fetchone()[0] == values


def test_array_literal_of_numbers_and_times(db):
    from django.db import connection

    from qualify.sla.sweep import array_literal

    times = [at(2025, 3, 4, 11), None]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::bigint[], %s::bigint[], %s::timestamptz[]",
            [array_literal([1, None, 2**40], "int"), array_literal([3, 4], "int"), array_literal(times, "time")],
        )
        assert cursor.fetchone() == ([1, None, 2**40], [3, 4], times)


def test_superseded_is_the_sweeps_record_not_the_detail_text(frozen, mql_clock):
    """The flag is the relationship the sweep sets; a detail that happens to read the same (or an
    edited one) says nothing."""
    frozen.move_to(at(2025, 3, 4, 12, 0))
    sweep()
    reassign = Escalation.objects.get(clock=mql_clock, kind=StepKind.REASSIGN)
    assert not reassign.superseded and reassign.superseded_by is None
    Escalation.objects.filter(pk=reassign.pk).update(detail="Superseded by a later step in the same sweep.")
    reassign.refresh_from_db()
    assert not reassign.superseded


backfill = importlib.import_module("qualify.sla.migrations.0010_escalation_superseded_by").backfill


def test_the_migration_links_steps_its_text_called_superseded_to_the_step_that_acted(frozen, mql_clock, north):
    RoutingRule.objects.create(name="North SDRs", team=north, method=Method.ROUND_ROBIN)
    frozen.move_to(at(2025, 3, 5, 9, 0))  # every step is overdue: the pool wins over the reassignment
    sweep()
    skipped = Escalation.objects.get(clock=mql_clock, kind=StepKind.REASSIGN)
    winner = Escalation.objects.get(clock=mql_clock, kind=StepKind.RETURN_TO_POOL)
    # As before the field: the text alone, and a later sweep's ownership step that must not be chosen.
    Escalation.objects.filter(clock=mql_clock).update(superseded_by=None)
    later = Escalation.objects.create(clock=mql_clock, step=9, kind=StepKind.RETURN_TO_POOL, lead_id=mql_clock.lead_id,
                                      team=north, scheduled_at=winner.at, at=winner.at + datetime.timedelta(hours=1))

    backfill(live_apps, None)
    backfill(live_apps, None)  # again: nothing changes

    skipped.refresh_from_db()
    assert skipped.superseded_by == winner
    assert list(Escalation.objects.filter(superseded_by__isnull=False)) == [skipped]
    assert not Escalation.objects.get(pk=later.pk).superseded


def test_many_breaches_at_once_tell_each_person_once_in_a_digest(frozen, alice, bob, maria, north, make_mql, client):
    """Five of alice's MQLs breach in one sweep: alice gets one notice linking to her breached
    leads, maria (their manager) one linking to the breaches page; one e-mail each. Bob's three are
    at DIGEST_OVER, so he hears of each. A second sweep adds nothing."""
    from qualify.notifications.delivery import DIGEST_OVER

    mine = [make_mql(LeadFactory(team=north, owner=alice)) for _ in range(5)]
    bobs = [make_mql(LeadFactory(team=north, owner=bob)) for _ in range(DIGEST_OVER)]
    frozen.move_to(at(2025, 3, 4, 11, 5))
    sweep()
    sweep()
    to_alice = list(Notification.objects.filter(user=alice))
    assert len(to_alice) == 1
    digest = to_alice[0]
    assert (digest.kind, digest.lead_id, digest.clock_id, digest.is_digest) == ("sla_breach", None, None, True)
    assert digest.title == "5 SLAs breached: first touch"
    assert digest.body == "On your leads, due 4 Mar 2025, 11:00 UTC."
    assert digest.url == "/queue/?sla=breached" and digest.headline == digest.title
    to_maria = list(Notification.objects.filter(user=maria))
    assert [(n.title, n.url) for n in to_maria] == [("8 SLAs breached: first touch", "/sla/breaches/")]
    assert to_maria[0].body == "On your team's leads, due 4 Mar 2025, 11:00 UTC."
    assert sorted(n.lead_id for n in Notification.objects.filter(user=bob)) == sorted(lead.pk for lead in bobs)
    assert all(n.email_state == EmailState.PENDING for n in Notification.objects.all())
    # The link lists what the digest counts, and the list shows its body.
    assert len(login(client, alice).get(digest.url).context["page"].leads) == len(mine)
    assert "On your leads, due 4 Mar 2025" in client.get("/notifications/").content.decode()


def test_digests_follow_each_persons_channels_and_group_by_kind(frozen, alice, maria, north, make_mql):
    """Warnings come in-app only by default: a digest of five warnings is in-app, with no e-mail;
    their breaches later are another digest. One at-risk digest links to the at-risk filter."""
    for _ in range(5):
        make_mql(LeadFactory(team=north, owner=alice))
    frozen.move_to(at(2025, 3, 4, 10, 46))
    sweep()
    frozen.move_to(at(2025, 3, 4, 11, 1))
    sweep()
    notes = list(Notification.objects.filter(user=alice).order_by("id"))
    assert [(n.kind, n.title, n.url, n.in_app, n.email_state) for n in notes] == [
        ("sla_warning", "5 SLAs at risk: first touch", "/queue/?sla=at_risk", True, EmailState.NONE),
        ("sla_breach", "5 SLAs breached: first touch", "/queue/?sla=breached", True, EmailState.PENDING),
    ]


def test_a_digest_gives_the_span_of_due_times_and_its_email_says_where_to_look(frozen, alice, north, make_mql, settings):
    settings.SITE_URL = "https://qualify.example"
    for minutes in (0, 10, 20, 30):
        frozen.move_to(at(2025, 3, 4, 10, minutes))
        make_mql(LeadFactory(team=north, owner=alice))
    frozen.move_to(at(2025, 3, 4, 12, 0))
    sweep()
    digest = Notification.objects.get(user=alice)
    assert digest.body == "On your leads, due from 4 Mar 2025, 11:00 UTC to 4 Mar 2025, 11:30 UTC."
    send_pending_emails()
    sent = [m for m in mail.outbox if m.to == [alice.email]]
    assert len(sent) == 1 and sent[0].subject.endswith("4 SLAs breached: first touch")
    assert "due from 4 Mar 2025, 11:00 UTC" in sent[0].body and "https://qualify.example/queue/?sla=breached" in sent[0].body


def test_an_aes_digest_of_late_handoff_decisions_opens_their_inbox(frozen, erin, alice, north):
    from qualify.handoff.workflow import hand_off
    from qualify.leads.models import Stage
    from tests.handoff.conftest import qualify_fully

    for _ in range(4):
        lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
        qualify_fully(lead, alice)
        hand_off(lead, to=erin, by=alice, next_step="Demo Tuesday 10:00 with the CFO")
    frozen.move_to(at(2025, 3, 5, 10, 0))
    sweep()
    digest = Notification.objects.get(user=erin, kind="sla_breach")
    assert digest.title == "4 SLAs breached: accept or reject of the handoff"
    assert digest.body.startswith("On handoffs waiting for your decision, due ") and digest.url == "/handoffs/"
