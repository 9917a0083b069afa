"""A real HTTP receiver on loopback that verifies Standard Webhooks signatures with the same
library, and endpoints pointing at it. Webhook tests allow private addresses (the receiver is on
127.0.0.1) unless they test the refusal."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks import Webhook

from qualify.webhooks.models import Endpoint, EventType


class Receiver:
    """Answers `fail_first` failures (status `fail_status`) per webhook-id, then 204. Records
    every attempt as (webhook-id, status answered, verified payload or None)."""

    def __init__(self, secret: str, fail_first: int = 0, fail_status: int = 500, hold_first: threading.Event | None = None):
        """`hold_first`: the first attempt of each message hangs until the event is set (a worker
        stuck mid-delivery, to be killed)."""
        self.secret, self.fail_first, self.fail_status, self.hold_first = secret, fail_first, fail_status, hold_first
        self.attempts: list[tuple[str, int, dict | None]] = []
        self.seen: dict[str, int] = defaultdict(int)
        self.authorization: list[str | None] = []  # each attempt's Authorization header
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                except Exception:
                    payload = None
                with receiver.lock:
                    msg_id = headers.get("webhook-id", "")
                    receiver.seen[msg_id] += 1
                    # A held attempt is never answered to its (dead) sender: it does not count as received.
                    hold = receiver.hold_first is not None and receiver.seen[msg_id] == 1
                    if payload is None:
                        status = 401
                    elif hold or receiver.seen[msg_id] <= receiver.fail_first:
                        status = receiver.fail_status
                    else:
                        status = 204
                    receiver.attempts.append((msg_id, status, payload))
                    receiver.authorization.append(headers.get("authorization"))
                if hold:
                    receiver.hold_first.wait(30)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self) -> list[dict]:
        """Payloads accepted (2xx), in arrival order."""
        return [p for _, status, p in self.attempts if status == 204]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _allow_loopback(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(secret: str, **kw) -> Receiver:
        made.append(Receiver(secret, **kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def north_hook(north, receiver):
    """An endpoint for team North subscribed to every event, and its receiver."""
    endpoint = Endpoint(team=north, url="http://placeholder.invalid/", events=list(EventType.values))
    r = receiver(endpoint.secret)
    endpoint.url = r.url
    endpoint.save()
    return endpoint, r


def payloads(endpoint: Endpoint) -> list[dict]:
    return [json.loads(b) for b in endpoint.deliveries.order_by("id").values_list("body", flat=True)]
