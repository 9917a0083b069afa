"""Routing throughput and fairness: 10,000 new MQLs routed through the real path, in the SLA
benchmark's database (qualify_bench_sla, next to its 1M-lead data set).

Each lead goes New → MQL through lifecycle.move_stage in autocommit, so its after-commit hook does
what production does: the routing listener (route_new_mqls: rule match, cursor lock, candidate facts, assign, Assignment
row, notification) and the first-touch SLA clock. Team "Bench Routing" has 10 SDRs and no other
leads; its leads are deleted before each pass.

Passes: round robin, one worker; least loaded, one worker; round robin, two workers at once (two
threads, two connections: fairness under concurrency). For each: leads per second and the spread of
assignments across reps (max − min), which must be at most one lead.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from typing import Any

from django.db import connection

from . import common
from .sla_sweep import DB_NAME, ensure_defaults

NAME = "routing"
DESCRIPTION = "Routing 10,000 new MQLs (round robin, least loaded, 2 workers): throughput and spread across reps"
TEAM = "Bench Routing"
REPS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--routing-leads", type=int, default=10_000, help="routing: new MQLs per pass")
    parser.add_argument("--routing-batch", type=int, default=250, help="routing: MQLs per batch in the batched passes")


def setup_team():
    from accounts.models import Membership, Role, Team, User
    from qualify.routing.models import RoutingRule

    team, _ = Team.objects.get_or_create(name=TEAM)
    reps = []
    for i in range(REPS):
        user, _ = User.objects.get_or_create(username=f"bench_router_{i}", defaults={"first_name": f"Router{i}"})
        Membership.objects.get_or_create(user=user, team=team, role=Role.SDR)
        reps.append(user)
    manager, _ = User.objects.get_or_create(username="bench_router_mgr", defaults={"first_name": "Manager"})
    Membership.objects.get_or_create(user=manager, team=team, role=Role.MANAGER)
    RoutingRule.objects.exclude(team=team).update(active=False)
    return team, reps


def fresh_leads(team, n: int) -> list[int]:
    """Delete the team's leads (and what hangs off them), then create `n` New leads without owner."""
    from qualify.leads.models import Account, Lead

    with connection.cursor() as c:
        c.execute("SET session_replication_role = replica")
        # Replica mode skips foreign-key triggers, so delete children before parents by hand.
        c.execute("DELETE FROM sla_clockschedule WHERE clock_id IN (SELECT id FROM sla_clock WHERE team_id = %s)", [team.pk])
        for table in ("sla_notification", "sla_escalation", "sla_clock", "routing_assignment", "leads_stagechange"):
            c.execute(f"DELETE FROM {table} WHERE lead_id IN (SELECT id FROM leads_lead WHERE team_id = %s)", [team.pk])
        c.execute("DELETE FROM leads_lead WHERE team_id = %s", [team.pk])
        c.execute("SET session_replication_role = DEFAULT")
    accounts = Account.objects.filter(team=team)
    if accounts.count() < 100:
        Account.objects.bulk_create(Account(name=f"Routing Co {i}", team=team, segment="mid_market", region="NA")
                                    for i in range(100))
    account_ids = list(Account.objects.filter(team=team).values_list("pk", flat=True)[:100])
    leads = Lead.objects.bulk_create(
        [Lead(first_name=f"R{i}", team=team, account_id=account_ids[i % len(account_ids)]) for i in range(n)],
        batch_size=2000,
    )
    with connection.cursor() as c:
        c.execute("ANALYZE leads_lead")
    return [lead.pk for lead in leads]


def route_all(ids: list[int]) -> None:
    """New → MQL for each lead; autocommit, so the routing hook runs after each commit."""
    from qualify.leads.lifecycle import move_stage
    from qualify.leads.models import Lead, Stage

    assert connection.settings_dict["NAME"] == "qualify_bench_sla", connection.settings_dict["NAME"]
    for pk in ids:
        # move_stage locks and re-reads the row itself: the caller's instance only needs its id.
        move_stage(Lead(pk=pk), to=Stage.MQL, by=None, why="bench: crossed the MQL threshold")


def route_batches(ids: list[int], size: int) -> None:
    """New → MQL `size` leads at a time through lifecycle.move_many (the scorer's MQL promotion):
    each batch's after-commit listeners route it and start its clocks together."""
    from qualify.leads.lifecycle import move_many
    from qualify.leads.models import Stage

    assert connection.settings_dict["NAME"] == "qualify_bench_sla", connection.settings_dict["NAME"]
    for start in range(0, len(ids), size):
        move_many({pk: (Stage.NEW, "bench: crossed the MQL threshold") for pk in ids[start:start + size]},
                  to=Stage.MQL, by=None)


def spread(team) -> dict[str, Any]:
    from qualify.leads.models import Lead

    counts = Counter(Lead.objects.filter(team=team).values_list("owner_id", flat=True))
    unrouted = counts.pop(None, 0)
    values = sorted(counts.values())
    return {"reps": len(values), "min": values[0] if values else 0, "max": values[-1] if values else 0,
            "spread": (values[-1] - values[0]) if values else 0, "unrouted": unrouted}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.db.models import Count

    from qualify.routing.models import Method, RoutingRule
    from qualify.sla.models import Clock

    common.use_own_database(DB_NAME)
    ensure_defaults()
    team, reps = setup_team()
    n = args.routing_leads
    result = common.new_result(NAME, DESCRIPTION, {"new_mqls_per_pass": n, "reps": REPS})

    batch = args.routing_batch
    passes = [("round robin, 1 worker", Method.ROUND_ROBIN, 1, 1), ("least loaded, 1 worker", Method.LEAST_LOADED, 1, 1),
              ("round robin, 2 workers", Method.ROUND_ROBIN, 2, 1),
              (f"round robin, batches of {batch}", Method.ROUND_ROBIN, 1, batch),
              (f"least loaded, batches of {batch}", Method.LEAST_LOADED, 1, batch)]
    per_lead_s: dict[str, float] = {}
    for label, method, workers, size in passes:
        RoutingRule.objects.filter(team=team).delete()
        RoutingRule.objects.create(name=f"Bench {method}", team=team, method=method)
        ids = fresh_leads(team, n)
        # One lead alone first, to count its queries (it is then routed like the rest would be).
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as one:
            if size == 1:
                route_all(ids[:1])
            else:
                route_batches(ids[:size], size)
        rest = ids[1:] if size == 1 else ids[size:]
        t0 = time.perf_counter()
        if size > 1:
            route_batches(rest, size)
        elif workers == 1:
            route_all(rest)
        else:
            errors: list[BaseException] = []

            def work(chunk):
                try:
                    route_all(chunk)
                except BaseException as e:  # noqa: BLE001 - reported below
                    errors.append(e)
                finally:
                    connection.close()

            threads = [threading.Thread(target=work, args=(rest[i::workers],)) for i in range(workers)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert not errors, errors
        seconds = time.perf_counter() - t0
        s = spread(team)
        clocks = Clock.objects.filter(team=team).aggregate(n=Count("id"))["n"]
        per_s = len(rest) / seconds
        per_lead_s[method if size == 1 and workers == 1 else label] = seconds / len(rest)
        ratio = ""
        if size > 1:
            ratio = f"; {per_lead_s[method] / (seconds / len(rest)):.1f}x the same method one lead at a time"
            result["params"][f"{label}: x one at a time"] = round(per_lead_s[method] / (seconds / len(rest)), 1)
        print(f"{label}: {len(rest):,} leads in {seconds:.1f} s = {per_s:,.0f}/s{ratio}; spread {s}; {clocks:,} clocks;"
              f" {len(one)} queries for {'one lead' if size == 1 else f'one batch of {size}'}")
        result["cases"].append(common.Case(
            name=f"{label}: per lead", median_ms=round(seconds * 1000 / len(rest), 3),
            p95_ms=round(seconds * 1000 / len(rest), 3), min_ms=0, max_ms=0, reps=len(rest),
            queries=round(len(one) / size, 2),
        ).as_dict())
        result["params"][f"{label}: leads/s"] = round(per_s)
        result["params"][f"{label}: per-rep min/max"] = f"{s['min']}/{s['max']}"
        common.check(result, f"{label}: every lead routed", s["unrouted"] == 0 and s["reps"] == REPS,
                     f"{n - s['unrouted']:,} routed over {s['reps']} reps")
        common.check(result, f"{label}: even within one lead per rep", s["spread"] <= 1,
                     f"min {s['min']}, max {s['max']} per rep")
        common.check(result, f"{label}: a first-touch clock per routed lead", clocks == n, f"{clocks:,} clocks")
    result["sections"].append({"title": "notes", "lines": [
        "per lead: wall time / leads routed, including move_stage (lock, update, StageChange), the after-commit",
        "routing (rules, cursor FOR UPDATE, members, open-lead counts, assign, Assignment, notification) and the",
        "first-touch clock (policy, calendar, insert); 'queries' is the count for one lead on that path (for",
        "batches: one batch's count divided by its size). Batches go New -> MQL through lifecycle.move_many, as the",
        "scorer promotes MQLs; their listeners route the whole batch in one transaction (engine.route_new_mqls).",
    ]})
    fresh_leads(team, 0)
    return result
