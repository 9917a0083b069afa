"""Rejections with teeth: a reason naming a framework dimension disputes that criterion's answer
(frameworks/listeners.py), and hand_off refuses the lead until it is answered again with new evidence."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qualify.errors import DomainError
from qualify.frameworks.answers import record_answer
from qualify.frameworks.completeness import completeness
from qualify.frameworks.models import Answer, Criterion
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import accept, hand_off, reject
from qualify.leads.models import DisqualifyReason, Stage
from tests.conftest import login

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"
AE_NOTE = "Spoke to Wanda: she cannot sign anything over 5k, the CFO decides"
HTMX = {"HTTP_HX_REQUEST": "true"}


def authority(lead) -> Criterion:
    return Criterion.objects.get(framework__slug="bant", key="authority")


def rejected_for_authority(lead, alice, erin) -> Handoff:
    handoff = hand_off(lead, to=erin, by=alice, next_step=NEXT)
    reject(handoff, by=erin, reason=DisqualifyReason.objects.get(name="No authority"), note=AE_NOTE)
    lead.refresh_from_db()
    return handoff


def test_rejection_naming_a_dimension_disputes_that_answer_with_the_ae_note(qualified_lead, alice, erin):
    before = completeness(qualified_lead)

    rejected_for_authority(qualified_lead, alice, erin)

    current = Answer.objects.filter(lead=qualified_lead, criterion=authority(qualified_lead)).first()
    assert current.disputed and current.evidence == AE_NOTE and current.author == erin
    assert current.status == "confirmed"  # repeats what it disputes; the earlier answer stays as history
    after = completeness(qualified_lead)
    assert after.percent < before.percent
    assert [str(m) for m in after.missing_required] == [
        "Authority: disputed by the AE who rejected the handoff: answer again with new evidence"
    ]


def test_disputed_lead_cannot_be_handed_straight_back(qualified_lead, alice, erin):
    rejected_for_authority(qualified_lead, alice, erin)
    assert qualified_lead.stage == Stage.WORKING  # No authority goes back to the SDR

    with pytest.raises(DomainError, match="Authority: disputed"):
        hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    assert Handoff.objects.filter(lead=qualified_lead).count() == 1


def test_reconfirming_with_the_disputed_evidence_or_none_is_refused(qualified_lead, alice, erin):
    rejected_for_authority(qualified_lead, alice, erin)
    old_evidence = Answer.objects.filter(lead=qualified_lead, criterion=authority(qualified_lead), disputed=False)[0].evidence

    with pytest.raises(DomainError, match="the evidence the AE disputed"):
        record_answer(qualified_lead, criterion=authority(qualified_lead), by=alice, status="confirmed", evidence=old_evidence)
    with pytest.raises(DomainError, match="new evidence"):
        record_answer(qualified_lead, criterion=authority(qualified_lead), by=alice, status="unknown")
    assert completeness(qualified_lead).disputed_count == 1


def test_reconfirmed_with_new_evidence_the_lead_can_be_handed_off_again(qualified_lead, alice, erin):
    rejected_for_authority(qualified_lead, alice, erin)

    record_answer(qualified_lead, criterion=authority(qualified_lead), by=alice, status="confirmed",
                  evidence="Met the CFO with Wanda on Thursday; he signs and joins the demo")

    assert completeness(qualified_lead).is_complete
    second = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    assert second.status == HandoffStatus.PENDING


@pytest.mark.parametrize("reason_name", ["Competitor locked in", "Duplicate"])
def test_reason_without_a_matching_dimension_disputes_nothing(qualified_lead, alice, erin, reason_name):
    handoff = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)  # BANT has no Competition criterion

    reject(handoff, by=erin, reason=DisqualifyReason.objects.get(name=reason_name), note=AE_NOTE)

    assert not Answer.objects.filter(lead=qualified_lead, disputed=True).exists()


def test_unanswered_dimension_is_disputed_too(worked_lead, alice, erin, bant_need_optional):
    """A criterion never answered gets the dispute as its first answer (and a blocking one)."""
    from tests.handoff.conftest import qualify_fully

    qualify_fully(worked_lead, alice)
    handoff = hand_off(worked_lead, to=erin, by=alice, next_step=NEXT)
    reject(handoff, by=erin, reason=DisqualifyReason.objects.get(name="Not enough discovery"), note=AE_NOTE)

    need = Answer.objects.get(lead=worked_lead, criterion__key="need")
    assert need.disputed and need.status == "" and need.evidence == AE_NOTE
    assert [m.reason for m in completeness(worked_lead).missing_required] == ["disputed"]


@pytest.fixture
def bant_need_optional(db):
    Criterion.objects.filter(framework__slug="bant", key="need").update(required_for_handoff=False)


def test_accepting_disputes_nothing_and_costs_no_query_for_it(qualified_lead, alice, erin):
    handoff = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    with CaptureQueriesContext(connection) as queries:
        accept(handoff, by=erin)
    assert not any("frameworks_answer" in q["sql"] for q in queries.captured_queries)
    assert not Answer.objects.filter(disputed=True).exists()


def test_answers_panel_shows_the_dispute_and_what_was_disputed(client, qualified_lead, alice, erin):
    rejected_for_authority(qualified_lead, alice, erin)

    html = login(client, alice).get(f"/leads/{qualified_lead.pk}/answers/", **HTMX).content.decode()

    assert "1 disputed" in html
    assert "Disputed" in html and AE_NOTE in html
    assert "was Confirmed" in html
    assert "Authority</a>: disputed by the AE" in html


def test_the_api_shows_the_dispute(qualified_lead, alice, erin):
    from rest_framework.test import APIClient

    rejected_for_authority(qualified_lead, alice, erin)
    api = APIClient()
    api.force_authenticate(alice)

    body = api.get("/api/answers/completeness/", {"lead": qualified_lead.pk}).json()
    [item] = [i for i in body["items"] if i["dimension"] == "Authority"]
    assert item["is_disputed"] and item["credit"] == 0
    answers = api.get("/api/answers/", {"lead": qualified_lead.pk}).json()
    rows = answers["results"] if isinstance(answers, dict) else answers
    assert any(a["disputed"] and a["evidence"] == AE_NOTE for a in rows)
