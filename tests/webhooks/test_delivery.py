"""Outbox to receiver: signed, retried with the same webhook-id, exactly once per endpoint, leases,
rollbacks, team scope, 410 and endpoints failing for days."""

from __future__ import annotations

import base64
import datetime
import socket
import threading
import time

import pytest
from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from qualify.leads import assignment, lifecycle, records
from qualify.leads.models import Account, Stage
from qualify.notifications.models import Notification, NotificationKind
from qualify.webhooks import delivery
from qualify.webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType
from tests.factories import UserFactory

from .conftest import payloads

pytestmark = pytest.mark.django_db


def drain(timeout: float = 10.0) -> None:
    """Run the sweep until nothing is pending (retries are due within milliseconds in tests)."""
    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(status=DeliveryStatus.PENDING).exists():
        assert time.monotonic() < deadline, list(Delivery.objects.values("status", "attempts", "last_error"))
        delivery.deliver_due()
        time.sleep(0.02)


def new_lead(team, by, **kw):
    account = Account.objects.create(name="Acme", team=team)
    return records.create_lead(by=by, team=team, account=account, first_name="Dana", last_name="Diaz", **kw)


def test_each_event_arrives_once_per_endpoint_with_a_stable_id_across_retries(north, alice, maria, receiver, north_hook):
    endpoint, first = north_hook
    second_endpoint = Endpoint(team=north, url="http://placeholder.invalid/", events=[EventType.LEAD_MQL])
    second = receiver(second_endpoint.secret, fail_first=1)
    second_endpoint.url = second.url
    second_endpoint.save()
    first.fail_first = 2

    lead = new_lead(north, maria)
    lifecycle.move_stage(lead, to=Stage.MQL, by=maria, why="Score crossed 60")
    assignment.assign(lead, owner=alice, by=maria, why="Yours")
    drain()

    assert sorted(p["type"] for p in first.delivered()) == ["lead.assigned", "lead.created", "lead.mql"]
    assert [p["type"] for p in second.delivered()] == ["lead.mql"]
    for r, tries in ((first, 3), (second, 2)):
        # Every attempt of a message carried the same webhook-id, and only the last succeeded.
        assert all(n == tries for n in r.seen.values()), r.seen
        assert len(r.delivered()) == len(r.seen)
    mql = next(p for p in first.delivered() if p["type"] == "lead.mql")
    assert mql["data"]["previous"] == {"stage": "new"} and mql["data"]["current"] == {"stage": "mql"}
    assert mql["data"]["lead"]["id"] == lead.pk and mql["version"] == 1
    # The same event to both endpoints has the same id; the receivers deduplicate by it.
    assert mql["id"] == second.delivered()[0]["id"]
    assigned = next(p for p in first.delivered() if p["type"] == "lead.assigned")
    assert assigned["data"]["previous"] == {"owner_id": None} and assigned["data"]["current"] == {"owner_id": alice.pk}
    row = endpoint.deliveries.get(event="lead.mql")
    assert (row.status, row.attempts, row.response_code, row.next_attempt_at) == ("delivered", 3, 204, None)
    assert row.latency_ms is not None and row.delivered_at is not None


def test_rolled_back_change_writes_no_outbox_row(north, maria, north_hook):
    lead = new_lead(north, maria)
    Delivery.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        lifecycle.move_stage(lead, to=Stage.MQL, by=maria)
        assert Delivery.objects.count() == 1  # written in the change's transaction...
        raise RuntimeError("the caller fails after the move")
    assert not Delivery.objects.exists()  # ...and gone with it


def test_committed_change_is_kicked_after_commit_only(north, maria, north_hook, django_capture_on_commit_callbacks, monkeypatch):
    kicked: list[list[int]] = []
    monkeypatch.setattr(delivery, "kick", kicked.append)
    with django_capture_on_commit_callbacks(execute=True):
        lead = new_lead(north, maria)
        assert kicked == []
    assert kicked == [[Delivery.objects.get(lead_id=lead.pk).pk]]


def test_another_teams_endpoint_never_receives_the_teams_events(north, south, maria, receiver, north_hook):
    south_endpoint = Endpoint(team=south, url="http://placeholder.invalid/", events=list(EventType.values))
    south_receiver = receiver(south_endpoint.secret)
    south_endpoint.url = south_receiver.url
    south_endpoint.save()
    lead = new_lead(north, maria)
    lifecycle.move_stage(lead, to=Stage.MQL, by=maria)
    drain()
    assert not south_endpoint.deliveries.exists() and south_receiver.attempts == []
    assert len(north_hook[1].delivered()) == 2


def test_inactive_and_unsubscribed_endpoints_get_no_rows(north, maria, receiver, north_hook):
    endpoint, _ = north_hook
    Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
    Endpoint.objects.create(team=north, url=endpoint.url, events=[EventType.LEAD_WON])
    lead = new_lead(north, maria)
    lifecycle.move_stage(lead, to=Stage.MQL, by=maria)
    assert not Delivery.objects.exists()


def test_a_delivery_claimed_by_a_dead_worker_is_retried_after_its_lease(north, maria, north_hook, settings):
    _, r = north_hook
    new_lead(north, maria)
    now = timezone.now()
    assert len(delivery.claim(now=now)) == 1  # ...and the worker dies before sending
    assert delivery.deliver(now=now + datetime.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS - 1)) == 0
    assert r.attempts == []
    assert delivery.deliver(now=now + datetime.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + 1)) == 1
    assert [p["type"] for p in r.delivered()] == ["lead.created"]
    assert Delivery.objects.get().attempts == 2


def test_rows_the_lease_can_no_longer_cover_go_back_unsent(north, maria, north_hook, settings, monkeypatch):
    """Against a slow receiver a batch outlasted its lease, and another worker claimed and sent the
    rest again. Now a worker stops sending when the lease could not cover one more exchange, and
    gives those rows back: due at once, their attempt not counted, their last attempt as it was."""
    settings.WEBHOOK_LEASE_SECONDS = 3
    monkeypatch.setattr(delivery, "TOTAL_TIMEOUT", 1.0)  # so rows are sent for max(3 - 1 - 1, 1.5) s

    def slow_send(endpoint, row):
        time.sleep(0.6)
        return delivery.Outcome(204, 600)

    monkeypatch.setattr(delivery, "send", slow_send)
    for _ in range(5):
        new_lead(north, maria)
    assert delivery.deliver() == 5  # claimed; sent at 0, 0.6 and 1.2 s; given back at 1.8 s
    rows = list(Delivery.objects.order_by("id").values_list("status", "attempts", "last_attempt_at"))
    assert [r[0] for r in rows] == [DeliveryStatus.DELIVERED] * 3 + [DeliveryStatus.PENDING] * 2
    assert [r[1:] for r in rows[3:]] == [(0, None), (0, None)]
    assert delivery.deliver() == 2  # due at once, for this worker or another
    assert set(Delivery.objects.values_list("status", "attempts")) == {(DeliveryStatus.DELIVERED, 1)}


def test_a_late_worker_cannot_overwrite_the_result_of_the_one_that_took_over(north, maria, north_hook):
    new_lead(north, maria)
    stale = delivery.claim(now=timezone.now())[0]
    later = timezone.now() + datetime.timedelta(minutes=5)
    assert delivery.deliver(now=later) == 1  # the lease ran out; another worker delivered it
    delivery.record(north_hook[0], stale, delivery.Outcome(500, 10, "HTTP 500"))
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED


def test_credentials_in_the_url_are_sent_as_basic_auth(north, maria, north_hook):
    endpoint, r = north_hook
    Endpoint.objects.filter(pk=endpoint.pk).update(url=r.url.replace("http://", "http://hooks:p%40ss@"))
    new_lead(north, maria)
    drain()
    assert len(r.delivered()) == 1
    assert r.authorization == ["Basic " + base64.b64encode(b"hooks:p@ss").decode()]
    # Without them, no Authorization header at all.
    Endpoint.objects.filter(pk=endpoint.pk).update(url=r.url)
    new_lead(north, maria)
    drain()
    assert r.authorization[1:] == [None]


def test_410_disables_the_endpoint_and_tells_revops(north, maria, receiver, north_hook):
    endpoint, r = north_hook
    r.fail_first, r.fail_status = 5, 410
    rita = UserFactory.with_role(Role.REVOPS, north, username="rita")
    new_lead(north, maria)
    new_lead(north, maria)
    delivery.deliver(limit=1)
    endpoint.refresh_from_db()
    assert not endpoint.active and "410" in endpoint.disabled_reason
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    note = Notification.objects.get(kind=NotificationKind.WEBHOOK_DISABLED)
    assert note.user == rita and endpoint.url in note.title
    assert not Notification.objects.filter(kind=NotificationKind.WEBHOOK_DISABLED).exclude(user=rita).exists()


def test_an_endpoint_failing_for_days_is_disabled(north, maria, north_hook):
    endpoint, r = north_hook
    r.fail_first = 100
    UserFactory.with_role(Role.REVOPS, north, username="rita")
    new_lead(north, maria)
    delivery.deliver()
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is not None
    Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - datetime.timedelta(days=3, minutes=1))
    Delivery.objects.update(next_attempt_at=timezone.now())
    delivery.deliver()
    endpoint.refresh_from_db()
    assert not endpoint.active and "Failing since" in endpoint.disabled_reason
    assert Notification.objects.filter(kind=NotificationKind.WEBHOOK_DISABLED).count() == 1


def test_a_success_clears_failing_since(north, maria, north_hook):
    endpoint, r = north_hook
    r.fail_first = 1
    new_lead(north, maria)
    drain()
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.failing_since is None


def test_retries_stop_three_days_after_the_change(north, maria, north_hook):
    _, r = north_hook
    r.fail_first = 100
    new_lead(north, maria)
    Delivery.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    delivery.deliver()
    row = Delivery.objects.get()
    assert (row.status, row.response_code, row.next_attempt_at) == (DeliveryStatus.FAILED, 500, None)


def test_backoff_doubles_with_jitter_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 5
    for attempts, full in ((1, 5), (2, 10), (5, 80), (40, 6 * 3600)):
        waits = {delivery.backoff(attempts).total_seconds() for _ in range(20)}
        assert all(full / 2 <= w <= full for w in waits) and len(waits) > 1


def test_signature_headers_verify_with_the_library(north_hook):
    from standardwebhooks import Webhook

    endpoint, _ = north_hook
    headers = delivery.headers_for(endpoint, "msg_1", '{"a":1}', timezone.now())
    assert Webhook(endpoint.secret).verify('{"a":1}', headers) == {"a": 1}
    with pytest.raises(Exception):
        Webhook("whsec_" + "A" * 32).verify('{"a":1}', headers)


def test_a_url_with_non_ascii_characters_is_sent_percent_encoded(north, maria, north_hook):
    """URLField accepts /hooks/café; http.client writes the request line in ASCII, so every attempt
    raised UnicodeEncodeError out of the worker: the batch stopped there, and the row was neither
    retried with backoff nor failed, only claimed again at each lease's end."""
    endpoint, r = north_hook
    endpoint.url = r.url.replace("/hooks", "/hooks/café") + "?team=équipe"
    endpoint.full_clean()
    endpoint.save()
    paths = []
    handler = r.server.RequestHandlerClass  # this receiver's own class
    answer = handler.do_POST

    def do_post(self):
        paths.append(self.path)
        answer(self)

    handler.do_POST = do_post
    new_lead(north, maria)
    assert delivery.deliver() == 1
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
    assert paths == ["/hooks/caf%C3%A9?team=%C3%A9quipe"]


def _slow_receiver(answer) -> int:
    """A one-connection receiver on loopback that reads the request and then runs `answer(conn)`
    for at most 20 s; returns its port."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = time.monotonic() + 20

    def run():
        conn, _ = server.accept()
        conn.recv(65536)
        try:
            while time.monotonic() < stop:
                answer(conn)
                time.sleep(0.2)
        except OSError:
            pass  # the sender hung up
        conn.close()
        server.close()

    threading.Thread(target=run, daemon=True).start()
    return server.getsockname()[1]


@pytest.mark.parametrize("answer", [
    lambda conn: conn.sendall(b"X"),  # the status line, a byte at a time (each read well within 10 s)
    lambda conn: conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n"),  # which http.client skips, for ever
], ids=["trickle", "endless-100-continue"])
def test_a_receiver_that_never_finishes_its_answer_is_cut_off(north, maria, north_hook, monkeypatch, answer):
    """The 10 s read timeout is per read: a receiver that kept sending a little held the worker for
    as long as it went on (20 s here, for ever in the wild)."""
    endpoint, _ = north_hook
    monkeypatch.setattr(delivery, "TOTAL_TIMEOUT", 1.0)
    Endpoint.objects.filter(pk=endpoint.pk).update(url=f"http://127.0.0.1:{_slow_receiver(answer)}/hooks")
    new_lead(north, maria)
    started = time.monotonic()
    assert delivery.deliver() == 1
    assert time.monotonic() - started < 5
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.PENDING and row.last_error == "TimeoutError: No complete answer within 1 s"
