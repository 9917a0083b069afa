"""Issue 15 in a real browser: an AE rejects a handoff with a reason; the SDR is told (badge, list)
and finds the rejected handoff, with the reason and note, under "Sent". A notification about a lead
that has left the reader since opens on a warning, not a 404."""

import re

import pytest
from playwright.sync_api import expect

from qualify.handoff.workflow import hand_off
from qualify.leads.assignment import assign
from qualify.leads.models import Stage
from qualify.notifications.models import Notification, NotificationKind
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path
from tests.e2e.test_handoff_journey import confirm_bant
from tests.factories import AccountFactory, LeadFactory

NOTE = "Contact cannot sign; get us to the CFO first."


@pytest.fixture
def handed(e2e_cast):
    account = AccountFactory(team=e2e_cast.north, name="Acme Robotics")
    dana = LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, account=account, first_name="Dana", last_name="Diaz",
                       stage=Stage.WORKING, score=80)
    confirm_bant(dana, e2e_cast.alice)
    return hand_off(dana, to=e2e_cast.erin, by=e2e_cast.alice, next_step="Demo Tue 10am with the CFO and VP Ops")


def test_ae_rejects_and_the_sdr_is_told_and_sees_it_under_sent(page, page_for, live_server, e2e_cast, handed):
    # erin was told of the handoff: the badge counts it, the list links to the packet.
    erin = page_for("erin")
    expect(erin.locator("#notification-badge")).to_have_text("1")
    erin.get_by_role("link", name=re.compile("^Notifications")).click()
    # Opening it is a POST (it marks the notification read), so it is a button styled as a link.
    erin.get_by_role("button", name="Handoff received: Dana Diaz").click()
    packet = erin.locator("article.packet", has_text="Dana Diaz")
    packet.locator("summary", has_text="Reject…").click()
    packet.get_by_label("Rejection reason").select_option(label="No authority — Back to the SDR's queue")
    packet.get_by_label("Rejection note").fill(NOTE)
    packet.get_by_role("button", name="Reject", exact=True).click()
    expect(erin.locator("article.packet", has_text="Dana Diaz")).to_contain_text("Rejected: No authority")

    # alice: one unread notification, saying who rejected it and why.
    login_as(page, live_server, "alice")
    expect(page.locator("#notification-badge")).to_have_text("1")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    note = page.locator("li.note", has_text="Handoff rejected: Dana Diaz (No authority)")
    expect(note).to_have_class(re.compile("unread"))
    page.screenshot(path="/tmp/notify-e2e-notifications.png", full_page=True)
    note.get_by_role("button", name="Mark read").click()
    expect(page.locator("li.note", has_text="Handoff rejected: Dana Diaz")).to_have_class(re.compile(r"\bread\b"))
    expect(page.locator("#notification-badge")).to_have_text("")
    expect(page.locator("#unread-summary")).to_have_text("All read")

    # Sent: the rejected handoff, its reason and erin's note.
    page.get_by_role("link", name="Handoffs", exact=True).click()
    page.get_by_role("link", name="Sent").click()
    row = page.locator(f"#sent-{handed.pk}")
    expect(row).to_contain_text("Rejected")
    expect(row).to_contain_text("No authority")
    expect(row).to_contain_text(NOTE)
    expect(row).to_contain_text("Erin Evans")
    page.screenshot(path="/tmp/notify-e2e-sent.png", full_page=True)

    assert list(Notification.objects.filter(user=e2e_cast.alice).values_list("kind", flat=True)) == [
        NotificationKind.HANDOFF_REJECTED]


def test_preferences_page_turns_off_an_email(page, live_server, e2e_cast):
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("link", name="Choose what reaches you, and how").click()
    page.get_by_label("Lead assigned by e-mail").uncheck()
    page.get_by_role("button", name="Save preferences").click()
    expect(page.locator(".flash-success")).to_contain_text("Notification preferences saved")
    expect(page.get_by_label("Lead assigned by e-mail")).not_to_be_checked()
    expect(page.get_by_label("Lead assigned in the app")).to_be_checked()
    page.screenshot(path="/tmp/notify-e2e-preferences.png", full_page=True)


def test_a_notification_about_a_lead_reassigned_away_since_opens_an_amber_warning_not_a_404(page, live_server, e2e_cast):
    """The SLA sweep that tells the owner of a breach may reassign the lead in the same pass."""
    c = e2e_cast
    dana = LeadFactory(team=c.north, owner=None, first_name="Dana", last_name="Diaz")
    assign(dana, owner=c.alice, by=c.maria)
    assign(dana, owner=c.bob, by=c.maria)
    note = Notification.objects.get(user=c.alice, lead=dana)

    login_as(page, live_server, "alice")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    assert_accessible(page, "the notifications page")
    with page.expect_navigation() as opened:
        page.locator(f"#note-{note.pk}").get_by_role("button", name=re.compile("Dana Diaz")).click()

    assert opened.value.status == 200  # the redirect's target: not the lead's 404
    assert url_path(page) == "/notifications/"
    warning = page.locator(".flash")
    expect(warning).to_have_count(1)
    expect(warning).to_have_class(re.compile(r"\bflash-warning\b"))
    expect(warning).to_have_text(f"“{note.title}”: you can no longer open that lead. It has been reassigned to "
                                 "someone else or left your queue since.")
    expect(warning).to_have_css("background-color", "rgb(255, 250, 235)")  # amber, not the green of a success
    expect(page.locator(f"#note-{note.pk}")).to_have_class(re.compile(r"\bread\b"))
    page.screenshot(path="/tmp/notify-e2e-lead-gone.png", full_page=True)
    assert_accessible(page, "the notifications page with the warning")


def test_a_bulk_reassign_is_one_notification_that_opens_the_queue(page, page_for, live_server, e2e_cast):
    """A manager reassigns five of bob's leads to alice from the queue's bulk bar: alice hears
    once, with the names, and the notification opens her queue, where they are."""
    names = [("Ivo", "Ivanov"), ("Jon", "Jensen"), ("Kai", "Karlsen"), ("Lea", "Lund"), ("Max", "Moss")]
    for first, last in names:
        LeadFactory(team=e2e_cast.north, owner=e2e_cast.bob, first_name=first, last_name=last, stage=Stage.WORKING)
    maria = page_for("maria")
    maria.goto(f"{live_server.url}/queue/?scope=team&owner={e2e_cast.bob.pk}")
    maria.get_by_label("Select all rows on this page").check()
    maria.get_by_label("Bulk action").select_option("reassign")
    maria.get_by_label("Reassign to", exact=True).select_option(label="Alice Adams")
    maria.get_by_role("button", name="Apply").click()
    expect(maria.get_by_text("Reassigned 5 leads.")).to_be_visible()

    login_as(page, live_server, "alice")
    expect(page.locator("#notification-badge")).to_have_text("1")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    note = page.locator("li.note", has_text="5 leads reassigned to you")
    expect(note).to_contain_text("Ivo Ivanov")
    assert_accessible(page)
    page.screenshot(path="/tmp/notify-e2e-digest.png", full_page=True)
    note.get_by_role("button", name="5 leads reassigned to you").click()
    expect(page).to_have_url(re.compile(r"/queue/$"))
    expect(page.locator("#queue-rows")).to_contain_text("Max Moss")
    assert Notification.objects.filter(user=e2e_cast.alice, kind=NotificationKind.ASSIGNED).count() == 1


def test_many_breaches_in_one_sweep_are_one_notification_that_opens_the_breached_leads(page, live_server, e2e_cast):
    """Five of alice's MQLs went untouched past their first-touch deadline: the sweep tells her
    once, the notice says what and when, and it opens her queue filtered to those five."""
    import datetime

    from django.utils import timezone

    from qualify.leads.models import Lead
    from qualify.sla.clocks import start_clock
    from qualify.sla.models import ClockKind
    from qualify.sla.tasks import sweep
    from tests.e2e.test_sla import round_the_clock_calendar

    round_the_clock_calendar(e2e_cast.north)
    for first in ("Ada", "Ben", "Cy", "Di", "Ed"):
        lead = LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, stage=Stage.MQL, first_name=first, last_name="Late")
        start_clock(Lead.objects.select_related("account").get(pk=lead.pk), ClockKind.MQL_FIRST_TOUCH,
                    owner_id=e2e_cast.alice.pk, at=timezone.now() - datetime.timedelta(minutes=90))
    LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, stage=Stage.MQL, first_name="Otto", last_name="Ontime")
    sweep()

    login_as(page, live_server, "alice")
    expect(page.locator("#notification-badge")).to_have_text("1")
    page.get_by_role("link", name=re.compile("^Notifications")).click()
    note = page.locator("li.note", has_text="5 SLAs breached: first touch")
    expect(note).to_contain_text("On your leads, due")
    assert_accessible(page, "the notifications page with an SLA digest")
    page.screenshot(path="/tmp/notify-e2e-sla-digest.png", full_page=True)
    note.get_by_role("button", name="5 SLAs breached: first touch").click()
    expect(page).to_have_url(re.compile(r"/queue/\?sla=breached$"))
    rows = page.locator("tr.lead-row")
    expect(rows).to_have_count(5)
    expect(page.locator("#queue-rows")).not_to_contain_text("Otto Ontime")
    expect(page.locator("#notification-badge")).to_have_text("")
