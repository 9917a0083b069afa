"""Issue 16 in a real browser: RevOps finds two duplicates on the duplicates page, dismisses a
false pair, merges the real one choosing the survivor and a field, and the merged-away URL opens
the survivor."""

import pytest
from playwright.sync_api import expect

from qualify.dedupe.models import DuplicateCandidate, Status
from qualify.leads import records
from qualify.leads.models import Event, Lead, MergedLead, Stage
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
    page.get_by_role("radio", name="dana@acme.example", exact=True).check()  # keep the survivor's spelling of the e-mail
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
