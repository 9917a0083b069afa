"""Opening a notification: its link (marked read by the list's POST form, never by a GET), and a lead that left the reader's reach."""

from __future__ import annotations

from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from qualify.leads.assignment import assign
from qualify.notifications.models import Notification
from tests.conftest import login
from tests.factories import LeadFactory


def _notice_of(user, lead):
    return Notification.objects.get(user=user, lead=lead)


def _assigned_note(team, user, by):
    """The "lead assigned to you" notification of a new lead of `team` given to `user`."""
    lead = LeadFactory(team=team, owner=None)
    assign(lead, owner=user, by=by)
    return _notice_of(user, lead)


def test_opening_goes_to_the_lead_and_marks_it_read(client, north, alice, maria):
    lead = LeadFactory(team=north, owner=None)
    assign(lead, owner=alice, by=maria)
    note = _notice_of(alice, lead)
    response = login(client, alice).post(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == note.url
    note.refresh_from_db()
    assert note.read_at is not None


def test_a_lead_reassigned_away_since_is_said_so_instead_of_a_404(client, north, alice, bob, maria):
    """The SLA sweep that sends a breach to the owner may reassign the lead in the same pass."""
    lead = LeadFactory(team=north, owner=None)
    assign(lead, owner=alice, by=maria)
    note = _notice_of(alice, lead)
    assign(lead, owner=bob, by=maria)
    response = login(client, alice).post(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notifications:list")
    said = [str(m) for m in get_messages(response.wsgi_request)]
    assert said == [f"“{note.title}”: you can no longer open that lead. It has been reassigned to someone else "
                    "or left your queue since."]
    note.refresh_from_db()
    assert note.read_at is not None
    # Another user's notification stays a 404, whatever it names.
    assert login(client, bob).get(reverse("notifications:open", args=[note.pk])).status_code == 404
    assert login(client, bob).post(reverse("notifications:open", args=[note.pk])).status_code == 404


def test_a_get_of_the_open_link_follows_it_and_marks_nothing_read(client, north, alice, maria):
    """A link prefetcher, or an <img src> on another site, sends a GET: it must change nothing."""
    note = _assigned_note(north, alice, maria)
    response = login(client, alice).get(reverse("notifications:open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == note.url
    note.refresh_from_db()
    assert note.read_at is None


def test_opening_by_post_needs_the_csrf_token(north, alice, maria):
    note = _assigned_note(north, alice, maria)
    forged = login(Client(enforce_csrf_checks=True), alice).post(reverse("notifications:open", args=[note.pk]))
    assert forged.status_code == 403
    note.refresh_from_db()
    assert note.read_at is None


def test_the_list_opens_a_notification_with_a_post_form(client, north, alice, maria):
    note = _assigned_note(north, alice, maria)
    page = login(client, alice).get(reverse("notifications:list")).content.decode()
    opener = reverse("notifications:open", args=[note.pk])
    assert f'<form method="post" action="{opener}"' in page
    assert f'href="{opener}"' not in page


def test_mark_all_read_leaves_unread_what_arrived_after_the_page(client, north, alice, maria):
    """"Mark all read" marked read a notification that came while the page sat open, unseen."""
    shown = _assigned_note(north, alice, maria)
    page = login(client, alice).get(reverse("notifications:list")).content.decode()
    assert f'name="upto" value="{shown.pk}"' in page
    later = _assigned_note(north, alice, maria)
    response = client.post(reverse("notifications:mark_all_read"), {"upto": shown.pk})
    assert response.status_code == 302
    shown.refresh_from_db()
    later.refresh_from_db()
    assert shown.read_at is not None and later.read_at is None
    # Without `upto` (an old page): everything, as before.
    client.post(reverse("notifications:mark_all_read"), {"upto": "x"})
    later.refresh_from_db()
    assert later.read_at is not None


def test_load_more_without_javascript_lists_each_notification_once(client, north, alice, maria):
    """The "Load more" link followed as a plain page (no htmx, a new tab) listed that page's
    notifications twice: the htmx-only part of the list also rendered them."""
    notes = [_assigned_note(north, alice, maria) for _ in range(3)]
    page = login(client, alice).get(reverse("notifications:list"), {"before": notes[-1].pk}).content.decode()
    assert page.count(f'id="note-{notes[0].pk}"') == 1 and page.count(f'id="note-{notes[1].pk}"') == 1
    assert f'id="note-{notes[2].pk}"' not in page
    more = client.get(reverse("notifications:list"), {"before": notes[-1].pk}, HTTP_HX_REQUEST="true").content.decode()
    assert more.count(f'id="note-{notes[0].pk}"') == 1 and "<html" not in more
