"""The SLA sweep at scale: 1,000,000 running clocks of which 1 % are due, in its own database
(qualify_bench_sla), against the same sweep forced to a full-table scan in the same run.

Clocks are generated once with one INSERT … SELECT over the shared 1M-lead data set (one clock per
lead and its schedule row, next actions spread over the following three days) and reused: every timed sweep runs in a
transaction that is rolled back, and sweeps are given the data set's own `now`, so the same 10,000
clocks are due on every run and on every later day. Of the due clocks half owe a warning (one
notification) and half a breach plus its "notify owner and managers" rung (two escalations, two
notifications); reassign rungs go through routing, the batch together (routing.engine.escalate), and are not in this mix.
Since 2026-12-07 a person owed more than three notices of one kind in a batch gets one digest row
(qualify/sla/sweep.py), so most of those notifications are now a few digests per owner and batch.

Cases: (a) the sweep as shipped, claiming through the index sla_schedule_due; (b) the same
code with index scans switched off (`SET LOCAL enable_indexscan/bitmapscan = off`), i.e. a sweep
that reads the whole table for each batch, like a scan with no index to serve it; (c) an idle sweep
(nothing due) over the same million clocks: what the every-minute beat costs most of the time.
Target: (a) under 1 s. EXPLAIN of the claim query both ways shows where the difference comes from.
"""

from __future__ import annotations

import argparse
import datetime
import time
from typing import Any

from django.db import connection, transaction

from . import common, dataset

NAME = "sla_sweep"
DESCRIPTION = "SLA sweep over 1M running clocks with 1% due, vs the same sweep as a full-table scan"
DB_NAME = "qualify_bench_sla"
DUE_EVERY = 100  # one clock in 100 is due


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sla-reload-clocks", action="store_true", help="sla_sweep: regenerate the clocks")
    parser.add_argument("--sla-scan-reps", type=int, default=3, help="sla_sweep: timed runs of the full-scan sweep")


def ensure_defaults() -> None:
    """The shipped calendar and policies (the data set load truncates users, not these; but be sure)."""
    import importlib

    from django.apps import apps

    importlib.import_module("qualify.sla.migrations.0002_defaults_and_sweep").create(apps, None)


def _marker() -> tuple[int, datetime.datetime] | None:
    with connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_sla_clocks (clocks int, anchor timestamptz, seconds float)")
        c.execute("SELECT clocks, anchor FROM bench_sla_clocks")
        return c.fetchone()


def generate_clocks(anchor: datetime.datetime, out=print) -> tuple[int, float]:
    """One running first-touch clock per lead, generated in SQL. Returns (clocks, seconds)."""
    from qualify.sla.models import BusinessCalendar, ClockKind, SlaPolicy

    policy = SlaPolicy.objects.get(kind=ClockKind.MQL_FIRST_TOUCH, is_default=True)
    calendar = BusinessCalendar.objects.get(is_default=True)
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as c:
        c.execute("DELETE FROM bench_sla_clocks")
        c.execute("TRUNCATE sla_notification, sla_escalation, sla_clockschedule, sla_clock CASCADE")
        c.execute("SET LOCAL session_replication_role = replica")  # no FK checks for a million rows
        c.execute("SET LOCAL TimeZone = 'UTC'")
        # Per lead: `d` decides the shape. d = 0 (1 %): due now. Else the warning is 1 min to 3 days ahead.
        c.execute(
            """
            WITH base AS (
                SELECT l.id, l.team_id, l.owner_id, (l.id %% %(every)s) AS d, ((l.id / %(every)s) %% 2) AS half,
                       %(anchor)s::timestamptz AS now
                FROM leads_lead l
            ), times AS (
                SELECT *,
                    CASE WHEN d = 0 AND half = 0 THEN now - interval '50 minutes'  -- warning 5 min ago, due in 10
                         WHEN d = 0 THEN now - interval '70 minutes'                -- due 10 min ago: breach + notify
                         ELSE now - interval '45 minutes' + (1 + (id * 7919) %% 4320) * interval '1 minute'
                    END AS started
                FROM base
            ), plan AS (
                SELECT *, started + interval '45 minutes' AS warn, started + interval '60 minutes' AS due
                FROM times
            )
            INSERT INTO sla_clock (lead_id, team_id, policy_id, calendar_id, kind, owner_id, started_at, warn_at,
                                   due_at, plan, status, closed_note)
            SELECT id, team_id, %(policy)s, %(calendar)s, %(kind)s, owner_id, started, warn, due,
                   jsonb_build_array(
                       jsonb_build_array('warning', to_json(warn) #>> '{}'),
                       jsonb_build_array('breach', to_json(due) #>> '{}'),
                       jsonb_build_array('notify', to_json(due) #>> '{}'),
                       jsonb_build_array('reassign', to_json(due + interval '1 hour') #>> '{}'),
                       jsonb_build_array('return_to_pool', to_json(due + interval '4 hours') #>> '{}')),
                   'open', ''
            FROM plan
            """,
            {"every": DUE_EVERY, "anchor": anchor, "policy": policy.pk, "calendar": calendar.pk,
             "kind": ClockKind.MQL_FIRST_TOUCH.value},
        )
        count = c.rowcount
        # Each clock's place in its ladder: the breach step when its due time has passed, else the warning.
        c.execute(
            """INSERT INTO sla_clockschedule (clock_id, next_step, next_action_at)
               SELECT id, CASE WHEN due_at <= %(anchor)s THEN 1 ELSE 0 END,
                          CASE WHEN due_at <= %(anchor)s THEN due_at ELSE warn_at END
               FROM sla_clock""",
            {"anchor": anchor},
        )
        seconds = time.perf_counter() - t0
        c.execute("INSERT INTO bench_sla_clocks VALUES (%s, %s, %s)", [count, anchor, seconds])
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE sla_clock")
        c.execute("VACUUM ANALYZE sla_clockschedule")
    out(f"generated {count:,} clocks in {seconds:.1f} s")
    return count, seconds


class _Rollback(Exception):
    pass


def rolled_back(fn, *, full_scan: bool = False):
    """Run `fn` in a transaction that is rolled back afterwards, so every run sees the same data."""

    def call():
        box: dict[str, Any] = {}
        try:
            with transaction.atomic():
                if full_scan:
                    with connection.cursor() as c:
                        c.execute("SET LOCAL enable_indexscan = off")
                        c.execute("SET LOCAL enable_bitmapscan = off")
                        c.execute("SET LOCAL enable_indexonlyscan = off")
                box["result"] = fn()
                raise _Rollback
        except _Rollback:
            pass
        return box["result"]

    return call


def run(args: argparse.Namespace) -> dict[str, Any]:
    from qualify.sla.models import Clock, ClockSchedule, ClockStatus
    from qualify.sla.sweep import BATCH as SWEEP_BATCH
    from qualify.sla.sweep import sweep

    common.use_own_database(DB_NAME)
    ds = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    ensure_defaults()
    marker = _marker()
    if args.sla_reload_clocks or args.reload or not marker or marker[0] != args.leads:
        anchor = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        generate_clocks(anchor)
    else:
        anchor = marker[1]
        print(f"reusing {marker[0]:,} clocks (anchor {anchor:%Y-%m-%d %H:%M} UTC)")
    with connection.cursor() as c:
        c.execute("SET jit = off")

    running = Clock.objects.filter(status=ClockStatus.OPEN).count()
    due = ClockSchedule.objects.filter(next_action_at__lte=anchor).count()
    # A warning is one step; a breach is two (the breach, then the "notify" rung at 0 minutes).
    expected_steps = sum(1 if step == 0 else 2 for step in ClockSchedule.objects.filter(
        next_action_at__lte=anchor).values_list("next_step", flat=True))
    result = common.new_result(NAME, DESCRIPTION, {
        "running_clocks": running, "due_clocks": due, "steps_due": expected_steps, "batch": SWEEP_BATCH,
        "data_set": f"{ds.leads:,} leads ({'reused' if ds.reused else 'loaded'})",
    })

    def full_check(r):
        assert r.clocks == due and r.steps == expected_steps, f"sweep did {r}, expected {due} clocks / {expected_steps} steps"

    indexed = common.measure(
        "(a) sweep, partial index (1M running, 1% due)", rolled_back(lambda: sweep(now=anchor)),
        reps=max(3, min(args.reps, 7)), warmup=1, check=full_check, target_ms=1000,
    )
    scan = common.measure(
        "(b) same sweep as a full-table scan", rolled_back(lambda: sweep(now=anchor), full_scan=True),
        reps=args.sla_scan_reps, warmup=1, check=full_check, baseline=indexed.name,
    )
    idle = common.measure(
        "(c) idle sweep, nothing due (1M running)", rolled_back(lambda: sweep(now=anchor - datetime.timedelta(days=1))),
        reps=20, warmup=2, check=lambda r: None,
    )
    for case in (indexed, scan, idle):
        case.sql = case.sql[:8]  # the JSON keeps a sample, not 60 statements
        result["cases"].append(case.as_dict())

    common.check(result, "sweep (a) p95 under 1 s", indexed.p95_ms < 1000, f"{indexed.p95_ms:.0f} ms p95 for {due:,} due clocks")
    common.check(result, "full-table scan is slower", scan.median_ms > indexed.median_ms,
                 f"{scan.median_ms / indexed.median_ms:.1f}x the indexed sweep")
    common.check(result, "idle sweep is cheap", idle.p95_ms < 50, f"{idle.p95_ms:.1f} ms p95 with nothing due")
    result["params"]["ms_per_due_clock"] = round(indexed.median_ms / max(due, 1), 3)

    claim = (
        "SELECT s.clock_id FROM sla_clockschedule s JOIN sla_clock c ON c.id = s.clock_id "
        "WHERE s.next_action_at <= %s AND c.status = 'open' "
        "ORDER BY s.next_action_at LIMIT 2000 FOR UPDATE OF s SKIP LOCKED"
    )
    sql = connection.ops.compose_sql(claim, [anchor]) if hasattr(connection.ops, "compose_sql") else claim.replace("%s", f"'{anchor.isoformat()}'")
    lines = []
    for label, off in (("partial index", False), ("index scans off", True)):
        with transaction.atomic():
            with connection.cursor() as c:
                if off:
                    c.execute("SET LOCAL enable_indexscan = off")
                    c.execute("SET LOCAL enable_bitmapscan = off")
                    c.execute("SET LOCAL enable_indexonlyscan = off")
            plan = common.explain(sql)
            lines.append(f"{label}: execution {plan['execution_ms']} ms")
            lines.extend("  " + line for line in plan["plan"])
    result["sections"].append({"title": "EXPLAIN (ANALYZE, BUFFERS) of one batch's claim query", "lines": lines})
    with connection.cursor() as c:
        c.execute("SELECT pg_size_pretty(pg_relation_size('sla_clock')), pg_size_pretty(pg_relation_size('sla_clockschedule')), "
                  "pg_size_pretty(pg_relation_size('sla_schedule_due'))")
        table_size, schedule_size, index_size = c.fetchone()
    result["sections"].append({"title": "sizes", "lines": [
        f"sla_clock {table_size}; sla_clockschedule {schedule_size}; its index sla_schedule_due {index_size}"]})
    return result
