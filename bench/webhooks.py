"""Webhooks: 10,000 changes delivered to a local receiver, in the database qualify_bench_wh.

Team "Bench Webhooks" has one endpoint subscribed to lead.mql, pointing at an HTTP receiver on
127.0.0.1 (a thread in this process) that verifies every Standard Webhooks signature and records
when each webhook-id arrived.

Passes:
- live: 10,000 leads go New -> MQL one at a time through lifecycle.move_stage (autocommit, so each
  writes its outbox row in its transaction and kicks delivery after commit), while delivery workers
  (threads, one connection each) take the kicked ids as the Celery task `webhooks.deliver` would.
  Figures: change-to-delivery latency (receiver arrival minus the row's created_at, p50/p95/max) and
  deliveries per second over the pass (bounded by how fast the changes come).
- backlog: 10,000 outbox rows written by lifecycle.move_many in batches of 500 with the kick off
  (Redis lost), then drained by the sweep (delivery.deliver_due) on the same workers: the
  delivery throughput alone.
Each pass checks that every event arrived exactly once and every signature verified.
"""

from __future__ import annotations

import argparse
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.db import connection

from . import common
from .routing import fresh_leads

NAME = "webhooks"
DESCRIPTION = "Webhooks: 10,000 changes to a local receiver (change-to-delivery p95, deliveries/s live and from a backlog)"
DB_NAME = "qualify_bench_wh"
TEAM = "Bench Webhooks"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--webhooks-changes", type=int, default=10_000, help="webhooks: changes per pass")
    parser.add_argument("--webhooks-workers", type=int, default=4, help="webhooks: delivery worker threads")


class Receiver:
    """Verifies each request with the endpoint's secret and records its arrival by webhook-id."""

    def __init__(self, secret: str):
        from standardwebhooks import Webhook

        self.arrived: dict[str, float] = {}
        self.duplicates = 0
        self.bad = 0
        lock = threading.Lock()
        hook = Webhook(secret)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                now = time.time()
                try:
                    hook.verify(body, {k.lower(): v for k, v in self.headers.items()}, json_parse=False)
                    ok = True
                except Exception:  # noqa: BLE001 - counted and reported
                    ok = False
                with lock:
                    msg_id = self.headers["webhook-id"]
                    if not ok:
                        receiver.bad += 1
                    elif msg_id in receiver.arrived:
                        receiver.duplicates += 1
                    else:
                        receiver.arrived[msg_id] = now
                self.send_response(204 if ok else 401)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/in"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Workers:
    """Delivery workers: each takes kicked id lists from a queue (the Celery task), or, when
    `sweep` is set, runs the beat sweep until nothing is due."""

    def __init__(self, n: int):
        from qualify.webhooks import delivery

        self.kicks: queue.Queue = queue.Queue()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, args=(delivery,), daemon=True) for _ in range(n)]
        self.sweep = False
        self.stop = False
        for t in self.threads:
            t.start()

    def _run(self, delivery) -> None:
        try:
            while not self.stop:
                if self.sweep:
                    if delivery.deliver_due(batch=50) == 0:
                        time.sleep(0.01)
                    continue
                try:
                    ids = self.kicks.get(timeout=0.05)
                except queue.Empty:
                    continue
                delivery.deliver(ids=ids)
        except BaseException as e:  # noqa: BLE001 - reported by the pass
            self.errors.append(e)
        finally:
            connection.close()

    def close(self) -> None:
        self.stop = True
        for t in self.threads:
            t.join()


def setup(url: str):
    from django.conf import settings

    from accounts.models import Membership, Role, Team, User
    from qualify.routing.models import RoutingRule
    from qualify.webhooks.models import Endpoint, EventType

    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is on loopback
    team, _ = Team.objects.get_or_create(name=TEAM)
    manager, _ = User.objects.get_or_create(username="bench_webhooks_mgr", defaults={"first_name": "Manager"})
    Membership.objects.get_or_create(user=manager, team=team, role=Role.MANAGER)
    RoutingRule.objects.filter(team=team).delete()
    Endpoint.objects.filter(team=team).delete()
    endpoint = Endpoint(team=team, url=url, events=[EventType.LEAD_MQL], description="bench")
    endpoint.full_clean()
    endpoint.save()
    return team, endpoint


def wait_drained(endpoint, receiver: Receiver, n: int, workers: Workers, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while len(receiver.arrived) + receiver.bad < n and time.monotonic() < deadline and not workers.errors:
        time.sleep(0.005)
    return time.time()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from qualify.leads.lifecycle import move_many, move_stage
    from qualify.leads.models import Lead, Stage
    from qualify.webhooks import delivery
    from qualify.webhooks.models import Delivery, DeliveryStatus

    url = common.with_db_name(common.database_url(), DB_NAME)
    if connection.settings_dict["NAME"] != DB_NAME:
        connection.close()
        connection.settings_dict["NAME"] = DB_NAME
    common.prepare_database(url)
    n, w = args.webhooks_changes, args.webhooks_workers
    result = common.new_result(NAME, DESCRIPTION, {"changes_per_pass": n, "delivery_workers": w})
    placeholder = Receiver("whsec_" + "A" * 32)
    team, endpoint = setup(placeholder.url)
    placeholder.close()
    receiver = Receiver(endpoint.secret)
    endpoint.url = receiver.url
    endpoint.save(update_fields=["url"])
    real_kick = delivery.kick

    for label in ("live", "backlog"):
        Delivery.objects.filter(endpoint=endpoint).delete()
        receiver.arrived.clear()
        receiver.duplicates = receiver.bad = 0
        ids = fresh_leads(team, n)
        workers = Workers(w)
        try:
            if label == "live":
                delivery.kick = workers.kicks.put
                t0 = time.time()
                for pk in ids:
                    # move_stage locks and re-reads the row: the instance only needs its id.
                    move_stage(Lead(pk=pk), to=Stage.MQL, by=None, why="bench: crossed the MQL threshold")
                changes_s = time.time() - t0
            else:
                delivery.kick = lambda ids: None  # the broker is gone: only the sweep delivers
                t_write = time.time()
                for start in range(0, n, 500):
                    move_many({pk: (Stage.NEW, "bench") for pk in ids[start:start + 500]}, to=Stage.MQL, by=None)
                changes_s = time.time() - t_write
                t0 = time.time()
                workers.sweep = True
            end = wait_drained(endpoint, receiver, n, workers)
        finally:
            delivery.kick = real_kick
            workers.close()
        assert not workers.errors, workers.errors
        seconds = end - t0
        created = dict(Delivery.objects.filter(endpoint=endpoint).values_list("msg_id", "created_at"))
        latencies = [(receiver.arrived[m] - c.timestamp()) * 1000 for m, c in created.items() if m in receiver.arrived]
        delivered = Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.DELIVERED).count()
        per_s = len(receiver.arrived) / seconds
        p50, p95 = common.percentile(latencies, 50), common.percentile(latencies, 95)
        print(f"{label}: {n:,} changes in {changes_s:.1f} s; {len(receiver.arrived):,} deliveries in {seconds:.1f} s ="
              f" {per_s:,.0f}/s; change to delivery p50 {p50:,.0f} ms, p95 {p95:,.0f} ms, max {max(latencies, default=0):,.0f} ms")
        result["params"][f"{label}: deliveries/s"] = round(per_s)
        result["params"][f"{label}: changes/s"] = round(n / changes_s)
        result["cases"].append(common.Case(
            name=f"{label}: change to delivery", median_ms=round(p50, 1), p95_ms=round(p95, 1), min_ms=round(min(latencies, default=0), 1),
            max_ms=round(max(latencies, default=0), 1), reps=len(latencies), queries=0).as_dict())
        common.check(result, f"{label}: every change delivered exactly once",
                     len(receiver.arrived) == n == len(created) == delivered and receiver.duplicates == 0,
                     f"{len(receiver.arrived):,} arrived, {receiver.duplicates} duplicates, {len(created):,} rows, {delivered:,} delivered")
        common.check(result, f"{label}: every signature verified", receiver.bad == 0, f"{receiver.bad} bad")
    receiver.close()
    result["sections"].append({"title": "notes", "lines": [
        "live: deliveries/s is bounded by the change rate (each change is its own move_stage transaction with its",
        "after-commit routing and SLA clock); its p95 is the latency a receiver sees. backlog: rows written with the",
        "kick lost, then drained by the beat sweep's function on the same worker threads: delivery throughput alone.",
        "Worker threads share one process (the GIL) with the receiver; Celery workers are separate processes.",
    ]})
    fresh_leads(team, 0)
    return result
