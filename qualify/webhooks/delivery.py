"""Sending the outbox: claim due rows with a lease, POST them signed, record what happened.

1. claim: one `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`, committed at
   once, moves each row's `next_attempt_at` to now + lease and counts the attempt. Overlapping
   workers take disjoint rows; a worker killed mid-delivery leaves its rows pending, due again when
   the lease ends (at-least-once; receivers deduplicate by `webhook-id`, which never changes).
2. send: outside any transaction, to an address checked again at this moment (addresses.py), with
   connect 3 s / read 10 s timeouts, 15 s for the whole exchange and no redirects; signed with
   `standardwebhooks`. A row is sent only while the lease still covers a whole exchange; the rest
   of the batch goes back unsent (release).
3. record: a conditional UPDATE (`attempts` still ours), so a worker that outlived its lease and
   lost the row to another cannot overwrite the newer result. 2xx delivers; 410 disables the
   endpoint; anything else retries with exponential backoff and jitter until three days after the
   change (or the replay), then fails. An endpoint failing with no success for
   WEBHOOK_DISABLE_AFTER_DAYS is disabled and RevOps admins get an in-app notification.
"""

from __future__ import annotations

import datetime
import http.client
import logging
import random
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import Role, User
from qualify.errors import DomainError
from qualify.formatting import show_datetime
from qualify.notifications import delivery as notify
from qualify.notifications.models import NotificationKind

from .addresses import Target, UnsafeURL, basic_auth, check_url
from .models import Delivery, DeliveryStatus, Endpoint

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 10.0
# The whole exchange. READ_TIMEOUT bounds each read only: a receiver that trickled a byte every few
# seconds, or sent endless "100 Continue" answers, held the worker (and, past the lease, a second
# worker sending the same rows) for as long as it liked.
TOTAL_TIMEOUT = 15.0
BACKOFF_CAP = datetime.timedelta(hours=6)
# One replay's most rows: a range of years otherwise read every id into one list, one UPDATE and
# one response. A larger replay is refused whole (replaying the first part only and then "the
# rest" would send again the rows delivered in between), so the admin narrows the range.
REPLAY_LIMIT = 10_000
USER_AGENT = "Qualify-Webhooks/1"


@dataclass
class Claimed:
    id: int
    endpoint_id: int
    msg_id: str
    body: str
    attempts: int
    created_at: datetime.datetime
    replayed_at: datetime.datetime | None
    previous_attempt_at: datetime.datetime | None = None  # before this claim: put back by release()


@dataclass
class Outcome:
    code: int | None
    latency_ms: int
    error: str = ""


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)


def claim(*, now: datetime.datetime | None = None, ids: list[int] | None = None, limit: int = 50) -> list[Claimed]:
    """Take up to `limit` due deliveries (of `ids` only, when given) for one lease. One statement
    on the webhook_delivery_due index, committed before anything is sent."""
    now = now or timezone.now()
    only = "AND id = ANY(%(ids)s)" if ids is not None else ""
    table = Delivery._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} d SET attempts = d.attempts + 1, last_attempt_at = %(now)s, next_attempt_at = %(until)s "
            f"FROM (SELECT id, last_attempt_at FROM {table} WHERE status = 'pending' AND next_attempt_at <= %(now)s "
            f"{only} ORDER BY next_attempt_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED) due WHERE d.id = due.id "
            "RETURNING d.id, d.endpoint_id, d.msg_id, d.body, d.attempts, d.created_at, d.replayed_at, due.last_attempt_at",
            {"now": now, "until": now + _lease(), "ids": ids or [], "limit": limit},
        )
        return [Claimed(*row) for row in cursor.fetchall()]


def deliver(*, ids: list[int] | None = None, now: datetime.datetime | None = None, limit: int = 50) -> int:
    """Claim and send one batch; returns how many were claimed. `now` is for tests only (the lease
    and backoff are computed from it; HTTP happens in real time)."""
    rows = claim(now=now, ids=ids, limit=limit)
    if not rows:
        return 0
    # A row is sent only while the lease can still cover a whole exchange: against slow receivers
    # (up to TOTAL_TIMEOUT each) 50 rows outlast a 60 s lease, and another worker would claim and
    # send the rest again. What is left goes back unsent, due at once.
    # (A lease shorter than that, as in tests, keeps its first half for sending.)
    lease_s = settings.WEBHOOK_LEASE_SECONDS
    send_until = time.monotonic() + max(lease_s - TOTAL_TIMEOUT - 1, lease_s / 2)
    endpoints = Endpoint.objects.in_bulk({r.endpoint_id for r in rows})
    for i, row in enumerate(rows):
        if time.monotonic() > send_until:
            release(rows[i:])
            break
        endpoint = endpoints.get(row.endpoint_id)
        if endpoint is None or not endpoint.active:
            _finish(row, DeliveryStatus.FAILED, Outcome(None, 0, "Endpoint disabled"), now)
            continue
        outcome = send(endpoint, row)
        record(endpoint, row, outcome, now)
    return len(rows)


def release(rows: list[Claimed]) -> int:
    """Give claimed rows back unsent: due now, the attempt the claim counted taken back. Only rows
    still ours (attempts unchanged), so a row another worker took after our lease is left alone.
    One statement for the lot: the rows travel as arrays joined by UNNEST."""
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} d SET attempts = r.attempts - 1, last_attempt_at = r.previous, next_attempt_at = %s "
            "FROM unnest(%s::bigint[], %s::int[], %s::timestamptz[]) AS r(id, attempts, previous) "
            "WHERE d.id = r.id AND d.attempts = r.attempts AND d.status = 'pending'",
            [timezone.now(), [r.id for r in rows], [r.attempts for r in rows], [r.previous_attempt_at for r in rows]],
        )
        return cursor.rowcount


def deliver_due(*, now: datetime.datetime | None = None, batch: int = 50, budget_s: float = 50.0) -> int:
    """The sweep: deliver due rows batch by batch until none are due or `budget_s` has passed."""
    start, total = time.monotonic(), 0
    while time.monotonic() - start < budget_s:
        n = deliver(now=now, limit=batch)
        total += n
        if n < batch:
            break
    return total


# --- sending -------------------------------------------------------------------------------------


def headers_for(endpoint: Endpoint, msg_id: str, body: str, at: datetime.datetime) -> dict[str, str]:
    """The Standard Webhooks headers; the signature covers id, timestamp and the exact body. With
    Basic auth when the URL has a user: a receiver behind it answers 401 to anything else."""
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(endpoint.secret).sign(msg_id, at, body),
    }
    if auth := basic_auth(endpoint.url):
        headers["authorization"] = auth
    return headers


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the URL's host name for SNI and certificate checks."""

    def __init__(self, address: str, host: str, port: int, **kw):
        super().__init__(host, port, context=ssl.create_default_context(), **kw)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        sock.settimeout(READ_TIMEOUT)
        # The handshake runs with self.sock set, so the whole-exchange deadline can cut a slow one too.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
        try:
            self.sock.do_handshake()
        except BaseException:
            self.sock.close()
            self.sock = None  # nothing was sent: _post may try the host's next address
            raise


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, address: str, host: str, port: int, **kw):
        super().__init__(host, port, **kw)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), CONNECT_TIMEOUT)
        self.sock.settimeout(READ_TIMEOUT)


def send(endpoint: Endpoint, row: Claimed) -> Outcome:
    """One POST. Never raises: every failure is an Outcome with no code and an error."""
    start = time.perf_counter()
    try:
        target = check_url(endpoint.url)
    except UnsafeURL as e:
        return Outcome(None, 0, f"Refused: {e}")
    try:
        return _post(target, headers_for(endpoint, row.msg_id, row.body, timezone.now()), row.body.encode(), start)
    except (OSError, http.client.HTTPException) as e:
        return Outcome(None, int((time.perf_counter() - start) * 1000), f"{type(e).__name__}: {e}"[:300])


def _post(target: Target, headers: dict[str, str], body: bytes, start: float) -> Outcome:
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last: OSError | None = None
    for address in target.addresses:
        conn = cls(address, target.host, target.port, timeout=READ_TIMEOUT)
        deadline = _Deadline(conn, TOTAL_TIMEOUT - (time.perf_counter() - start))
        try:
            conn.request("POST", target.path, body=body, headers=headers)
            response = conn.getresponse()
            response.read(4096)  # a little of the body, so the connection closes cleanly
            return Outcome(response.status, int((time.perf_counter() - start) * 1000),
                           "" if 200 <= response.status < 300 else f"HTTP {response.status} {response.reason}"[:300])
        except (OSError, http.client.HTTPException) as e:
            if deadline.passed:
                raise TimeoutError(f"No complete answer within {TOTAL_TIMEOUT:g} s") from e
            if not isinstance(e, OSError) or isinstance(e, TimeoutError) or conn.sock is not None:
                raise  # sent (or timed out reading): another address would deliver twice
            last = e  # could not connect: try the host's next address
        finally:
            deadline.cancel()
            conn.close()
    raise last or OSError("no address")


class _Deadline:
    """Shuts the connection's socket down once `seconds` have passed, so a read blocked in
    http.client returns at once (a thread: http.client has no deadline for the whole exchange)."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float):
        self.conn, self.passed = conn, False
        self.timer = threading.Timer(max(seconds, 0.0), self._cut)
        self.timer.daemon = True
        self.timer.start()

    def _cut(self) -> None:
        self.passed = True
        sock = self.conn.sock
        if sock is not None:
            try:
                # The plain socket's shutdown: SSLSocket's own would drop its SSL state under the reader.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self.timer.cancel()


# --- recording -----------------------------------------------------------------------------------


def backoff(attempts: int) -> datetime.timedelta:
    """Exponential from WEBHOOK_RETRY_BASE_SECONDS (5 s), capped at 6 h, with jitter: a random
    point in the upper half, so endpoints that failed together do not retry together."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** min(attempts - 1, 30)
    seconds = min(base, BACKOFF_CAP.total_seconds())
    return datetime.timedelta(seconds=random.uniform(seconds / 2, seconds))


def _finish(row: Claimed, status: str, outcome: Outcome, now: datetime.datetime | None,
            next_at: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    return Delivery.objects.filter(pk=row.id, attempts=row.attempts, status=DeliveryStatus.PENDING).update(
        status=status, response_code=outcome.code, latency_ms=outcome.latency_ms, last_error=outcome.error,
        next_attempt_at=next_at, delivered_at=now if status == DeliveryStatus.DELIVERED else None,
    ) == 1


def record(endpoint: Endpoint, row: Claimed, outcome: Outcome, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    if outcome.code is not None and 200 <= outcome.code < 300:
        _finish(row, DeliveryStatus.DELIVERED, outcome, now)
        if endpoint.failing_since is not None:
            Endpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
            endpoint.failing_since = None
        return
    if outcome.code == 410:
        _finish(row, DeliveryStatus.FAILED, outcome, now)
        disable(endpoint, reason="The receiver answered 410 Gone", now=now)
        return
    next_at = now + backoff(row.attempts)
    give_up = next_at > (row.replayed_at or row.created_at) + datetime.timedelta(days=settings.WEBHOOK_RETRY_DAYS)
    _finish(row, DeliveryStatus.FAILED if give_up else DeliveryStatus.PENDING, outcome, now, None if give_up else next_at)
    if endpoint.failing_since is None:
        Endpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
        endpoint.failing_since = now
    elif now - endpoint.failing_since >= datetime.timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS):
        disable(endpoint, reason=f"Failing since {show_datetime(endpoint.failing_since, datetime.UTC, zone=True)} ({outcome.error or 'no answer'})", now=now)


def disable(endpoint: Endpoint, *, reason: str, now: datetime.datetime | None = None) -> bool:
    """Switch the endpoint off, fail what it still had pending, and tell RevOps (in-app, and email
    for those with an address). Only the first caller does it (conditional UPDATE)."""
    now = now or timezone.now()
    with transaction.atomic():
        if Endpoint.objects.filter(pk=endpoint.pk, active=True).update(active=False, disabled_at=now, disabled_reason=reason[:200]) != 1:
            return False
        Delivery.objects.filter(endpoint_id=endpoint.pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, last_error="Endpoint disabled")
        admins = User.objects.filter(Q(is_superuser=True) | Q(memberships__role=Role.REVOPS), is_active=True).distinct()
        url = reverse("admin:webhooks_endpoint_change", args=[endpoint.pk])
        notify.save_all([
            notify.make(user, kind=NotificationKind.WEBHOOK_DISABLED, title=f"Webhook endpoint disabled: {endpoint.shown_url}"[:200],
                        body=f"{reason}. Fix the receiver, switch the endpoint back on and replay what it missed.", url=url)
            for user in admins
        ])
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:200]
    log.warning("Webhook endpoint %s disabled: %s", endpoint.pk, reason)
    return True


def replay(deliveries, *, now: datetime.datetime | None = None) -> list[int]:
    """Send these deliveries again (same webhook-id), with a fresh three days of retries. Pending
    ones are already queued and endpoints that are switched off are skipped. One UPDATE of at most
    REPLAY_LIMIT rows; more than that is a DomainError and changes nothing."""
    now = now or timezone.now()
    table = Delivery._meta.db_table
    ids = list(deliveries.exclude(status=DeliveryStatus.PENDING).filter(endpoint__active=True)
               .order_by().values_list("pk", flat=True)[:REPLAY_LIMIT + 1])
    if len(ids) > REPLAY_LIMIT:
        raise DomainError(f"More than {REPLAY_LIMIT:,} deliveries to replay: replay at most {REPLAY_LIMIT:,} at once. "
                          "Choose a shorter time range. Nothing was replayed.")
    if not ids:
        return []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = 'pending', attempts = 0, next_attempt_at = %s, replayed_at = %s, last_error = '' "
            "WHERE id = ANY(%s) AND status <> 'pending' RETURNING id", [now, now, ids])
        replayed = [r[0] for r in cursor.fetchall()]
        transaction.on_commit(lambda: kick(replayed), robust=True)
    return replayed


def kick(ids: list[int]) -> None:
    """Ask a worker to deliver `ids` now, for low latency. Best effort: with the broker down, the
    beat sweep (webhooks.sweep) finds the rows in the outbox anyway."""
    try:
        current_app.send_task("webhooks.deliver", args=[ids])
    except Exception:  # noqa: BLE001 - any broker error: the sweeper is the safety net
        log.warning("Could not enqueue webhook deliveries %s; the sweep will send them", ids[:10], exc_info=True)
