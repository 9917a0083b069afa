"""A manager sees an SLA breach appear and reassigns the lead, in a real browser.

Time is not faked on the server: the lead's first-touch clock is created as if the lead became an
MQL 90 minutes ago (North counts SLAs on a round-the-clock calendar here, so "one business hour"
is one hour whatever the hour the test runs), and the SLA sweep task runs in the test process,
exactly as Celery beat would run it. A rung of the ladder the same sweep went past shows as skipped.
"""

import datetime
import re

from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path


def round_the_clock_calendar(team):
    from qualify.sla.models import BusinessCalendar, TeamCalendar, WorkingHours

    cal = BusinessCalendar.objects.create(name="Always open", time_zone="UTC")
    WorkingHours.objects.bulk_create(
        WorkingHours(calendar=cal, weekday=d, start=datetime.time(0), end=datetime.time(0)) for d in range(7)
    )
    TeamCalendar.objects.create(team=team, calendar=cal)


def test_manager_sees_a_breach_appear_and_reassigns_the_lead(page, live_server, e2e_cast, page_for):
    from qualify.leads.models import Lead, Stage
    from qualify.sla.clocks import start_clock
    from qualify.sla.models import ClockKind
    from qualify.sla.tasks import sweep
    from tests.factories import LeadFactory

    c = e2e_cast
    round_the_clock_calendar(c.north)
    lead = LeadFactory(team=c.north, owner=c.alice, stage=Stage.MQL, first_name="Dana", last_name="Diaz")

    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Breaches").click()
    expect(page.get_by_role("heading", name="Breaches and escalations")).to_be_visible()
    expect(page.locator("#overdue")).to_contain_text("Nothing overdue")

    # Dana became an MQL 90 minutes ago and Alice has not touched her: due 30 minutes ago.
    lead = Lead.objects.select_related("account").get(pk=lead.pk)
    start_clock(lead, ClockKind.MQL_FIRST_TOUCH, owner_id=c.alice.pk, at=timezone.now() - datetime.timedelta(minutes=90))
    result = sweep()  # what beat runs every minute
    assert result.startswith("1 clocks, 3 steps")

    page.reload()
    overdue = page.locator("#overdue")
    expect(overdue).to_contain_text("Dana Diaz")
    expect(overdue).to_contain_text("Alice Adams")
    expect(overdue).to_contain_text("overdue 30 min")
    expect(page.locator("#escalations")).to_contain_text("Notified Alice, Maria")
    # The navigation badge (htmx, on load) shows Maria's breach notification.
    expect(page.locator("#notification-badge")).to_have_text("1")

    page.get_by_label("Reassign Dana Diaz to").select_option(label="Bob Brown")
    page.get_by_role("button", name="Reassign").click()

    expect(page.get_by_role("status")).to_contain_text("Dana Diaz now belongs to Bob Brown")
    assert url_path(page) == "/sla/breaches/"
    expect(page.locator("#overdue")).to_contain_text("Bob Brown")  # the clock stays, now Bob's
    assert Lead.objects.get(pk=lead.pk).owner == c.bob

    # The lead page tells the story; Bob was told.
    page.get_by_role("link", name="Dana Diaz").first.click()
    expect(page.locator("#sla-panel")).to_contain_text("overdue 30 min")
    expect(page.locator("#sla-panel")).to_contain_text("Notified Alice, Maria")
    expect(page.locator("#reassign")).to_contain_text("Alice Adams → Bob Brown")
    bob = page_for("bob")
    expect(bob.locator("#notification-badge")).to_have_text("1")
    bob.get_by_role("link", name="Notifications").click()
    expect(bob.locator("#notes")).to_contain_text("Lead reassigned to you: Dana Diaz")
    bob.get_by_role("button", name="Mark read").click()
    expect(bob.locator("#notification-badge")).to_have_text("")


def test_the_sla_filters_and_sort_of_the_queue_list_the_overdue_lead(page, live_server, e2e_cast):
    """Alice's own queue (a semi-join over her leads) and Maria's whole team (the team's clocks as
    an id array) both list the breached lead under "SLA breached", alone, and first by SLA due."""
    from qualify.leads.models import Lead, Stage
    from qualify.sla.clocks import start_clock
    from qualify.sla.models import ClockKind
    from tests.factories import LeadFactory

    c = e2e_cast
    round_the_clock_calendar(c.north)
    late = LeadFactory(team=c.north, owner=c.alice, stage=Stage.MQL, first_name="Dana", last_name="Diaz")
    LeadFactory(team=c.north, owner=c.alice, stage=Stage.MQL, first_name="Omar", last_name="Ontime")
    start_clock(Lead.objects.select_related("account").get(pk=late.pk), ClockKind.MQL_FIRST_TOUCH,
                owner_id=c.alice.pk, at=timezone.now() - datetime.timedelta(minutes=90))

    for user, scope in (("alice", ""), ("maria", "scope=team&")):
        login_as(page, live_server, user)
        page.goto(f"{live_server.url}/queue/?{scope}sla=breached")
        rows = page.locator("tr.lead-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Dana Diaz")
        badge = rows.first.locator(".sla-badge.sla-breach")
        expect(badge).to_contain_text("First touch overdue 30 min")
        expect(badge).to_have_attribute("title", re.compile(r"^MQL assigned → first touch: due .+ UTC$"))
        expect(page.locator("#queue-total")).to_contain_text("1 lead")
        if not scope:
            page.screenshot(path="/tmp/sla-queue-badge.png")
        page.goto(f"{live_server.url}/queue/?{scope}sort=sla_due")
        expect(page.locator("tr.lead-row").first).to_contain_text("Dana Diaz")
        expect(page.locator("#queue-total")).to_contain_text("1 lead")
        page.context.clear_cookies()


def swept_mql(c, *, since: datetime.timedelta):
    """Alice's MQL Dana Diaz, whose first-touch clock (round the clock) started `since` ago, swept once."""
    from qualify.leads.models import Lead, Stage
    from qualify.sla.clocks import start_clock
    from qualify.sla.models import ClockKind
    from qualify.sla.tasks import sweep
    from tests.factories import LeadFactory

    round_the_clock_calendar(c.north)
    lead = LeadFactory(team=c.north, owner=c.alice, stage=Stage.MQL, first_name="Dana", last_name="Diaz")
    start_clock(Lead.objects.select_related("account").get(pk=lead.pk), ClockKind.MQL_FIRST_TOUCH,
                owner_id=c.alice.pk, at=timezone.now() - since)
    sweep()
    return lead


def test_a_reassignment_the_same_sweep_went_past_is_shown_skipped_not_in_red(page, live_server, e2e_cast):
    """Down for hours, the sweep reaches "reassign" (an hour after the breach) and "return to pool"
    (four hours after) at once: only the last changes the owner, the reassignment never happened."""
    from qualify.leads.models import Lead
    from qualify.sla.models import Escalation, StepKind

    lead = swept_mql(e2e_cast, since=datetime.timedelta(hours=6))
    assert Lead.objects.get(pk=lead.pk).owner is None
    assert Escalation.objects.get(kind=StepKind.REASSIGN).superseded

    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Breaches").click()
    escalations = page.locator("#escalations tbody tr")
    skipped = escalations.filter(has_text="Reassigned")
    expect(skipped).to_have_count(1)
    expect(skipped.locator("td").nth(1)).to_have_text("Reassigned (skipped)")
    expect(skipped).to_have_class("sla-step-skipped")
    expect(skipped).to_have_css("color", "rgb(102, 112, 133)")  # --muted
    # What did happen stays red.
    pooled = escalations.filter(has_text="Returned to pool")
    expect(pooled).to_have_count(1)
    expect(pooled).not_to_contain_text("(skipped)")
    expect(pooled).to_have_css("color", "rgb(192, 31, 40)")  # --bad
    expect(escalations.filter(has_text="(skipped)")).to_have_count(1)
    page.screenshot(path="/tmp/sla-skipped-step.png", full_page=True)
    assert_accessible(page, "the breaches page with a skipped step")


def test_the_breaches_tables_say_the_time_zone_of_their_times(page, live_server, e2e_cast):
    """Due and When are shown in the server's zone (UTC here) and their headers say so, as the
    escalation lines ("Due 4 Mar 2025, 11:00 UTC") do."""
    swept_mql(e2e_cast, since=datetime.timedelta(minutes=90))

    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Breaches").click()
    overdue = page.locator("table", has=page.get_by_role("columnheader", name="Overdue"))
    expect(overdue.get_by_role("columnheader", name="Due (UTC)")).to_be_visible()
    expect(overdue.locator("tbody tr", has_text="Dana Diaz")).to_have_count(1)
    escalations = page.locator("#escalations")
    expect(escalations.get_by_role("columnheader", name="When (UTC)")).to_be_visible()
    expect(escalations.locator("tbody tr", has_text="Breach")).to_contain_text("UTC; owner Alice Adams")
    assert_accessible(page, "the breaches page")


def test_a_warning_that_falls_due_with_its_breach_is_recorded_superseded_and_tells_nobody(page, live_server, e2e_cast, page_for):
    """The sweep was not running when Dana's warning (15 minutes before due) fell due; the sweep
    that runs 30 minutes past due finds warning and breach at once. The breach is shown and told;
    the warning is on record as skipped, pointing at the breach, and nobody hears "at risk"."""
    from qualify.notifications.models import Notification, NotificationKind
    from qualify.sla.models import Escalation, StepKind

    lead = swept_mql(e2e_cast, since=datetime.timedelta(minutes=90))
    warning = Escalation.objects.get(lead=lead, kind=StepKind.WARNING)
    assert warning.superseded_by == Escalation.objects.get(lead=lead, kind=StepKind.BREACH)
    kinds = sorted(Notification.objects.values_list("user__username", "kind"))
    assert kinds == [("alice", NotificationKind.SLA_BREACH), ("maria", NotificationKind.SLA_BREACH)]

    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Breaches").click()
    expect(page.locator("#overdue tbody tr", has_text="Dana Diaz")).to_contain_text("overdue 30 min")
    escalations = page.locator("#escalations tbody tr")
    breach = escalations.filter(has=page.locator("td:nth-child(2)", has_text=re.compile(r"^Breach$")))
    expect(breach).to_have_count(1)
    expect(breach).to_contain_text("UTC; owner Alice Adams")
    expect(escalations.filter(has_text="Warning")).to_have_count(0)  # warnings are not escalations
    assert_accessible(page, "the breaches page after a breach that came with its warning")

    # Asked for warnings, the page lists this one as skipped, muted, not as something that happened.
    page.get_by_label("Step").select_option(label="Warning")
    page.get_by_role("button", name="Apply").click()
    skipped = page.locator("#escalations tbody tr")
    expect(skipped).to_have_count(1)
    expect(skipped.locator("td").nth(1)).to_have_text("Warning (skipped)")
    expect(skipped).to_have_class("sla-step-skipped")
    page.screenshot(path="/tmp/sla-superseded-warning.png", full_page=True)
    assert_accessible(page, "the breaches page listing a skipped warning")

    # Alice, the owner, was told of the breach only.
    alice = page_for("alice")
    expect(alice.locator("#notification-badge")).to_have_text("1")
    alice.get_by_role("link", name=re.compile("^Notifications")).click()
    notes = alice.locator("li.note")
    expect(notes).to_have_count(1)
    expect(notes.first).to_contain_text("SLA breached: first touch was due")
    expect(alice.locator("#notes")).not_to_contain_text("SLA at risk")
