"""Issue 15 in a real browser: RevOps opens the default model's change page on a 1440×900 screen,
reads it without a horizontal scrollbar, and sees on each rule how many open leads it fires on now;
every rule's inputs show their whole value, and a value's codes their labels."""

import re

import pytest
from playwright.sync_api import expect

from qualify.leads.models import Property, Seniority, Stage
from qualify.scoring.admin import FieldMenu
from qualify.scoring.models import Rule, RuleGroup
from tests.e2e.a11y import assert_accessible
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


# Each control of the groups and rules tables whose value does not fit in it: a text box whose text
# scrolls, or a menu whose chosen option's text is wider than the room beside its arrow. A menu may
# cut a custom property's label only when its title says it whole and the text under it shows it
# whole (wrapped, nothing scrolled away).
CUT_CONTROLS = """() => {
    const canvas = document.createElement('canvas').getContext('2d');
    const cut = [];
    for (const el of document.querySelectorAll(':is(#groups-group, #rules-group) tr.form-row:not(.empty-form) :is(input[type=text], input[type=number], textarea, select)')) {
        const style = getComputedStyle(el);
        let over;
        if (el.tagName === 'SELECT') {
            canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
            const text = el.selectedOptions[0] ? el.selectedOptions[0].text : '';
            const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 22;  // the arrow
            over = canvas.measureText(text).width > room;
            const full = el.parentElement.querySelector('.field-full');
            if (over && el.title === text && full && full.checkVisibility() && full.textContent === text
                && full.scrollWidth <= full.clientWidth && full.scrollHeight <= full.clientHeight) over = false;
        } else {
            over = el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1;
        }
        if (over) cut.push(`${el.name}: ${el.tagName === 'SELECT' ? el.selectedOptions[0].text : el.value}`);
    }
    return cut;
}"""

# The options of a rule's field menu that are no longer than the longest built-in field's name
# (admin.FieldMenu.fits) but do not fit the menu: the text under the menu is left out for them.
CUT_SHORT_OPTIONS = """(fits) => {
    const el = document.querySelector('#rules-group tr.form-row:not(.empty-form) td.field-field select');
    const style = getComputedStyle(el);
    const canvas = document.createElement('canvas').getContext('2d');
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 22;
    return [...el.options].map(o => o.text).filter(t => t.length <= fits && canvas.measureText(t).width > room);
}"""
LONG_LABEL = "Product webinar sessions attended in the last quarter"


def test_every_rule_shows_its_whole_value_and_the_labels_of_its_codes(new_context, live_server, e2e_cast, model_with_leads):
    e2e_cast.rita.is_superuser = True
    e2e_cast.rita.save(update_fields=["is_superuser"])
    # A rule on a custom property whose label no menu of the table's width holds.
    Property.objects.create(key="webinars", label=LONG_LABEL, kind="number")
    Rule.objects.create(model=model_with_leads, group=RuleGroup.objects.filter(model=model_with_leads).first(),
                        label="Webinar regular", points=5, field="lead.properties.webinars", op="range", value="3..")
    page = new_context(viewport={"width": 1440, "height": 900}).new_page()
    login_as(page, live_server, "rita")
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{model_with_leads.pk}/change/")
    rules = page.locator("#rules-group")
    expect(rules).to_be_visible()
    page.locator("#groups-group").screenshot(path="/tmp/polish-scoring-groups.png")
    page.evaluate("document.querySelector('#rules-group').scrollIntoView()")
    rules.screenshot(path="/tmp/polish-scoring-rules.png")

    cut = page.evaluate(CUT_CONTROLS)
    assert cut == [], "cut: " + "; ".join(cut)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440
    # A group's kind is its whole phrase.
    expect(page.locator("#groups-group td.field-kind select option:checked").first).to_have_text(
        "Fit (firmographic / persona; never decays)")
    assert page.evaluate(CUT_SHORT_OPTIONS, FieldMenu.fits) == []

    def row(label: str):
        return rules.locator("tr.form-row", has=page.locator(f"textarea[name$='-label']:text-is('{label}')"))

    expect(row("C-level").locator("td.field-value")).to_contain_text("C-level")
    expect(row("Economic buyer").locator("td.field-value")).to_contain_text("Economic buyer")
    expect(row("ICP segment: mid-market or enterprise").locator("td.field-value")).to_contain_text("Mid-market, Enterprise")
    # Free text (an industry, a page category) has no labels to show.
    expect(row("Target industry").locator("td.field-value .value-labels")).to_have_count(0)
    expect(row("Pricing page view").locator("td.field-value .value-labels")).to_have_count(0)
    # The menus name the group and the operator in words that fit.
    expect(row("C-level").locator("td.field-group select option:checked")).to_have_text("Seniority")
    expect(row("C-level").locator("td.field-op select option:checked")).to_have_text("is one of")

    # The property's label, cut in the menu, is whole in its title and under it; a built-in field's
    # name, which fits, is not repeated.
    webinars = row("Webinar regular").locator("td.field-field")
    full = f"Lead property: {LONG_LABEL}"
    expect(webinars.locator("select")).to_have_attribute("title", full)
    expect(webinars.locator(".field-full")).to_have_text(full)
    expect(row("C-level").locator("td.field-field .field-full")).to_have_count(0)
    row("Webinar regular").screenshot(path="/tmp/polish-scoring-field-menu.png")
    # Another field chosen: the text under the menu no longer describes it, so it goes.
    webinars.locator("select").select_option("seniority")
    expect(webinars.locator(".field-full")).to_be_hidden()


def test_an_unchanged_draft_says_there_is_nothing_to_publish_until_it_changes(page, live_server, e2e_cast, model_with_leads):
    e2e_cast.rita.is_superuser = True
    e2e_cast.rita.save(update_fields=["is_superuser"])
    login_as(page, live_server, "rita")
    page.goto(f"{live_server.url}/admin/scoring/scoringmodel/{model_with_leads.pk}/change/")
    version = model_with_leads.current_version.number

    nothing = page.get_by_text(f"Nothing to publish: the draft is v{version}")
    expect(nothing).to_be_visible()
    expect(nothing).to_have_attribute("aria-disabled", "true")
    expect(page.get_by_role("button", name=re.compile("and recompute"))).to_have_count(0)
    # The message itself (Django admin's own inline tables label their inputs by header only, which axe refuses).
    assert_accessible(page, "the 'nothing to publish' message", include=".object-tools")

    row = page.locator("#rules-group tr.form-row", has=page.locator("textarea[name$='-label']:text-is('VP')"))
    row.locator("td.field-points input").fill("12")
    page.get_by_role("button", name="Save and continue editing").click()
    expect(page.get_by_role("button", name=f"Publish v{version + 1} and recompute")).to_be_visible()
    expect(page.get_by_text("Nothing to publish")).to_have_count(0)
