"""RevOps corrects a lead's seniority in Django admin, and the SDR's lead page shows the new fit
grade at once; an edit no fit rule reads (the phone) leaves the score as it was.

With the shipped default model, a lead at a mid-market retail account of 250 people has fit 20
(segment 10 + size 10, no target industry): grade C. Seniority C-level adds 20: fit 40, grade A
(tests/scoring/test_triggers.py works through the same arithmetic).

The scoring task runs in the live server's thread, right after the admin's transaction commits,
exactly as a worker would run it when the message arrives (no broker in these tests).
"""

import pytest
from playwright.sync_api import expect

from qualify.leads.models import Lead, Seniority
from qualify.scoring import tasks
from tests.e2e.conftest import login_as, url_path
from tests.factories import AccountFactory, LeadFactory
from tests.scoring.conftest import ensure_default_model


@pytest.fixture
def sent(monkeypatch):
    """Every score_leads message, delivered at once to the task as a worker would."""
    messages: list[list[int]] = []

    def deliver(lead_ids):
        messages.append(lead_ids)
        tasks.score_leads(lead_ids)

    monkeypatch.setattr(tasks.score_leads, "delay", deliver)
    return messages


@pytest.fixture
def junior_lead(e2e_cast):
    """Alice's lead, entered as an individual contributor and scored once: fit 20, grade C."""
    ensure_default_model()
    retail = AccountFactory(team=e2e_cast.north, name="Corner Shops", industry="Retail")
    lead = LeadFactory(team=e2e_cast.north, owner=e2e_cast.alice, account=retail, first_name="Cora",
                       last_name="Chief", seniority=Seniority.INDIVIDUAL, phone="")
    tasks.score_leads([lead.pk])
    lead = Lead.objects.get(pk=lead.pk)
    assert (lead.score_fit, lead.fit_grade, lead.score) == (20, "C", 20)
    return lead


def shows_score(page, score: int, grade: str) -> None:
    """The lead page's header score and its score panel (total and fit grade) read as given."""
    expect(page.locator(".score-box .score")).to_have_text(str(score))
    panel = page.locator("#score-panel")
    expect(panel.locator(".score-big")).to_have_text(str(score))
    expect(panel.locator(".grade")).to_have_text(grade)
    expect(panel.locator(".score-sum")).to_contain_text(f"fit {score}")


def test_revops_fixes_seniority_in_admin_and_the_sdr_sees_the_new_grade(page, live_server, e2e_cast, page_for, junior_lead, sent):
    # The seeded cast's rita is staff only; the demo's rita (qualify/demo/) is also superuser,
    # which is what lets her into every admin page.
    e2e_cast.rita.is_superuser = True
    e2e_cast.rita.save(update_fields=["is_superuser"])
    lead_url = f"{live_server.url}/leads/{junior_lead.pk}/"
    admin_url = f"{live_server.url}/admin/leads/lead/{junior_lead.pk}/change/"

    alice = page_for("alice")
    alice.goto(lead_url)
    expect(alice.get_by_role("heading", name="Cora Chief")).to_be_visible()
    shows_score(alice, 20, "C")

    login_as(page, live_server, "rita")
    page.goto(admin_url)
    seniority = page.get_by_label("Seniority")
    expect(seniority).to_have_value(Seniority.INDIVIDUAL)
    seniority.select_option(label="C-level")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert url_path(page) == "/admin/leads/lead/"

    alice.reload()
    shows_score(alice, 40, "A")
    expect(alice.locator("#score-panel .line-fit", has_text="C-level")).to_be_visible()
    assert sent == [[junior_lead.pk]]  # one message, for this lead only

    # Negative: a phone number is read by no fit rule, so nothing is sent and the score stands.
    page.goto(admin_url)
    expect(page.get_by_label("Seniority")).to_have_value(Seniority.C_LEVEL)
    page.get_by_label("Phone").fill("+1 555 0100")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    assert sent == [[junior_lead.pk]]

    alice.reload()
    expect(alice.locator(".lead-head")).to_contain_text("+1 555 0100")  # the edit did land
    shows_score(alice, 40, "A")
