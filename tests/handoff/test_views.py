import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import hand_off, reject
from qualify.leads.models import DisqualifyReason, Lead, Stage
from tests.conftest import login

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"


def test_lead_page_suggests_team_default_ae(client, alice, erin, qualified_lead):
    body = login(client, alice).get(reverse("leads:detail", args=[qualified_lead.pk])).content.decode()
    assert f'value="{erin.pk}" selected' in body
    assert "Hand off" in body


def test_hand_off_from_page_refused_lists_missing(client, alice, erin, worked_lead):
    response = login(client, alice).post(
        reverse("handoff:hand_off", args=[worked_lead.pk]), {"to_user": erin.pk, "next_step": NEXT}, follow=True
    )
    body = response.content.decode()
    assert "Answer the required criteria before handing off" in body and "Budget: not answered yet" in body
    assert not Handoff.objects.exists()


def test_hand_off_from_page(client, alice, erin, qualified_lead):
    login(client, alice).post(reverse("handoff:hand_off", args=[qualified_lead.pk]), {"to_user": erin.pk, "next_step": NEXT})
    assert Handoff.objects.get().to_user == erin


def test_double_submit_creates_one_handoff(client, alice, erin, qualified_lead):
    login(client, alice)
    for _ in range(2):
        client.post(reverse("handoff:hand_off", args=[qualified_lead.pk]), {"to_user": erin.pk, "next_step": NEXT})
    assert Handoff.objects.count() == 1


def test_outsider_cannot_hand_off(client, charlie, erin, qualified_lead):
    response = login(client, charlie).post(reverse("handoff:hand_off", args=[qualified_lead.pk]), {"to_user": erin.pk, "next_step": NEXT})
    assert response.status_code == 404
    assert not Handoff.objects.exists()


def test_inbox_lists_pending_oldest_first_with_wait(client, alice, erin, qualified_lead, north):
    from tests.factories import LeadFactory
    from tests.handoff.conftest import qualify_fully

    first = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    Handoff.objects.filter(pk=first.pk).update(created_at=first.created_at - datetime.timedelta(hours=5))
    second_lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, first_name="Zed")
    qualify_fully(second_lead, alice)
    hand_off(second_lead, to=erin, by=alice, next_step=NEXT)
    body = login(client, erin).get(reverse("handoff:inbox")).content.decode()
    assert body.index("Wanda Worked") < body.index("Zed ")
    assert "waiting 5 h" in body


def test_inbox_offers_accept_and_reject_to_those_who_decide(client, alice, erin, maria, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    for decider, params in ((erin, {}), (maria, {"scope": "team"})):
        body = login(client, decider).get(reverse("handoff:inbox"), params).content.decode()
        assert f'action="{reverse("handoff:accept", args=[h.pk])}"' in body
        assert f'action="{reverse("handoff:reject", args=[h.pk])}"' in body


def test_reject_from_inbox_requires_reason_and_note(client, alice, erin, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    login(client, erin)
    response = client.post(reverse("handoff:reject", args=[h.pk]), {"reason": "", "note": "x"}, HTTP_HX_REQUEST="true")
    assert "Choose a reason" in response.content.decode()
    other = DisqualifyReason.objects.get(name="Other")
    response = client.post(reverse("handoff:reject", args=[h.pk]), {"reason": other.pk, "note": "too short"}, HTTP_HX_REQUEST="true")
    assert "at least 40 characters" in response.content.decode()
    h.refresh_from_db()
    assert h.status == HandoffStatus.PENDING
    no_auth = DisqualifyReason.objects.get(name="No authority")
    client.post(reverse("handoff:reject", args=[h.pk]), {"reason": no_auth.pk, "note": "Contact is an intern, find the VP"})
    lead = Lead.objects.get(pk=qualified_lead.pk)
    assert (lead.stage, lead.owner) == (Stage.WORKING, alice)
    queue = login(client, alice).get("/queue/").content.decode()
    assert "Wanda Worked" in queue and "No authority" in queue


def test_accept_from_inbox(client, alice, erin, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    response = login(client, erin).post(reverse("handoff:accept", args=[h.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Accepted" in response.content.decode()
    assert Lead.objects.get(pk=qualified_lead.pk).stage == Stage.ACCEPTED


def test_other_team_ae_cannot_see_or_decide(client, alice, erin, sam, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    login(client, sam)
    assert client.get(reverse("handoff:detail", args=[h.pk])).status_code == 404
    assert client.post(reverse("handoff:accept", args=[h.pk])).status_code == 404
    assert Handoff.objects.get(pk=h.pk).status == HandoffStatus.PENDING


def test_feedback_rates_and_reasons(client, alice, erin, maria, north):
    from tests.factories import LeadFactory
    from tests.handoff.conftest import qualify_fully

    reason = DisqualifyReason.objects.get(name="No budget")
    for i, (source, outcome) in enumerate([("inbound", "accept"), ("inbound", "reject"), ("partner", "reject"), ("inbound", "accept")]):
        lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, source=source)
        qualify_fully(lead, alice)
        h = hand_off(lead, to=erin, by=alice, next_step=NEXT)
        if outcome == "accept":
            from qualify.handoff.workflow import accept

            accept(h, by=erin)
        else:
            reject(h, by=erin, reason=reason, note="No budget this fiscal year")
    response = login(client, maria).get(reverse("handoff:feedback"))
    ctx = response.context
    by_source = {r.label: r for r in ctx["by_source"]}
    assert (by_source["Inbound"].handed_off, by_source["Inbound"].acceptance_rate) == (3, 66.7)
    assert by_source["Partner"].acceptance_rate == 0.0
    assert [(r.label, r.accepted, r.rejected) for r in ctx["by_sdr"]] == [(str(alice), 2, 2)]
    assert {(r.source, r.reason, r.count, r.share) for r in ctx["reasons"]} == {("Inbound", "No budget", 1, 100.0), ("Partner", "No budget", 1, 100.0)}
    csv_body = client.get(reverse("handoff:feedback"), {"export": "by_source"}).content.decode()
    assert csv_body.splitlines()[0].startswith("source,handed_off") and "Inbound,3,2,1,0,66.7" in csv_body


def test_feedback_with_dates_out_of_reach_shows_the_default_range(client, maria):
    login(client, maria)
    for query in ({"end": "0001-01-01"}, {"start": "0001-01-01", "end": "9999-12-31"}):
        response = client.get(reverse("handoff:feedback"), query)
        assert response.status_code == 200
        assert response.context["end"] == timezone.localdate()


def test_feedback_is_refused_to_sdrs(client, alice):
    assert login(client, alice).get(reverse("handoff:feedback")).status_code == 403


@pytest.fixture
def api():
    return APIClient()


def test_api_hand_off_accept_reject(api, alice, erin, qualified_lead, worked_lead):
    api.force_authenticate(alice)
    response = api.post("/api/handoffs/", {"lead": qualified_lead.pk, "to_user": erin.pk, "next_step": NEXT}, format="json")
    assert response.status_code == 201, response.json()
    h = response.json()["id"]
    api.force_authenticate(erin)
    response = api.post(f"/api/handoffs/{h}/reject/", {"reason": DisqualifyReason.objects.get(name="Other").pk, "note": "short"}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    assert api.post(f"/api/handoffs/{h}/accept/", {}, format="json").json()["status"] == "accepted"
    assert api.post(f"/api/handoffs/{h}/accept/", {}, format="json").status_code == 400


def test_api_hand_off_with_missing_criteria_is_400_with_details(api, alice, erin, worked_lead):
    api.force_authenticate(alice)
    response = api.post("/api/handoffs/", {"lead": worked_lead.pk, "to_user": erin.pk, "next_step": NEXT}, format="json")
    assert response.status_code == 400
    assert "Budget: not answered yet" in response.json()["details"]
    assert not Handoff.objects.exists()


def test_api_outsider_hand_off_is_404(api, charlie, erin, qualified_lead):
    api.force_authenticate(charlie)
    response = api.post("/api/handoffs/", {"lead": qualified_lead.pk, "to_user": erin.pk, "next_step": NEXT}, format="json")
    assert response.status_code == 404


def test_hand_off_section_refreshes_after_an_answer(client, alice, worked_lead):
    from qualify.frameworks.selection import framework_for

    login(client, alice)
    budget = framework_for(worked_lead).criteria.get(key="budget")
    response = client.post(
        f"/leads/{worked_lead.pk}/answers/",
        {"criterion": budget.pk, "status": "confirmed", "evidence": "CFO confirmed 80k approved for Q3"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Trigger"] == "answers-changed"
    section = client.get(reverse("handoff:hand_off", args=[worked_lead.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="handoff-missing"' in section and "Authority: not answered yet" in section
    assert "Budget: not answered yet" not in section


def test_hand_off_section_is_404_for_outsiders(client, charlie, worked_lead):
    assert login(client, charlie).get(reverse("handoff:hand_off", args=[worked_lead.pk])).status_code == 404


def test_accept_without_htmx_refuses_an_off_site_next(client, alice, erin, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    response = login(client, erin).post(reverse("handoff:accept", args=[h.pk]), {"next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == reverse("handoff:inbox")
    assert Handoff.objects.get(pk=h.pk).status == HandoffStatus.ACCEPTED


def test_accept_without_htmx_goes_back_to_a_same_site_next(client, alice, erin, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    response = login(client, erin).post(reverse("handoff:accept", args=[h.pk]), {"next": f"/leads/{qualified_lead.pk}/"})
    assert response.url == f"/leads/{qualified_lead.pk}/"


def test_refused_rejection_keeps_the_reason_and_note_and_names_the_problem(client, qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step="Demo Tuesday 10:00 with the CFO")
    reason = DisqualifyReason.objects.get(name="No authority")
    note = ("The contact cannot sign; " * 800).strip()  # 19,999 characters
    response = login(client, erin).post(
        f"/handoffs/{h.pk}/reject/", {"reason": reason.pk, "note": note}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "The note is too long: 19,999 characters; keep it to 5,000." in html
    assert '<details class="reject" open>' in html
    assert f'<option value="{reason.pk}" selected>' in html
    assert "The contact cannot sign; The contact" in html
    h.refresh_from_db()
    assert h.status == "pending"


def test_refused_rejection_without_htmx_shows_the_packet_with_what_was_typed(client, qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step="Demo Tuesday 10:00 with the CFO")
    reason = DisqualifyReason.objects.get(name="Other")  # needs 40 characters
    response = login(client, erin).post(f"/handoffs/{h.pk}/reject/", {"reason": reason.pk, "note": "Too thin"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "needs a note of at least 40 characters" in html
    assert f'<option value="{reason.pk}" selected>' in html and "Too thin</textarea>" in html


def test_refused_hand_off_keeps_the_next_step_and_note(client, worked_lead, alice, erin):
    response = login(client, alice).post(
        f"/leads/{worked_lead.pk}/hand-off/", {"to_user": erin.pk, "next_step": "Demo Tue", "note": "Keen buyer"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert "Answer the required criteria before handing off" in html
    assert "Demo Tue</textarea>" in html and "Keen buyer</textarea>" in html


def test_a_refused_hand_off_without_javascript_keeps_what_was_typed(client, alice, erin, worked_lead):
    """No htmx: the lead page again (not a redirect), the message and the form as typed."""
    note = "They asked for pricing in EUR"
    response = login(client, alice).post(reverse("handoff:hand_off", args=[worked_lead.pk]),
                                         {"to_user": erin.pk, "next_step": NEXT, "note": note})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Answer the required criteria before handing off" in body
    assert f">{NEXT}</textarea>" in body and f">{note}</textarea>" in body
    assert f'value="{erin.pk}" selected' in body
    assert not Handoff.objects.exists()


def test_packet_answers_show_the_status_label_old_packets_too(client, alice, erin, qualified_lead):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    body = login(client, erin).get(reverse("handoff:detail", args=[h.pk])).content.decode()
    assert "<td>Confirmed </td>" in body and "<td>confirmed </td>" not in body
    # A packet is frozen JSON holding the code: one stored before this change reads the same.
    Handoff.objects.filter(pk=h.pk).update(packet={**h.packet, "answers": [{**h.packet["answers"][0], "status": "partial"}]})
    body = client.get(reverse("handoff:detail", args=[h.pk])).content.decode()
    assert "<td>Partial </td>" in body


def test_an_sdr_opening_handoffs_lands_on_the_ones_they_sent(client, alice, erin, qualified_lead):
    """No handoff is ever sent to an SDR: the inbox would always be empty for them."""
    hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    login(client, alice)
    response = client.get(reverse("handoff:inbox"))
    assert response.status_code == 302 and response.url == reverse("handoff:sent")
    body = client.get(reverse("handoff:sent")).content.decode()
    assert str(qualified_lead) in body and ">Received<" not in body
    body = login(client, erin).get(reverse("handoff:sent")).content.decode()
    assert ">Received<" in body
