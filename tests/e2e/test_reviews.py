"""Issue 6 in a real browser: a manager works a review queue (answers, packet, timeline, verdicts,
checklist, follow-up), progress moves as she goes, and the owner sees and closes the follow-up; a
note over the limit is refused in place, as typed."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qualify.handoff.models import Handoff
from qualify.leads.models import Source, Stage, StageChange
from qualify.reviews.models import FollowUpTask, RedFlag, ReviewItem, ReviewPlan, TaskStatus
from qualify.reviews.sampling import build_queue
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, LeadFactory


@pytest.fixture
def queue(e2e_cast):
    c = e2e_cast
    at = timezone.now() - datetime.timedelta(days=2)
    for i, name in enumerate(["Avery", "Blake", "Casey"]):
        account = AccountFactory(team=c.north, name=f"{name} Corp")
        lead = LeadFactory(team=c.north, account=account, owner=c.erin, ae=c.erin, stage=Stage.ACCEPTED, source=Source.INBOUND,
                           first_name=name, last_name="Lead")
        StageChange.objects.bulk_create([
            StageChange(lead=lead, from_stage=Stage.WORKING, to_stage=Stage.HANDED_OFF, by=c.alice, at=at - datetime.timedelta(hours=2),
                        why="Demo booked with the COO"),
            StageChange(lead=lead, from_stage=Stage.HANDED_OFF, to_stage=Stage.ACCEPTED, by=c.erin, at=at),
        ])
        Handoff.objects.create(lead=lead, team=c.north, from_user=c.alice, to_user=c.erin, next_step="Demo Tuesday 10am with the COO",
                               status="accepted", decided_at=at, decided_by=c.erin, source="inbound",
                               packet={"lead": {"name": lead.full_name, "title": "VP Ops", "company": account.name},
                                       "answers": [], "signals": [], "score": {"value": 70, "reasons": []}, "completeness": 100})
    plan = ReviewPlan.objects.create(name="Weekly SQL review", team=c.north, sample_size=3, reviewer=c.maria)
    plan.red_flags.set(RedFlag.objects.all())
    q, _ = build_queue(plan, seed=42)
    return q


def test_manager_works_a_review_queue_and_the_owner_gets_the_follow_up(page, page_for, live_server, e2e_cast, queue):
    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Reviews", exact=True).click()
    expect(page.get_by_role("heading", name="Review queues")).to_be_visible()
    expect(page.locator(".review-queues").first).to_contain_text("0 of 3 reviewed")
    page.get_by_role("link", name="Weekly SQL review").first.click()
    expect(page.locator("#queue-progress-text")).to_have_text("0 of 3 reviewed")
    expect(page.locator(".sampling")).to_contain_text("seed 42")
    page.get_by_role("link", name="Start reviewing").click()

    # Item 1: everything the reviewer needs is on the page.
    expect(page.get_by_text("Item 1 of 3")).to_be_visible()
    expect(page.get_by_role("heading", name="Qualification answers")).to_be_visible()
    expect(page.get_by_role("heading", name="Handoff packet")).to_be_visible()
    expect(page.locator(".packet")).to_contain_text("Demo Tuesday 10am with the COO")
    expect(page.locator(".timeline")).to_contain_text("Demo booked with the COO")
    page.evaluate("window.__same_page = 1")
    page.get_by_label("Confirmed qualified").check()
    page.get_by_role("button", name="Save verdict").click()
    expect(page.locator("#verdict-panel [role=status]")).to_contain_text("Saved: Confirmed qualified")
    expect(page.locator("#item-progress")).to_have_text("1 of 3 reviewed")
    assert page.evaluate("window.__same_page") == 1  # swapped in place by htmx

    # Item 2: needs follow-up, with a red flag, a note, the owner's task and its date.
    page.get_by_role("link", name="Next unreviewed item →").click()
    expect(page.get_by_text("Item 2 of 3")).to_be_visible()
    page.get_by_label("Needs follow-up").check()
    page.get_by_label("No sponsor").check()
    page.get_by_label("Note").fill("Nobody named who signs; the COO only attended.")
    page.locator("details.follow-up summary").click()
    # About the deal, not how it was qualified: the AE who owns it follows up (the default would be
    # the SDR who qualified it).
    page.get_by_label("The deal (the lead's owner follows up)").check()
    page.get_by_label("What must be done").fill("Find the economic buyer and get a dated next step")
    due = (timezone.localdate() + datetime.timedelta(days=4)).isoformat()
    page.get_by_label("Due").fill(due)
    page.get_by_role("button", name="Save verdict").click()
    expect(page.locator("#verdict-panel [role=status]")).to_contain_text("Saved: Needs follow-up")
    expect(page.locator("#verdict-panel")).to_contain_text("Follow-up for Erin Evans")

    # Item 3: a false SQL needs a note; the refusal shows in place, then it saves.
    page.get_by_role("link", name="Next unreviewed item →").click()
    page.get_by_label("False SQL").check()
    page.get_by_role("button", name="Save verdict").click()
    expect(page.locator("#verdict-panel [role=alert]")).to_contain_text("at least 10 characters")
    page.get_by_label("Note").fill("No concrete problem: an explorer who wanted education.")
    page.get_by_role("button", name="Save verdict").click()
    expect(page.locator("#item-progress")).to_have_text("3 of 3 reviewed")
    page.get_by_role("link", name=re.compile("Queue complete")).click()
    expect(page.locator("#queue-progress-text")).to_have_text("3 of 3 reviewed")
    expect(page.locator(".review-items")).to_contain_text("False SQL")

    # The owner sees the follow-up in the nav and on the Tasks page, and closes it.
    erin = page_for("erin")
    erin.get_by_role("link", name="Tasks", exact=True).click()
    assert url_path(erin) == "/tasks/"
    expect(erin.get_by_role("heading", name="My tasks")).to_contain_text("1 open")
    row = erin.locator("#open-tasks tbody tr").first
    expect(row).to_contain_text("Find the economic buyer and get a dated next step")
    row.get_by_label(re.compile("What you did")).fill("Booked the CFO for Thursday")
    row.get_by_role("button", name="Done").click()
    expect(erin.locator("#open-tasks tbody tr").first.locator(".badge")).to_have_text("Done")
    assert FollowUpTask.objects.get().status == TaskStatus.DONE


def test_an_sdr_cannot_open_reviews(page, live_server, e2e_cast, queue):
    login_as(page, live_server, "alice")
    expect(page.get_by_role("link", name="Reviews", exact=True)).to_have_count(0)
    response = page.goto(f"{live_server.url}/reviews/{queue.pk}/")
    assert response.status == 403


def test_a_verdict_note_over_the_limit_is_refused_as_typed_and_nothing_is_stored(page, live_server, e2e_cast, queue):
    login_as(page, live_server, "maria")
    page.goto(f"{live_server.url}/reviews/{queue.pk}/")
    page.get_by_role("link", name="Start reviewing").click()
    expect(page.get_by_text("Item 1 of 3")).to_be_visible()
    page.get_by_label("Confirmed qualified").check()
    too_long = "N" * 6900
    page.get_by_label("Note").fill(too_long)
    page.get_by_role("button", name="Save verdict").click()

    expect(page.locator("#verdict-panel [role=alert]")).to_have_text("The note is too long: 6,900 characters; keep it to 5,000.")
    expect(page.get_by_label("Note")).to_have_value(too_long)
    expect(page.get_by_label("Confirmed qualified")).to_be_checked()
    expect(page.locator("#item-progress")).to_have_text("0 of 3 reviewed")
    assert set(ReviewItem.objects.filter(queue=queue).values_list("verdict", "note")) == {("", "")}
    assert not FollowUpTask.objects.exists()
    assert_accessible(page, "the review item with a refused note")
