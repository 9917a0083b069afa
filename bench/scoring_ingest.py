"""Event ingestion through the real HTTP API under gunicorn, scored by a real Celery worker over
Redis: sustained events per second, and the delay from a 2xx response to the lead's updated score.

Setup (all on this machine, in qualify_bench_scoring, the data set of scoring_recompute): gunicorn
(1 sync worker) on 127.0.0.1:PORT, a Celery worker (concurrency 2) on CELERY_BROKER_URL (Redis) under a
key prefix of its own, deleted afterwards (nothing else in that Redis is touched),
both with DEBUG off. On two cores shared with PostgreSQL and the load generator, one web process
(each request is a 1,000-event batch taking ~0.1 s) and two scoring processes measured best: a
second web process or more workers only add CPU contention (see the README's scoring section).
Clients: CLIENTS threads, each posting batches of BATCH events (random leads, the realistic event
mix, token auth; built before the clock starts) back to back for DURATION seconds.
Each request carries one probe event; a monitor polls the probe leads' `score_watermark` every
50 ms and records when it covers the probe's event id: that is "the score is updated".
Targets: ≥ 5,000 events/s sustained, p95 delay < 5 s, read together with `--rate N`, which paces
the clients to offer N events/s in all (back to back, the clients outrun the scorer and the delay
only grows with the duration). `--segment` posts the same events as Segment `track` and `page`
calls to `/v1/batch` instead (write-key auth, each lead named by an anonymous id linked to it
before the clock starts, probes found by their messageId): the same ingestion behind another door.
Types other than page views arrive as `track` events, which the default model does not score, so
the scorer's share of the work is smaller than with --segment off. The WAL written per event
(pg_stat_wal, whole server) and the server's checkpoint settings are printed: a write-heavy figure
depends on them as much as on the code.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.db import connection

from . import common, dataset
from .scoring_recompute import DB_NAME, MIX, ensure_default_model, ensure_events

NAME = "scoring_ingest"
DESCRIPTION = "Event ingestion via POST /api/events/ (gunicorn + Celery on Redis): events/s and response→score delay"
ROOT = Path(__file__).resolve().parent.parent
PORT_RANGE = (8100, 8900)
PORT = 0  # chosen at run time
SEGMENT_SOURCE = 0  # --segment: the source posted to (its id prefixes the events' client ids)
BATCH = 1000
TARGET_RATE = 5000
# Back to back, bodies for this many events per second are built ahead (more are built on the fly).
PREBUILT_RATE = 12_000
TARGET_P95_S = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--duration", type=float, default=30.0, help="scoring_ingest: seconds of load")
    parser.add_argument("--clients", type=int, default=2, help="scoring_ingest: client threads")
    parser.add_argument("--web-workers", type=int, default=1, help="scoring_ingest: gunicorn workers")
    parser.add_argument("--celery-concurrency", type=int, default=2, help="scoring_ingest: Celery worker processes")
    parser.add_argument("--rate", type=float, default=0, help="scoring_ingest: events/s offered in all (0: back to back)")
    parser.add_argument("--segment", action="store_true", help="scoring_ingest: post Segment batches to /v1/batch")


def _env(broker: str, prefix: str) -> dict[str, str]:
    url = common.with_db_name(common.database_url(), DB_NAME)
    return {**os.environ, "DATABASE_URL": url, "DEBUG": "false", "CELERY_BROKER_URL": broker,
            "CELERY_BROKER_KEY_PREFIX": prefix,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-" + "b" * 40), "SECURE_SSL_REDIRECT": "false",
            "DJANGO_SETTINGS_MODULE": "qualify.settings", "CONN_MAX_AGE": "600", "LOG_LEVEL": "WARNING"}


def _free_port() -> int:
    """A port in PORT_RANGE nobody listens on (another engineer's server may hold any fixed one)."""
    import socket

    rnd = random.Random()
    for _ in range(50):
        port = rnd.randrange(*PORT_RANGE)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in range")


def _wait_port(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on 127.0.0.1:{port}")


def _token() -> str:
    from accounts.tokens import issue_token

    return issue_token(user=_admin(), name="scoring_ingest benchmark")[1]


def _admin():
    from accounts.models import User

    return User.objects.get(username=dataset.ADMIN)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from qualify.scoring.models import ScoringModel

    common.use_own_database(DB_NAME)
    ds = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    ensure_events(args, ds)
    default = ensure_default_model()
    ScoringModel.objects.exclude(pk=default.pk).update(active=False)
    with connection.cursor() as c:
        c.execute("SELECT min(id), max(id), count(*) FILTER (WHERE score_version_id IS NULL) FROM leads_lead")
        lo, hi, unscored = c.fetchone()
        # The recompute bench scores without promoting, which leaves New and Nurture leads above
        # the threshold that a live system would have made MQLs already; their first event here
        # would promote them, a backlog that is not this load's. Settle them first (data set
        # preparation, not the lifecycle: no history, routing or clocks).
        c.execute(
            "UPDATE leads_lead SET stage = 'mql', recycle_on = NULL WHERE stage IN ('new', 'nurture') AND score >= %s",
            [default.current_version.as_spec().mql_threshold],
        )
        settled = c.rowcount
        # Every run rewrites ~1 lead row per event; with autovacuum off (this machine's CI server)
        # the dead rows of earlier runs would pile up and slow each run more than the last.
        t0 = time.perf_counter()
        c.execute("VACUUM (ANALYZE) leads_lead, leads_event")
        print(f"vacuumed leads and events in {time.perf_counter() - t0:.1f} s")
    token = _segment_setup(lo, hi) if args.segment else _token()
    global PORT
    PORT = _free_port()
    broker, prefix = common.broker_url(), common.broker_key_prefix(NAME)
    env = _env(broker, prefix)
    # As a release build does: gunicorn with DEBUG off refuses to start without the static manifest.
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "qualify.wsgi:application", "-b", f"127.0.0.1:{PORT}",
             "-w", str(args.web_workers), "--access-logfile", "/dev/null", "--error-logfile", "/tmp/scoring-ingest-gunicorn.log"],
            cwd=ROOT, env=env,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "qualify", "worker", "-Q", "default,ingest,scoring,sla,io", "-c", str(args.celery_concurrency),
             "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--logfile", "/tmp/scoring-ingest-celery.log"],
            cwd=ROOT, env=env,
        ),
    ]
    try:
        _wait_port(PORT)
        time.sleep(3)  # let the Celery worker connect
        result = _load(args, token, lo, hi, ds, unscored)
        result["params"]["leads_settled_to_mql_before"] = settled
        result["params"]["broker_key_prefix"] = prefix
        return result
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        print(f"deleted this run's {common.delete_broker_keys(broker, prefix)} broker keys ({prefix}*)")


def _segment_setup(lo: int, hi: int) -> str:
    """A source per team and an anonymous id per lead ("bench-<id>", linked as identify would
    link it): data set preparation, one statement. Returns the write key of an all-teams
    stand-in: the first team's source, whose team is then given every lead's anonymous id."""
    from accounts.models import Team
    from qualify.segment.models import Source

    team = Team.objects.order_by("pk").first()
    source = Source.objects.filter(name="bench", team=team).first() or Source(name="bench", team=team)
    key = source.issue_key()
    source.save()
    with connection.cursor() as c:
        # The bench posts for random leads of both teams; Segment sources are per team, so this
        # source's team gets anonymous ids for every lead (the lookup and the insert cost the same).
        c.execute(
            """INSERT INTO segment_anonymousid (team_id, anonymous_id, user_id, lead_id, linked_at)
               SELECT %s, 'bench-' || id, '', id, now() FROM leads_lead WHERE id BETWEEN %s AND %s
               ON CONFLICT (team_id, anonymous_id) DO NOTHING""",
            [team.pk, lo, hi],
        )
    global SEGMENT_SOURCE
    SEGMENT_SOURCE = source.pk
    return key


def _segment_body(items: list[dict[str, Any]], key: str) -> bytes:
    """The same events as Segment messages: page views as `page` (the rules would set the
    category; the bench passes it as a property), the rest as `track` named by the type."""
    batch = []
    for it in items:
        msg = {"messageId": it["client_id"], "anonymousId": f"bench-{it['lead_id']}", "timestamp": it["occurred_at"],
               "properties": it["properties"]}
        if it["type"] == "page_view":
            msg.update(type="page", name="Page")
        else:
            msg.update(type="track", event=it["type"])
        batch.append(msg)
    return json.dumps({"batch": batch, "writeKey": key}).encode()


def _wal() -> tuple[int, int, int]:
    """WAL bytes and full-page images written by the whole server so far, and MQLs made (each
    promotion is a stage change, routing and an SLA clock: a cost of its own)."""
    with connection.cursor() as c:
        c.execute("SELECT wal_bytes::bigint, wal_fpi, (SELECT count(*) FROM leads_stagechange WHERE to_stage = 'mql') "
                  "FROM pg_stat_wal")
        return c.fetchone()


def _load(args, token: str, lo: int, hi: int, ds, unscored: int) -> dict[str, Any]:
    run_tag = f"{int(time.time())}"
    # A new sequence of leads every run: repeating the last run's leads would find their pages
    # cached and their scores already promoted, and flatter the figures.
    rnd = random.Random(f"{args.seed}-{run_tag}")
    slots = [i for i, (_, _, w) in enumerate(MIX) for _ in range(w)]
    lock = threading.Lock()
    created = [0]
    latencies: list[float] = []
    probes: dict[int, tuple[int, float]] = {}  # event id → (lead id, response time)
    errors: list[str] = []
    counter = [0]
    unresolved: list[tuple[str, float]] = []  # --segment: (messageId, response time) of each probe

    def body() -> bytes:
        items = []
        with lock:
            base = counter[0]
            counter[0] += BATCH
        now = time.time()
        for i in range(BATCH):
            etype, props, _ = MIX[slots[rnd.randrange(len(slots))]]
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - rnd.randrange(0, 3 * 86400)))
            items.append({"client_id": f"bench-{run_tag}-{base + i}", "type": etype, "occurred_at": at,
                          "lead_id": rnd.randint(lo, hi), "properties": props})
        if args.segment:
            return _segment_body(items, token)
        return json.dumps(items).encode()

    # With --rate, each client sends one batch every `interval` seconds (catching up if late).
    interval = args.clients * BATCH / args.rate if args.rate else 0.0
    # The load generator shares the machine's two cores with what it measures; a real one would
    # run elsewhere. So the request bodies are built before the clock starts (the first item of
    # each is the probe), and building them costs the measured system nothing.
    planned = int((args.rate or PREBUILT_RATE) * args.duration / BATCH) + 2 * args.clients
    t_build = time.monotonic()
    bodies = [body() for _ in range(planned)]
    print(f"built {len(bodies)} request bodies in {time.monotonic() - t_build:.1f} s")
    stop = time.monotonic() + args.duration

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
        headers = {"Content-Type": "application/json"}
        if not args.segment:
            headers["Authorization"] = f"Token {token}"
        path = "/v1/batch" if args.segment else "/api/events/"
        due = time.monotonic() + rnd.random() * interval
        while time.monotonic() < stop:
            if interval:
                if (wait := due - time.monotonic()) > 0:
                    time.sleep(wait)
                due += interval
                if time.monotonic() >= stop:
                    break
            with lock:
                data = bodies.pop() if bodies else None
            data = data or body()
            t0 = time.monotonic()
            conn.request("POST", path, data, headers)
            resp = conn.getresponse()
            raw = resp.read()
            t1 = time.monotonic()
            if resp.status != 200:
                errors.append(f"{resp.status}: {raw[:200]!r}")
                continue
            result = json.loads(raw)
            if args.segment:
                # Segment answers only success: the monitor finds the probe's event by messageId.
                # The first message is the probe; its id is read off the bytes (no decode on this
                # core the server shares).
                start = data.index(b'"messageId": "') + 14
                with lock:
                    created[0] += BATCH  # 200: every message accepted (this run's ids are new)
                    latencies.append(t1 - t0)
                    unresolved.append((data[start:data.index(b'"', start)].decode(), t1))
                continue
            first = result["results"][0]
            with lock:
                created[0] += result["created"]
                latencies.append(t1 - t0)
                if first["status"] == "created":
                    probes[first["id"]] = (first["lead"], t1)

    delays: list[float] = []
    done_probes: set[int] = set()
    monitoring = [True]

    def monitor() -> None:
        import psycopg

        url = common.with_db_name(common.database_url(), DB_NAME)
        with psycopg.connect(url, autocommit=True) as conn:
            while monitoring[0]:
                if unresolved:
                    with lock:
                        batch, unresolved[:] = list(unresolved), []
                    for message_id, t_resp in batch:
                        # By the unique (team_id, client_id) index; the team is the lead's.
                        row = conn.execute(
                            "SELECT e.id, e.lead_id FROM leads_event e WHERE e.team_id IN (SELECT id FROM accounts_team) "
                            "AND e.client_id = %s", [f"seg:{SEGMENT_SOURCE}:{message_id}"],
                        ).fetchone()
                        if row:
                            with lock:
                                probes[row[0]] = (row[1], t_resp)
                with lock:
                    pending = {eid: v for eid, v in probes.items() if eid not in done_probes}
                if pending:
                    rows = conn.execute(
                        "SELECT id, score_watermark FROM leads_lead WHERE id = ANY(%s)", [list({v[0] for v in pending.values()})]
                    ).fetchall()
                    now = time.monotonic()
                    wm = dict(rows)
                    for eid, (lead, t_resp) in pending.items():
                        if wm.get(lead, 0) >= eid:
                            delays.append(now - t_resp)
                            done_probes.add(eid)
                time.sleep(0.05)

    wal_before = _wal()
    mon = threading.Thread(target=monitor, daemon=True)
    mon.start()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    t_start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t_start
    # Let the worker drain (bounded), then stop the monitor.
    drain_deadline = time.monotonic() + 60
    while time.monotonic() < drain_deadline and len(done_probes) < len(probes):
        time.sleep(0.2)
    drained = time.monotonic() - t_start
    monitoring[0] = False
    mon.join(timeout=5)
    wal_bytes, wal_fpi, mqls = (after - before for after, before in zip(_wal(), wal_before))

    rate = created[0] / elapsed if elapsed else 0
    result = common.new_result(NAME, DESCRIPTION, {
        "leads": args.leads, "lead_sequence_seed": f"{args.seed}-{run_tag}", "duration_s": round(elapsed, 1),
        "clients": args.clients, "batch": BATCH,
        "web_workers": args.web_workers, "celery_concurrency": args.celery_concurrency, "port": PORT,
        "events_created": created[0], "requests": len(latencies), "errors": len(errors), "probes": len(probes),
        "probes_scored": len(done_probes), "all_scored_after_s": round(drained, 1), "unscored_leads_before": unscored,
        "offered_events_per_s": args.rate or "back to back", "door": "/v1/batch" if args.segment else "/api/events/",
        "wal_bytes_per_event": round(wal_bytes / max(created[0], 1)),
        "wal_full_page_images_per_event": round(wal_fpi / max(created[0], 1), 2),
        "mqls_made": mqls,
    })
    if latencies:
        result["cases"].append(common.Case(
            name=f"POST {'/v1/batch' if args.segment else '/api/events/'} ({BATCH} events)", median_ms=round(common.median(latencies) * 1000, 1),
            p95_ms=round(common.percentile(latencies, 95) * 1000, 1), min_ms=round(min(latencies) * 1000, 1),
            max_ms=round(max(latencies) * 1000, 1), reps=len(latencies), queries=0,
        ).as_dict())
    if delays:
        result["cases"].append(common.Case(
            name="2xx response → lead's score updated", median_ms=round(common.median(delays) * 1000, 1),
            p95_ms=round(common.percentile(delays, 95) * 1000, 1), min_ms=round(min(delays) * 1000, 1),
            max_ms=round(max(delays) * 1000, 1), reps=len(delays), queries=0, target_ms=TARGET_P95_S * 1000,
        ).as_dict())
    result["params"]["events_per_s"] = round(rate)
    common.check(result, f"sustained ≥ {TARGET_RATE:,} events/s", rate >= TARGET_RATE, f"{rate:,.0f} events/s")
    p95 = common.percentile(delays, 95) if delays else float("inf")
    common.check(result, f"p95 response→score < {TARGET_P95_S:g} s", p95 < TARGET_P95_S and len(done_probes) == len(probes),
                 f"p95 {p95:.2f} s over {len(delays)} probes ({len(probes) - len(done_probes)} not scored within 60 s of the end)")
    common.check(result, "no failed requests", not errors, "; ".join(errors[:3]) or "none")
    return result
