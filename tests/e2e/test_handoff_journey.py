"""Issue 3 in a real browser: an SDR qualifies a lead with BANT and hands it to an AE, who
rejects it back (the SDR sees why) or accepts it (and owns it); an incomplete lead is refused, and
so is evidence over the note limit. The SDR's Handoffs page opens on the ones they sent."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qualify.frameworks.answers import record_answer
from qualify.frameworks.models import Answer, Criterion
from qualify.frameworks.selection import framework_for
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import hand_off
from qualify.leads.models import Lead, Stage
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, LeadFactory

STAGE_BADGE = ".badge[class*='stage-']"  # the lead stage or decision, not the waiting/SLA badges
BANT = [("Need", 30), ("Budget", 55), ("Authority", 80), ("Timeline", 100)]  # cumulative % as each is confirmed


@pytest.fixture
def dana(e2e_cast):
    """A lead alice is working, at a North account; BANT (the default framework) applies."""
    account = AccountFactory(team=e2e_cast.north, name="Acme Robotics")
    return LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, account=account, first_name="Dana", last_name="Diaz",
                       stage=Stage.WORKING, score=80)


def criterion(page, dimension: str):
    """The answers panel's list item for one criterion."""
    return page.locator("li.criterion", has=page.locator(".criterion-head strong", has_text=re.compile(f"^{dimension}$")))


def answer(page, dimension: str, status: str, evidence: str):
    item = criterion(page, dimension)
    item.locator(".answer-form > summary").click()
    item.get_by_label(status, exact=True).check()
    item.get_by_label(f"Evidence for {dimension}").fill(evidence)
    item.get_by_role("button", name="Save answer").click()
    expect(criterion(page, dimension).get_by_role("status")).to_have_text("Saved")


def confirm_bant(lead, by):
    for c in Criterion.objects.filter(framework=framework_for(lead), required_for_handoff=True):
        record_answer(lead, criterion=c, by=by, status="confirmed", evidence=f"{c.dimension}: confirmed on the call with the VP")


def test_sdr_qualifies_and_hands_off_ae_rejects_it_back_and_sdr_sees_why(page, page_for, live_server, e2e_cast, dana):
    # alice answers BANT on the lead page; the panel updates in place after each answer.
    login_as(page, live_server, "alice")
    page.get_by_role("link", name="Dana Diaz").click()
    expect(page.get_by_role("heading", name=re.compile("Dana Diaz"))).to_contain_text("Working")
    page.evaluate("window.__marker = 1")
    expect(page.locator(".completeness-percent")).to_have_text("0% complete")
    for dimension, percent in BANT:
        answer(page, dimension, "Confirmed", f"{dimension}: the VP Ops said so on the 12 May call")
        expect(page.locator(".completeness-percent")).to_have_text(f"{percent}% complete")
        expect(page.get_by_role("progressbar", name="Qualification completeness")).to_have_attribute("aria-valuenow", str(percent))
    expect(page.locator(".answers-panel")).to_contain_text("Ready for handoff")
    expect(page.locator(".missing-required")).to_have_count(0)
    # The hand-off checklist in the Actions card refreshed itself too (htmx event, no reload).
    expect(page.locator("#handoff-missing")).not_to_contain_text("Required before handoff")
    assert page.evaluate("window.__marker === 1"), "saving an answer reloaded the whole page"

    # The hand-off form in the Actions card: erin, the team default, is preselected.
    actions = page.locator("#lead-actions")
    ae = actions.get_by_label("AE", exact=True)
    expect(ae.locator("option:checked")).to_have_text("Erin Evans (team default)")
    actions.get_by_label("Next step").fill("Demo Tue 10am with the CFO and VP Ops")
    actions.get_by_role("button", name="Hand off").click()
    expect(page.locator(".flash-success")).to_contain_text("Handed off to Erin Evans")
    expect(page.get_by_role("heading", name=re.compile("Dana Diaz"))).to_contain_text("Handed off")
    expect(actions).to_contain_text("Waiting for Erin Evans")

    # erin, in her own browser context, rejects it from her Handoffs page.
    erin = page_for("erin")
    erin.get_by_role("link", name="Handoffs").click()
    packet = erin.locator("article.packet", has_text="Dana Diaz")
    expect(packet).to_contain_text("waiting")
    expect(packet).to_contain_text("Demo Tue 10am with the CFO and VP Ops")
    packet.locator("summary", has_text="Reject…").click()
    packet.get_by_label("Rejection reason").select_option(label="No authority — Back to the SDR's queue")
    packet.get_by_label("Rejection note").fill("Contact cannot sign; get us to the CFO first.")
    packet.get_by_role("button", name="Reject", exact=True).click()
    packet = erin.locator("article.packet", has_text="Dana Diaz")
    expect(packet.locator(STAGE_BADGE)).to_have_text("Rejected")
    expect(packet).to_contain_text("Rejected: No authority — Contact cannot sign; get us to the CFO first.")
    expect(packet.get_by_role("button", name="Accept")).to_have_count(0)

    # alice's queue has the lead back, with the reason.
    page.goto(f"{live_server.url}/queue/")
    row = page.locator("tr.lead-row", has=page.get_by_role("link", name="Dana Diaz"))
    expect(row.locator(STAGE_BADGE)).to_have_text("Working")
    expect(row).to_contain_text("No authority")

    handoff = Handoff.objects.get(lead=dana)
    assert (handoff.status, handoff.to_user, handoff.reason.name) == (HandoffStatus.REJECTED, e2e_cast.erin, "No authority")
    dana.refresh_from_db()
    assert (dana.stage, dana.owner, dana.ae) == (Stage.WORKING, e2e_cast.alice, None)

    # The rejection had teeth: Authority is disputed with erin's note, and blocks handing it back.
    row.get_by_role("link", name="Dana Diaz").click()
    authority = criterion(page, "Authority")
    expect(authority.locator(".answer-dispute")).to_contain_text("Contact cannot sign; get us to the CFO first.")
    expect(authority.locator(".answer-dispute")).to_contain_text("was Confirmed")
    expect(page.locator(".completeness-percent")).to_have_text("75% complete")
    expect(page.locator(".missing-required")).to_contain_text("Authority: disputed by the AE")
    expect(page.locator("#handoff-missing")).to_contain_text("Authority")
    page.screenshot(path="/tmp/ws-disputed-lead.png", full_page=True)
    answer(page, "Authority", "Confirmed", "Authority: met the CFO on 14 May; he signs and joins the demo")
    expect(page.locator(".completeness-percent")).to_have_text("100% complete")
    expect(page.locator(".missing-required")).to_have_count(0)


def test_ae_accepts_a_handoff_and_the_lead_becomes_theirs(page, live_server, e2e_cast, dana):
    confirm_bant(dana, e2e_cast.alice)
    hand_off(dana, to=e2e_cast.erin, by=e2e_cast.alice, next_step="Discovery call Thursday 3pm")
    login_as(page, live_server, "erin")
    page.goto(f"{live_server.url}/handoffs/")

    packet = page.locator("article.packet", has_text="Dana Diaz")
    expect(packet).to_contain_text("waiting")
    expect(packet).to_contain_text("100% complete")
    packet.get_by_role("button", name="Accept").click()
    packet = page.locator("article.packet", has_text="Dana Diaz")
    expect(packet.locator(STAGE_BADGE)).to_have_text("Accepted")

    packet.get_by_role("link", name="Dana Diaz").click()
    assert url_path(page) == f"/leads/{dana.pk}/"
    expect(page.get_by_role("heading", name=re.compile("Dana Diaz"))).to_contain_text("Accepted")
    facts = page.locator("section.card", has=page.get_by_role("heading", name="Lead", exact=True))
    expect(facts.locator("dt:has-text('Owner') + dd")).to_have_text("Erin Evans")
    expect(facts.locator("dt:has-text('AE') + dd")).to_have_text("Erin Evans")

    dana.refresh_from_db()
    assert (dana.stage, dana.owner, dana.ae) == (Stage.ACCEPTED, e2e_cast.erin, e2e_cast.erin)


def test_hand_off_with_required_criteria_missing_is_refused_and_lists_them(page, live_server, e2e_cast, dana):
    need = Criterion.objects.get(framework=framework_for(dana), dimension="Need")
    record_answer(dana, criterion=need, by=e2e_cast.alice, status="confirmed", evidence="Spends 3 days a month reconciling by hand")
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/leads/{dana.pk}/")

    actions = page.locator("#lead-actions")
    expect(actions.get_by_role("note")).to_contain_text("Required before handoff")
    actions.get_by_label("Next step").fill("Demo Tue 10am with the CFO")
    actions.get_by_role("button", name="Hand off").click()

    # Refused in place (htmx): the message above the form, and the next step still typed.
    error = actions.locator("#handoff-form [role=alert]")
    expect(error).to_contain_text("Answer the required criteria before handing off")
    expect(actions.get_by_label("Next step")).to_have_value("Demo Tue 10am with the CFO")
    for dimension in ("Budget", "Authority", "Timeline"):
        expect(error).to_contain_text(f"{dimension}: not answered yet")
    expect(error).not_to_contain_text("Need")
    expect(page.get_by_role("heading", name=re.compile("Dana Diaz"))).to_contain_text("Working")
    assert not Handoff.objects.filter(lead=dana).exists()
    assert Lead.objects.get(pk=dana.pk).stage == Stage.WORKING


def test_an_sdr_opens_handoffs_on_the_ones_they_sent_and_the_lead_says_when_it_was_handed_off(page, live_server, e2e_cast, dana):
    """No handoff is ever sent to an SDR: an inbox of received ones would always be empty."""
    confirm_bant(dana, e2e_cast.alice)
    handoff = hand_off(dana, to=e2e_cast.erin, by=e2e_cast.alice, next_step="Demo Tue 10am with the CFO")
    Handoff.objects.filter(pk=handoff.pk).update(created_at=timezone.now() - datetime.timedelta(minutes=5))
    login_as(page, live_server, "alice")
    page.get_by_role("link", name="Handoffs", exact=True).click()

    assert url_path(page) == "/handoffs/sent/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Handoffs I sent")
    tabs = page.locator(".page-head .tabs")
    expect(tabs.get_by_role("link", name="Sent")).to_have_attribute("aria-current", "page")
    expect(tabs.get_by_role("link", name="Received")).to_have_count(0)
    row = page.locator(f"#sent-{handoff.pk}")
    expect(row).to_contain_text("Erin Evans")
    expect(row).to_contain_text("Waiting for the AE")
    assert_accessible(page, "the SDR's sent handoffs")

    row.get_by_role("link", name="Dana Diaz").click()
    assert url_path(page) == f"/leads/{dana.pk}/"
    expect(page.locator("#handoff")).to_contain_text(re.compile(r"Waiting for Erin Evans, handed off 5 min ago \(.+\)\."))
    page.screenshot(path="/tmp/e2e-handed-off-ago.png", full_page=True)
    assert_accessible(page, "the lead page of a lead handed off")


def test_evidence_over_the_note_limit_is_refused_as_typed_and_nothing_is_stored(page, live_server, e2e_cast, dana):
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/leads/{dana.pk}/")
    need = criterion(page, "Need")
    need.locator(".answer-form > summary").click()
    need.get_by_label("Confirmed", exact=True).check()
    too_long = "Said so on the call. " * 250  # 5,250 characters, 5,249 once stripped
    need.get_by_label("Evidence for Need").fill(too_long)
    need.get_by_role("button", name="Save answer").click()

    need = criterion(page, "Need")
    expect(need.get_by_role("alert")).to_have_text("The evidence is too long: 5,249 characters; keep it to 5,000.")
    expect(need.get_by_label("Evidence for Need")).to_have_value(too_long)
    expect(need.get_by_label("Confirmed", exact=True)).to_be_checked()
    expect(page.locator(".completeness-percent")).to_have_text("0% complete")
    assert not Answer.objects.filter(lead=dana).exists()
    assert_accessible(page, "the lead page with refused evidence")


def test_a_manager_reassigns_a_handoff_whose_ae_left_and_the_new_ae_accepts_it(page, live_server, e2e_cast, dana):
    """Erin moves to South with Dana's handoff still waiting: Maria (North's manager) gives it to
    Nora, who is told and accepts it; Erin no longer sees it."""
    from accounts.models import Membership, Role
    from tests.factories import UserFactory

    nora = UserFactory.with_role(Role.AE, e2e_cast.north, username="nora", first_name="Nora", last_name="Novak", password="pw")
    confirm_bant(dana, e2e_cast.alice)
    handoff = hand_off(dana, to=e2e_cast.erin, by=e2e_cast.alice, next_step="Discovery call Thursday 3pm")
    Membership.objects.filter(user=e2e_cast.erin, team=e2e_cast.north).update(team=e2e_cast.south)

    login_as(page, live_server, "maria")
    page.goto(f"{live_server.url}/handoffs/{handoff.pk}/")
    page.get_by_text("Reassign…").click()
    page.get_by_label("Give this handoff to").select_option(label="Nora Novak")
    page.get_by_label("Reassign note").fill("Erin moved to South")
    assert_accessible(page)
    page.get_by_role("button", name="Reassign", exact=True).click()
    expect(page.locator(".flashes")).to_contain_text("Reassigned Dana Diaz to Nora Novak")
    expect(page.locator("article.packet")).to_contain_text("From Alice Adams to Nora Novak")

    page.context.clear_cookies()
    login_as(page, live_server, "nora")
    page.goto(f"{live_server.url}/notifications/")
    expect(page.locator("main")).to_contain_text("Handoff received: Dana Diaz")
    page.goto(f"{live_server.url}/handoffs/")
    packet = page.locator("article.packet", has_text="Dana Diaz")
    packet.get_by_role("button", name="Accept").click()
    expect(page.locator("article.packet", has_text="Dana Diaz").locator(STAGE_BADGE)).to_have_text("Accepted")

    dana.refresh_from_db()
    handoff.refresh_from_db()
    assert (handoff.status, handoff.to_user, dana.owner, dana.ae) == (HandoffStatus.ACCEPTED, nora, nora, nora)
