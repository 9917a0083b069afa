"""RevOps trains a prediction model from the quality page and reads it; an SDR sorts her queue by
predicted conversion."""

import pytest
from playwright.sync_api import expect

from qualify.leads.models import Lead, Stage
from tests.e2e.conftest import login_as
from tests.predictions.helpers import make_leads


@pytest.fixture
def outcomes(e2e_cast, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the training task runs in the request that queues it
    make_leads(e2e_cast.north, 700, seed=31)
    make_leads(e2e_cast.north, 12, seed=32, closed=False)
    Lead.objects.filter(stage=Stage.NEW).update(owner=e2e_cast.alice)


def test_revops_trains_and_an_sdr_sorts_by_predicted(outcomes, page, live_server, new_context, tmp_path):
    login_as(page, live_server, "rita")
    page.goto(f"{live_server.url}/predictions/")
    expect(page.get_by_text("No prediction model yet")).to_be_visible()
    page.get_by_role("button", name="Train a new version").click()
    expect(page.locator("#kpi-auc")).to_be_visible()
    expect(page.locator("#reliability tbody tr")).to_have_count(10)
    expect(page.locator("#versions")).to_contain_text("Active")
    page.screenshot(path=str(tmp_path / "quality.png"), full_page=True)
    page.screenshot(path="/tmp/predict-quality.png", full_page=True)

    sdr = new_context().new_page()
    login_as(sdr, live_server, "alice")
    sdr.goto(f"{live_server.url}/queue/")
    sdr.locator("#sort-predicted").click()
    expect(sdr.locator("#sort-predicted")).to_contain_text("▼")
    shown = [float(t.strip().rstrip("%")) for t in sdr.locator("td.predicted-cell span").all_inner_texts()]
    assert len(shown) == 12 and shown == sorted(shown, reverse=True)
    sdr.screenshot(path="/tmp/predict-queue.png", full_page=True)
