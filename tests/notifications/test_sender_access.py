"""The SDR who handed a lead off sees what became of it ("Sent") and keeps reading the lead."""

import pytest

from qualify.handoff.workflow import accept, hand_off, reject
from qualify.leads.models import DisqualifyReason, Lead, Stage
from tests.conftest import login
from tests.notifications.conftest import NEXT

NOTE = "The contact cannot sign: procurement owns it"


def test_sent_lists_my_handoffs_and_their_outcomes(client, qualified_lead, alice, bob, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    reject(h, by=erin, reason=DisqualifyReason.objects.get(name="No authority"), note=NOTE)
    html = login(client, alice).get("/handoffs/sent/").content.decode()
    assert f'id="sent-{h.pk}"' in html and "Rejected" in html and "No authority" in html and NOTE in html
    assert "1 rejected" in html
    assert f'id="sent-{h.pk}"' not in login(client, bob).get("/handoffs/sent/").content.decode()


def test_after_accept_the_sender_reads_the_lead_but_every_write_is_refused(client, qualified_lead, alice, bob, erin, charlie):
    accept(hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT), by=erin)
    lead = Lead.objects.get(pk=qualified_lead.pk)
    assert lead.owner == erin
    login(client, alice)
    page = client.get(f"/leads/{lead.pk}/")
    assert page.status_code == 200 and "Wanda Worked" in page.content.decode()
    assert client.get(f"/api/leads/{lead.pk}/").status_code == 200
    writes = [
        client.post(f"/leads/{lead.pk}/touch/", {"kind": "call", "outcome": "connected", "note": "hi"}),
        client.post(f"/leads/{lead.pk}/move/", {"to": Stage.WON}),
        client.post(f"/leads/{lead.pk}/disqualify/", {"reason": 1, "note": "Not a fit at all, sorry"}),
        client.patch(f"/api/leads/{lead.pk}/", {"title": "CEO"}, content_type="application/json"),
        client.post(f"/api/leads/{lead.pk}/touches/", {"kind": "call"}, content_type="application/json"),
    ]
    assert [w.status_code for w in writes] == [403] * len(writes)
    after = Lead.objects.get(pk=lead.pk)
    assert (after.stage, after.owner_id, after.title) == (lead.stage, lead.owner_id, lead.title)
    # Not in her queue: read access to one page, not a place in her lists.
    assert "Wanda Worked" not in client.get("/queue/").content.decode()
    for outsider in (bob, charlie):
        login(client, outsider)
        assert client.get(f"/leads/{lead.pk}/").status_code == 404


def test_a_sender_who_left_the_team_reads_neither_the_lead_nor_its_handoff(client, qualified_lead, alice, erin, south):
    """Read access comes from having handed the lead off *and still being on its team*
    (handoff.access.handed_off_by); the handoff itself, its packet (the lead's contact details
    and answers) and the AE's decision note are the same team's data. Before: the lead page was a
    404, while the handoff's page, the API and the Sent list still showed all of that."""
    from accounts.models import Membership, Role

    h = accept(hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT, note=NOTE), by=erin, note=NOTE)
    Membership.objects.filter(user=alice, team=qualified_lead.team).delete()
    Membership.objects.create(user=alice, team=south, role=Role.SDR)
    login(client, alice)
    assert client.get(f"/leads/{qualified_lead.pk}/").status_code == 404
    assert client.get(f"/handoffs/{h.pk}/").status_code == 404
    assert client.get(f"/api/handoffs/{h.pk}/").status_code == 404
    assert client.get("/api/handoffs/").json()["results"] == []
    assert NOTE not in client.get("/handoffs/sent/").content.decode()


def test_an_ae_who_left_the_team_no_longer_reads_or_decides_its_handoffs(client, qualified_lead, alice, erin, maria, south):
    """The receiving AE's access, like the sender's, lasts while they are on the handoff's team.
    Before: an AE moved to another team still read the packet and could reject the lead (accept
    failed only when it tried to make them the owner). The team's manager decides instead (a
    rejection: accepting would make someone off the team the owner, which assignment refuses)."""
    from accounts.models import Membership, Role
    from qualify.errors import DomainError
    from qualify.handoff.models import HandoffStatus

    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT, note=NOTE)
    Membership.objects.filter(user=erin, team=qualified_lead.team).delete()
    Membership.objects.create(user=erin, team=south, role=Role.AE)
    erin = type(erin).objects.get(pk=erin.pk)  # memberships are cached per instance
    login(client, erin)
    assert client.get(f"/handoffs/{h.pk}/").status_code == 404
    assert client.get(f"/api/handoffs/{h.pk}/").status_code == 404
    assert client.get("/api/handoffs/").json()["results"] == []
    assert NOTE not in client.get("/handoffs/").content.decode()
    reason = DisqualifyReason.objects.filter(active=True, note_required=True).first()
    assert client.post(f"/api/handoffs/{h.pk}/reject/", {"reason": reason.pk, "note": NOTE}).status_code == 404
    with pytest.raises(DomainError):
        reject(h, by=erin, reason=reason, note=NOTE)
    h.refresh_from_db()
    assert h.status == HandoffStatus.PENDING
    reject(h, by=maria, reason=reason, note=NOTE)  # the team's manager still decides
    h.refresh_from_db()
    assert h.status == HandoffStatus.REJECTED
