"""An event stored as pending while the identify that links its sender commits: it must reach the
lead whichever transaction gets there first (two threads, two connections), and the beat sweep
attaches what is left pending once its sender is a lead."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from qualify.leads.models import Event, Lead
from qualify.segment import tracking
from qualify.segment.models import AnonymousId, PendingEvent
from tests.factories import AccountFactory, LeadFactory

IDENTIFY = {"type": "identify", "messageId": "id-1", "userId": "u-7", "anonymousId": "anon-7",
            "traits": {"email": "dana@acme.example", "name": "Dana Diaz", "company": {"name": "Acme", "domain": "acme.example"}}}
TRACK = {"type": "track", "messageId": "t-1", "anonymousId": "anon-7", "event": "Calculator Used"}


def _receive(source, raw: dict) -> None:
    try:
        now = timezone.now()
        tracking.receive(source, [tracking.parse(0, raw, now)], now=now)
    finally:
        connection.close()


def _run(target, *args) -> threading.Thread:
    thread = threading.Thread(target=target, args=args)
    thread.start()
    return thread


def _pause_after(monkeypatch, owner, name: str) -> tuple[threading.Event, threading.Event]:
    """Make owner.name signal `reached` once it has run, then wait for `go` (its transaction open)."""
    reached, go = threading.Event(), threading.Event()
    original = getattr(owner, name)

    def paused(*args, **kwargs):
        result = original(*args, **kwargs)
        reached.set()
        assert go.wait(20)
        return result

    monkeypatch.setattr(owner, name, paused)
    return reached, go


def _assert_attached(source) -> None:
    lead = Lead.objects.get(team=source.team, external_id="u-7")
    assert Event.objects.filter(lead=lead, client_id=f"seg:{source.pk}:t-1").exists()
    assert not PendingEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_track_arriving_while_identify_is_uncommitted_reaches_the_lead(north_source, scored, monkeypatch):
    # identify has read the pending events to attach (none yet) and has not committed.
    reached, go = _pause_after(monkeypatch, tracking, "_attach")
    identify = _run(_receive, north_source, IDENTIFY)
    assert reached.wait(20)
    track = _run(_receive, north_source, TRACK)
    track.join(1.0)  # before the fix it stored a pending event and returned here
    go.set()
    identify.join(20)
    track.join(20)
    assert not identify.is_alive() and not track.is_alive()
    _assert_attached(north_source)


@pytest.mark.django_db(transaction=True)
def test_an_identify_arriving_while_the_pending_event_is_uncommitted_attaches_it(north_source, scored, monkeypatch):
    reached, go = _pause_after(monkeypatch, PendingEvent.objects, "bulk_create")
    track = _run(_receive, north_source, TRACK)
    assert reached.wait(20)
    identify = _run(_receive, north_source, IDENTIFY)
    identify.join(1.0)
    go.set()
    track.join(20)
    identify.join(20)
    assert not identify.is_alive() and not track.is_alive()
    _assert_attached(north_source)


@pytest.mark.django_db
def test_the_sweep_attaches_pending_events_whose_sender_became_a_lead(north_source, scored):
    team = north_source.team
    lead = LeadFactory(team=team, account=AccountFactory(team=team), external_id="u-5")
    old = timezone.now() - datetime.timedelta(minutes=2)

    def pending(client_id, received_at=old, **ids):
        return PendingEvent.objects.create(team=team, client_id=client_id, type="track", properties={"event": "X"},
                                           occurred_at=old, received_at=received_at, **ids)

    pending("seg:1:a", user_id="u-5")
    AnonymousId.objects.create(team=team, anonymous_id="anon-5", user_id="u-5", lead=lead)
    young = pending("seg:1:b", anonymous_id="anon-5", received_at=timezone.now())  # a request in flight attaches it
    stranger = pending("seg:1:c", anonymous_id="anon-nobody")
    assert tracking.attach_linked() == 1
    assert list(Event.objects.filter(lead=lead).values_list("client_id", flat=True)) == ["seg:1:a"]
    assert set(PendingEvent.objects.values_list("pk", flat=True)) == {young.pk, stranger.pk}
    assert tracking.attach_linked() == 0  # nothing more to do
