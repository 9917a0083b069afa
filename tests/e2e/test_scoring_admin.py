"""Issue 15 in a real browser: RevOps opens the default model's change page on a 1440×900 screen,
reads it without a horizontal scrollbar, and sees on each rule how many open leads it fires on now."""

import pytest
from playwright.sync_api import expect

from qualify.leads.models import Seniority, Stage
from qualify.scoring.models import Rule
from tests.e2e.conftest import login_as
from tests.factories import LeadFactory
from tests.scoring.conftest import ensure_default_model


@pytest.fixture
def model_with_leads(e2e_cast):
    model = ensure_default_model()
    for i in range(3):
        LeadFactory(team=e2e_cast.north, stage=Stage.NEW, seniority=Seniority.VP if i == 0 else Seniority.MANAGER)
    LeadFactory(team=e2e_cast.north, stage=Stage.WON, seniority=Seniority.VP)  # closed: not in scope
    return model


def test_revops_reads_the_model_page_on_a_1440_screen_with_firing_counts(new_context, live_server, e2e_cast, model_with_leads):
    e2e_cast.rita.is_superuser = True  # admin's model pages, as the demo's rita
    e2e_cast.rita.save(update_fields=["is_superuser"])
    page = new_context(viewport={"width": 1440, "height": 900}).new_page()
    login_as(page, live_server, "rita")
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{model_with_leads.pk}/change/")
    expect(page.locator("#rule_set-group, #rules-group").first).to_be_visible()

    width = page.evaluate("document.documentElement.scrollWidth")
    # No inner scrollbar either: every inline table ends inside the viewport.
    right = page.evaluate("Math.max(...[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().right))")
    module = page.evaluate("document.querySelector('#rules-group').getBoundingClientRect().right")
    print(f"scrollWidth at 1440x900: {width}; widest table ends at {right:.0f} px")
    page.screenshot(path="/tmp/scoring-admin-1440.png", full_page=True)
    page.locator("#rules-group").screenshot(path="/tmp/scoring-admin-rules.png")
    assert width <= 1440, f"the model page is {width} px wide at a 1440 px viewport"
    assert right <= module <= 1440, f"a table of the model page ends at {right} px, past its box ({module} px)"

    vp = Rule.objects.get(model=model_with_leads, label="VP")
    cell = page.locator(f"[data-rule-fires='{vp.pk}']")
    expect(cell).to_contain_text("1 of 3 open leads")
    expect(page.locator("[data-rule-fires]")).to_have_count(Rule.objects.filter(model=model_with_leads).count())
