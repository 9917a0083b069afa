"""A manager imports a marketing export: an unknown column becomes a new property, a column's
values become stages; the property shows on the lead page and filters the queue."""

import re

from playwright.sync_api import expect

from qualify.leads.models import Lead, Property, Stage
from tests.e2e.conftest import login_as

CSV = (
    "First Name,Email,Company,Converted,TotalVisits,Close Date\n"
    "Ann,ann@acme.example,Acme,,12,\n"
    "Ben,ben@acme.example,Acme,,3,\n"
    "Cy,cy@beta.example,Beta,1,20,2026-01-10\n"
    "Di,di@beta.example,Beta,0,1,2026-01-11\n"
)


def test_import_maps_a_new_property_and_stages_then_the_queue_filters_by_it(page, live_server, e2e_cast, tmp_path):
    path = tmp_path / "marketing-export.csv"
    path.write_text(CSV)
    login_as(page, live_server, "maria")
    page.goto(f"{live_server.url}/imports/")
    page.locator("select[name=kind]").select_option("leads")
    page.locator("input[name=file]").set_input_files(str(path))
    page.get_by_role("button", name=re.compile("Upload")).click()
    expect(page.get_by_role("heading", name=re.compile("Columns"))).to_be_visible()

    page.get_by_label("Field for TotalVisits").select_option("new")
    expect(page.get_by_label("New property kind for TotalVisits")).to_have_value("number")  # inferred
    page.get_by_label("New property label for TotalVisits").fill("Total visits")
    page.get_by_label("Field for Converted").select_option("stage")
    converted = page.locator("tr", has=page.get_by_label("Field for Converted"))
    converted.locator("summary", has_text="Map values").click()
    page.get_by_label("Converted value 1").select_option("won")
    page.get_by_label("Converted value 0").select_option("lost")
    page.screenshot(path="/tmp/props-import-mapping.png", full_page=True)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-message")).to_contain_text("Imported 4 leads")

    assert Property.objects.get().key == "total_visits"
    assert dict(Lead.objects.values_list("first_name", "stage")) == {
        "Ann": Stage.NEW, "Ben": Stage.NEW, "Cy": Stage.WON, "Di": Stage.LOST}
    ann = Lead.objects.get(first_name="Ann")
    page.goto(f"{live_server.url}{ann.get_absolute_url()}")
    expect(page.locator("dd[data-property=total_visits]")).to_have_text("12")
    page.screenshot(path="/tmp/props-lead-page.png", full_page=True)

    page.goto(f"{live_server.url}/queue/?scope=team")
    expect(page.locator("tr.lead-row")).to_have_count(2)
    page.locator("details.prop-filters > summary").click()  # loads the inputs (htmx)
    page.get_by_label("Total visits at least").fill("10")
    page.get_by_label("Total visits at least").press("Enter")
    expect(page.locator("tr.lead-row")).to_have_count(1)
    expect(page.locator("tr.lead-row")).to_contain_text("Ann")
    assert "prop.total_visits.min=10" in page.url
    page.screenshot(path="/tmp/props-queue-filter.png", full_page=True)
