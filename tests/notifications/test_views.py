"""Opening a notification: its link, marked read on the way, and a lead that left the reader's reach."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.urls import reverse

from qualify.leads.assignment import assign
from qualify.notifications.models import Notification
from tests.conftest import login
from tests.factories import LeadFactory


def _notice_of(user, lead):
    return Notification.objects.get(user=user, lead=lead)


def test_opening_goes_to_the_lead_and_marks_it_read(client, north, alice, maria):
    lead = LeadFactory(team=north, owner=None)
    assign(lead, owner=alice, by=maria)
    note = _notice_of(alice, lead)
    response = login(client, alice).get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == note.url
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_lead_reassigned_away_since_is_said_so_instead_of_a_404(client, north, alice, bob, maria):
    """The SLA sweep that sends a breach to the owner may reassign the lead in the same pass."""
    lead = LeadFactory(team=north, owner=None)
    assign(lead, owner=alice, by=maria)
    note = _notice_of(alice, lead)
    assign(lead, owner=bob, by=maria)
    response = login(client, alice).get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [f"“{note.title}”: you can no longer open that lead. It has been reassigned to someone else "
                    "or left your queue since."]
    note.refresh_from_db()
    assert note.read_at is not None
    # Another user's notification stays a 404, whatever it names.
    assert login(client, bob).get(reverse("notifications:open", args=[note.pk])).status_code == 404
