"""Issue 16 in a real browser: RevOps finds two duplicates on the duplicates page, dismisses a
false pair, merges the real one choosing the survivor and a field, and the merged-away URL opens
the survivor."""

import pytest
from playwright.sync_api import expect

from qualify.dedupe.models import DuplicateCandidate, Status
from qualify.leads import records
from qualify.leads.models import Event, Lead, MergedLead, Stage
from tests.e2e.a11y import assert_accessible
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, EventFactory, LeadFactory


@pytest.fixture
def twins(e2e_cast):
    c = e2e_cast
    acme = AccountFactory(team=c.north, name="Acme Robotics", domain="acme.example")
    first = LeadFactory(team=c.north, account=acme, owner=c.alice, stage=Stage.WORKING, first_name="Dana", last_name="Diaz",
                        email="dana@acme.example", phone="")
    EventFactory.create_batch(2, lead=first)
    # Created through the core, so detection (after commit) flags the pair as a real door would.
    second = records.create_lead(by=c.mark, team=c.north, account=acme, first_name="Dana", last_name="Diaz",
                                 email="Dana@Acme.example", phone="+1 555 010 2030")
    EventFactory.create_batch(3, lead=second)
    namesake = LeadFactory(team=c.north, account=acme, first_name="Pat", last_name="Poe", email="pat@acme.example")
    records.create_lead(by=c.mark, team=c.north, account=acme, first_name="Pat", last_name="Poe", email="pat.poe@acme.example")
    return first, second, namesake


def test_revops_merges_two_duplicates_from_the_duplicates_page(page, live_server, e2e_cast, twins):
    first, second, namesake = twins
    login_as(page, live_server, "rita")
    page.get_by_role("link", name="Duplicates", exact=True).click()
    expect(page.get_by_role("heading", name="Duplicates")).to_be_visible()
    _shows_its_current_tab(page, "Leads", "Accounts")
    assert_accessible(page, "the duplicates page")
    rows = page.locator("#duplicates tbody tr")
    expect(rows).to_have_count(2)
    real = page.locator("tr", has_text="same e-mail dana@acme.example")
    expect(real).to_contain_text("95%")
    false_pair = page.locator("tr", has_text="same name at acme.example")

    # "Not a duplicate" removes the row in place (htmx) and for good.
    false_pair.get_by_role("button", name="Not a duplicate").click()
    expect(rows).to_have_count(1)

    real.get_by_role("link", name="Merge…").click()
    expect(page.get_by_role("heading", name="Merge Dana Diaz and Dana Diaz")).to_be_visible()
    # The lead further along (Working) is proposed as the survivor; the phone only the other has.
    expect(page.get_by_label(f"Keep #{first.pk}")).to_be_checked()
    expect(page.get_by_label("+1 555 010 2030")).to_be_checked()
    _sits_beside_its_value(page.get_by_label("+1 555 010 2030"), "+1 555 010 2030")
    _sits_beside_its_value(page.get_by_label(f"Keep #{first.pk}"), f"Keep #{first.pk}")
    # Every door stores the e-mail lower-cased, so "Dana@Acme.example" reads as the survivor's spelling.
    emails = page.get_by_role("radio", name="dana@acme.example", exact=True)
    expect(emails).to_have_count(2)
    expect(emails.first).to_have_attribute("aria-describedby", "field-email")
    assert_accessible(page, "the merge page")
    emails.first.check()
    page.get_by_role("button", name="Merge").click()

    expect(page.locator(".flash")).to_contain_text(f"Merged into Dana Diaz (#{first.pk})")
    expect(page.locator("#duplicates tbody")).to_contain_text("No open pairs")

    # The merged-away id opens the survivor.
    page.goto(f"{live_server.url}/leads/{second.pk}/")
    assert url_path(page) == f"/leads/{first.pk}/"
    expect(page.get_by_text("+1 555 010 2030").first).to_be_visible()

    survivor = Lead.objects.get(pk=first.pk)
    assert (survivor.email, survivor.phone, survivor.stage) == ("dana@acme.example", "+1 555 010 2030", Stage.WORKING)
    assert not Lead.objects.filter(pk=second.pk).exists()
    assert MergedLead.objects.get(merged_id=second.pk).survivor_id == first.pk
    assert Event.objects.filter(lead_id=first.pk).count() == 5
    assert set(DuplicateCandidate.objects.values_list("status", flat=True)) == {Status.MERGED, Status.DISMISSED}


def _shows_its_current_tab(page, current: str, other: str) -> None:
    """aria-current on the current tab, and a look of its own (the white, bold tab)."""
    tabs = page.get_by_role("navigation", name="Kinds of duplicates")
    here, there = tabs.get_by_role("link", name=current), tabs.get_by_role("link", name=other)
    expect(here).to_have_attribute("aria-current", "page")
    expect(there).not_to_have_attribute("aria-current", "page")
    style = "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).fontWeight]"
    assert here.evaluate(style) == ["rgb(255, 255, 255)", "600"]
    assert there.evaluate(style) != here.evaluate(style)


def _sits_beside_its_value(radio, value: str) -> None:
    """The radio is on the line of its value's text, just left of it (it once sat above it,
    centred in the cell)."""
    box, text = radio.evaluate("""input => {
        const range = document.createRange();
        range.setStartAfter(input);
        range.setEndAfter(input.closest("label").lastChild);
        const r = range.getBoundingClientRect(), b = input.getBoundingClientRect();
        return [{x: b.x, y: b.y, width: b.width, height: b.height},
                {x: r.x, y: r.y, width: r.width, height: r.height, text: range.toString().trim()}];
    }""")
    assert text["text"] == value
    assert abs((box["y"] + box["height"] / 2) - (text["y"] + text["height"] / 2)) < 4, (box, text)
    assert 0 <= text["x"] - (box["x"] + box["width"]) < 12, (box, text)


def test_the_merge_form_keeps_where_the_person_first_came_from(page, live_server, e2e_cast):
    """Attribution is first touch: an inbound lead who came again through a webinar keeps the
    first lead's source and campaign by default, and the newer title."""
    from qualify.leads.models import Source

    c = e2e_cast
    acme = AccountFactory(team=c.north, name="Acme Robotics", domain="acme.example")
    first = LeadFactory(team=c.north, account=acme, first_name="Dana", last_name="Diaz", email="dana@acme.example",
                        source=Source.INBOUND, campaign="Newsletter", title="Head of Ops")
    again = records.create_lead(by=c.mark, team=c.north, account=acme, first_name="Dana", last_name="Diaz",
                                email="DANA@acme.example", source=Source.EVENT,
                                campaign="Webinar: qualification that sticks", title="COO")
    login_as(page, live_server, "maria")
    page.get_by_role("link", name="Duplicates", exact=True).click()
    page.locator("tr", has_text="same e-mail dana@acme.example").get_by_role("link", name="Merge…").click()
    expect(page.get_by_role("heading", name="Merge Dana Diaz and Dana Diaz")).to_be_visible()

    expect(page.get_by_label(f"Keep #{first.pk}")).to_be_checked()
    expect(page.get_by_role("radio", name="Inbound", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="Event", exact=True)).not_to_be_checked()
    expect(page.get_by_role("radio", name="Newsletter", exact=True)).to_be_checked()
    expect(page.get_by_role("radio", name="COO", exact=True)).to_be_checked()  # the newer title
    assert_accessible(page, "the merge page with first-touch defaults")

    page.get_by_role("button", name="Merge").click()
    expect(page.locator(".flash")).to_contain_text(f"#{again.pk} now opens it")
    kept = Lead.objects.get(pk=first.pk)
    assert (kept.source, kept.campaign, kept.title) == (Source.INBOUND, "Newsletter", "COO")
