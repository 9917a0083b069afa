"""An SDR sees why a lead that just became an MQL is hot: the queue row's score expands to the
rules behind it, and the lead page shows fit and engagement apart with the MQL reason and the
first-touch clock the promotion started."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from qualify.scoring.ranking import score_now
from qualify.leads.models import Lead, Persona, Seniority, Stage
from qualify.scoring.ingest import ingest_events
from qualify.scoring.ranking import score_now
from qualify.scoring.tasks import score_leads
from tests.e2e.conftest import login_as
from tests.factories import LeadFactory
from tests.scoring.conftest import ensure_default_model


@pytest.fixture
def fresh_mql(e2e_cast, monkeypatch):
    """Marketing posts a pricing visit and a demo request; the scoring task (run here as the
    worker would) makes the lead an MQL."""
    monkeypatch.setattr("qualify.scoring.ingest._enqueue", lambda ids: None)
    ensure_default_model()
    lead = LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, first_name="Hana", last_name="Hot",
                       seniority=Seniority.VP, persona=Persona.CHAMPION, stage=Stage.NEW)
    now = timezone.now().isoformat()
    body = ingest_events(e2e_cast.mark, [
        {"client_id": "e2e-1", "type": "page_view", "occurred_at": now, "lead_id": lead.pk, "properties": {"page_category": "pricing"}},
        {"client_id": "e2e-2", "type": "demo_request", "occurred_at": now, "lead_id": lead.pk},
    ])
    assert body["created"] == 2
    score_leads([lead.pk])
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.stage == Stage.MQL
    return lead


def test_sdr_sees_the_score_breakdown_of_a_new_mql(page, live_server, e2e_cast, fresh_mql):
    login_as(page, live_server, "alice")
    page.goto(f"{live_server.url}/queue/")
    row = page.locator(f"#lead-{fresh_mql.pk}")
    expect(row.locator(".badge.stage-mql")).to_be_visible()
    score = row.locator(".score-cell summary")
    expect(score).to_contain_text(str(score_now(fresh_mql)))
    expect(score).to_have_attribute("title", f"Fit {round(fresh_mql.score_fit)} + engagement "
                                    f"{score_now(fresh_mql) - round(fresh_mql.score_fit)} (decaying) — open for the rules")
    score.click()  # htmx loads the rules into the expanded cell
    why = row.locator(".score-why")
    expect(why.get_by_text("Demo request")).to_be_visible()
    expect(why.get_by_text("Pricing page view")).to_be_visible()
    expect(why.get_by_text("VP", exact=True)).to_be_visible()
    expect(why.locator(".badge", has_text="trigger")).to_be_visible()

    page.get_by_role("link", name="Hana Hot").click()
    panel = page.locator("#score-panel")
    expect(panel).to_contain_text(f"Score {score_now(fresh_mql)}")
    expect(panel).to_contain_text("Default v2")  # scoring.0009
    expect(panel.locator(".line-fit", has_text="Champion")).to_be_visible()
    expect(panel.locator(".line-eng", has_text="Demo request")).to_be_visible()
    expect(panel).to_contain_text("At MQL")
    expect(page.locator(".timeline")).to_contain_text("Hard trigger: Demo request")
    # The promotion's after-commit hook started Alice's first-touch clock.
    clock = page.locator("#sla-panel .sla-clock")
    expect(clock).to_have_count(1)
    expect(clock).to_contain_text("First touch")
    expect(clock).to_contain_text("Alice")
    page.screenshot(path="/tmp/scoring-e2e-lead.png", full_page=True)
