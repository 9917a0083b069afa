"""Issue 13 in a real browser: RevOps opens the calibration page from the navigation, reads the
bands and the evidence, accepts a suggestion into the draft, and finds it in the draft in admin."""

import pytest
from playwright.sync_api import expect

from tests.calibration.conftest import LOST, WON, closed
from tests.e2e.conftest import login_as
from tests.scoring.conftest import ensure_default_model


@pytest.fixture
def outcomes(e2e_cast, settings):
    settings.CALIBRATION_MIN_SAMPLE = 10
    model = ensure_default_model()
    for i in range(20):
        closed(e2e_cast.north, WON if i < 15 else LOST, model=model, score=70 + i % 10, before=["demo_request"])
    for i in range(20):
        closed(e2e_cast.north, LOST, model=model, score=20 + i)
    return model


def test_revops_accepts_a_suggestion_into_the_draft_and_sees_it_in_admin(page, live_server, e2e_cast, outcomes):
    e2e_cast.rita.is_superuser = True  # admin's model pages, as the demo's rita
    e2e_cast.rita.save(update_fields=["is_superuser"])
    login_as(page, live_server, "rita")
    page.get_by_role("link", name="Calibration").click()
    expect(page.get_by_role("heading", name="Calibration of the rule score")).to_be_visible()
    expect(page.locator(".calib-note")).to_contain_text("40 closed leads: 15 won, 25 lost, 0 disqualified")
    expect(page.locator("#bands tbody tr")).to_have_count(10)
    suggestion = page.locator(".suggestion", has_text="Demo request: +30 → +60")
    expect(suggestion).to_contain_text("Leads it fired on converted at 75% (95% interval 53.1%–88.8%) against a base of 37.5%")
    page.screenshot(path="/tmp/calibration-page.png", full_page=True)

    suggestion.get_by_role("button", name="Accept into draft").click()
    expect(page.locator(".flash-success")).to_contain_text("In the draft of Default: Demo request: +30 → +60")
    expect(page.locator(".suggestion", has_text="Demo request: +30 → +60")).to_contain_text("In the draft")
    expect(page.locator(".suggestion", has_text="Demo request").get_by_role("button")).to_have_count(0)

    page.get_by_role("link", name="publish the draft in admin").click()
    expect(page.locator(".field-draft_state")).to_contain_text("changed — publish to apply")
    demo_request = page.locator("#rules-group tr.form-row", has=page.locator("textarea[name$='-label']:text-is('Demo request')"))
    points = demo_request.locator("input[name$='-points']")
    expect(points).to_have_value("60")
    page.screenshot(path="/tmp/calibration-admin-draft.png", full_page=True)
