"""The SDR queue at scale: server time and query count of GET /queue/, against Django admin's
changelist for the same leads, measured in the same run.

Every request goes through the real stack in-process (django.test.Client: middleware, session,
view, template), so a figure is what a worker spends on the request minus the network. Cases:
the longest SDR queue first and deep (95 % down, through the keyset cursor), a filtered page, the
team pool first and deep, a manager's whole-team view first and deep, page sizes 10 and 200, and
the admin changelist (100 rows a page, OFFSET pagination) first, deep and searched as baseline
(the last two with 20 and 10 repetitions: each takes seconds at 1M leads). Then every other sort of
queue.SORTS (a manager's whole team first page both ways and 95 % deep, the SDR's queue, the team
pool) and every filter (stage, source, segment, SLA state, rep, search by company and by title) on
the whole team and on the SDR's queue. The capped total is a request of its own
(/queue/total/, which the page fetches once its rows are shown), measured for every first page.
The data set has no SLA clocks; the first run gives the leads that would have one a running clock
(untouched MQLs that became MQL in the last 30 days, handoffs of the last 14 days; due times spread
from 2 hours overdue to 6 hours ahead), so the SLA sort and filters read realistic rows.
Target: p95 at most 50 ms at 1,000,000 leads, and a query count that stays the same whatever the
page size, depth or data volume.
"""

from __future__ import annotations

import argparse
import math
from typing import Any
from urllib.parse import urlencode

from django.db import connection
from django.db.models import Count
from django.test import Client

from accounts.models import User
from qualify.leads import property_indexes
from qualify.leads.models import OPEN_STAGES, SDR_STAGES, Lead
from qualify.leads.queue import SORTS, cursor_of, sorted_leads
from qualify.process import freeze_startup_objects

from . import common, dataset

NAME = "queue"
DESCRIPTION = "SDR queue (/queue/) server time and query count vs Django admin's Lead changelist"
TARGET_MS = 50.0
DEEP = 0.95  # how far down a queue the deep page starts
ADMIN_DEEP = 0.9  # how far down the admin changelist the deep page is
SEARCH_WORD = "Robotics"  # an account-name word (1 account in 20)
# The admin's deep page (OFFSET 900,000) and its search scan the whole table, seconds each at 1M
# leads; 50 of them would add ten minutes to every run for a baseline that is ~100× off anyway.
ADMIN_DEEP_REPS = 20
ADMIN_SEARCH_REPS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-explain", action="store_true", help="queue: skip the EXPLAIN ANALYZE summaries")


def _rows(response) -> int:
    return response.content.count(b'class="lead-row"')


def _ok(min_rows: int = 1):
    def check(response) -> None:
        if response.status_code != 200:
            raise RuntimeError(f"{response.request['PATH_INFO']}?{response.request['QUERY_STRING']} "
                               f"answered {response.status_code}")
        if response.request["PATH_INFO"] == "/queue/total/" and b" lead" not in response.content:
            raise RuntimeError(f"{response.request['QUERY_STRING']}: no total in {response.content[:200]!r}")
        if min_rows and _rows(response) < min_rows and b"result_list" not in response.content:
            raise RuntimeError(f"{response.request['QUERY_STRING']}: expected at least {min_rows} rows")
    return check


def _sort_cursor(qs, name: str, descending: bool, fraction: float) -> str:
    """The keyset cursor of the row `fraction` of the way down `qs` in sort `name`."""
    total = qs.filter(SORTS[name].only()).count() if SORTS[name].only else qs.count()
    if not total:
        return ""
    position = min(int(total * fraction), max(total - 2, 0))
    row = sorted_leads(qs, name, descending).only("id")[position]
    return cursor_of(row)


def _ensure_clocks() -> int:
    """Running SLA clocks for the leads that would have one (see the module docstring); once."""
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM sla_clock WHERE status = 'open'")
        if n := c.fetchone()[0]:
            return n
        c.execute("""
            INSERT INTO sla_clock (lead_id, team_id, policy_id, calendar_id, kind, owner_id, started_at, warn_at,
                                   due_at, plan, status, closed_note)
            SELECT l.id, l.team_id, p.id, (SELECT min(id) FROM sla_businesscalendar), p.kind,
                   CASE WHEN p.kind = 'handoff_decision' THEN l.ae_id ELSE l.owner_id END, l.stage_changed_at,
                   now() + ((l.id % 480) - 180) * interval '1 minute',
                   now() + ((l.id % 480) - 120) * interval '1 minute', '[]', 'open', ''
            FROM leads_lead l
            JOIN sla_slapolicy p ON p.kind = CASE WHEN l.stage = 'mql' THEN 'mql_first_touch' ELSE 'handoff_decision' END
            WHERE (l.stage = 'mql' AND l.last_touch_at IS NULL AND l.owner_id IS NOT NULL
                   AND l.stage_changed_at > now() - interval '30 days')
               OR (l.stage = 'handed_off' AND l.stage_changed_at > now() - interval '14 days')
            ON CONFLICT DO NOTHING""")
        c.execute("ANALYZE sla_clock")
        c.execute("SELECT count(*) FROM sla_clock WHERE status = 'open'")
        return c.fetchone()[0]


def _cursor(qs, fraction: float) -> tuple[str, int, int]:
    """The keyset cursor ("score:id") of the row `fraction` of the way down `qs`, in queue order."""
    total = qs.count()
    position = min(int(total * fraction), max(total - 2, 0))
    score, pk = qs.order_by("-score", "-id").values_list("score", "id")[position]
    return f"{score}:{pk}", position, total


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _main_query(case: common.Case) -> str | None:
    """The statement that reads the page of leads (the other ones are session, user, memberships)."""
    # SELECTs only: EXPLAIN ANALYZE runs its statement, and a page may also write (the decay refresh).
    candidates = [s for s in case.sql
                  if s.lstrip().upper().startswith("SELECT") and ";" not in s and 'FROM "leads_lead"' in s and "LIMIT" in s]
    return candidates[-1] if candidates else None


def _sort_and_filter_plan(q, sdr, sdr_c, mgr_c, team, a_first: str, a_deep: str, a_search: str) -> list:
    """A case per sort (other than score, measured above) and per filter."""
    plan = []
    team_open = Lead.objects.filter(team=team, stage__in=OPEN_STAGES)
    for name, spec in SORTS.items():
        if name == "score":
            continue
        flip = "asc" if spec.descending else "desc"
        deep = _sort_cursor(team_open, name, spec.descending, DEEP)
        rows = 0 if spec.only else 1  # the SLA sort lists only leads with running clocks: maybe none
        plan += [
            (f"sort={name}: team (manager) first page", mgr_c, q(scope="team", sort=name), {}, a_first, rows),
            (f"sort={name}&dir={flip}: team (manager) first page", mgr_c, q(scope="team", sort=name, dir=flip), {}, a_first, rows),
            (f"sort={name}: team (manager) deep page", mgr_c, q(scope="team", sort=name, after=deep), {}, a_deep, rows),
            (f"sort={name}: mine first page", sdr_c, q(sort=name), {}, a_first, rows),
            (f"sort={name}: pool first page", sdr_c, q(scope="pool", sort=name), {}, a_first, 0),
        ]
    filters = [{"stage": "mql"}, {"source": "partner"}, {"segment": "enterprise"}, {"sla": "breached"},
               {"sla": "at_risk"}, {"q": SEARCH_WORD.lower()}, {"q": "director"}]
    for f in filters:
        label = "&".join(f"{k}={v}" for k, v in f.items())
        rows = 0 if "sla" in f else 1
        plan.append((f"filter {label}: team (manager)", mgr_c, q(scope="team", **f), {}, a_search if "q" in f else a_first, rows))
        if f != {"stage": "mql"}:
            plan.append((f"filter {label}: mine", sdr_c, q(**f), {}, a_search if "q" in f else a_first, rows))
    plan.append(("filter owner=<SDR> (rep): team (manager)", mgr_c, q(scope="team", owner=sdr.pk), {}, a_first, 1))
    plan.append(("filter owner=<SDR>&sort=last_touch: team (manager)", mgr_c,
                 q(scope="team", owner=sdr.pk, sort="last_touch"), {}, a_first, 1))
    return plan


def sdr_queue_lengths(team) -> list[dict]:
    """The owners of `team`'s SDR-stage leads with their queue's length (`owner`, `n`), longest
    first: the cases (and bench/probes) take the longest and the shortest from here."""
    return list(Lead.objects.filter(team=team, owner__isnull=False, stage__in=SDR_STAGES)
                .values("owner").annotate(n=Count("id")).order_by("-n", "owner"))


def run(args: argparse.Namespace) -> dict[str, Any]:
    ds = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    # The range index of each number property, as the worker builds it after the definition
    # commits (the load defines them with no worker running). Not inside the smoke test's
    # transaction: CONCURRENTLY cannot run there, and 2,000 leads need no index.
    synced = property_indexes.sync() if not connection.in_atomic_block else {"created": [], "dropped": []}
    if synced["created"]:
        print(f"  built property range indexes: {', '.join(synced['created'])}", flush=True)
    team = ds.team(0)
    counts = sdr_queue_lengths(team)
    sdr = User.objects.get(pk=counts[0]["owner"])
    smallest_sdr = User.objects.get(pk=counts[-1]["owner"])
    manager, admin = ds.manager(team), ds.admin()
    clocks = _ensure_clocks()

    mine_after, mine_pos, mine_total = _cursor(Lead.objects.filter(owner=sdr, stage__in=SDR_STAGES), DEEP)
    pool_after, pool_pos, pool_total = _cursor(
        Lead.objects.filter(team=team, owner__isnull=True, stage__in=SDR_STAGES), DEEP
    )
    team_after, team_pos, team_total = _cursor(Lead.objects.filter(team=team, stage__in=OPEN_STAGES), DEEP)
    admin_pages = math.ceil(ds.leads / 100)
    admin_deep = max(1, int(admin_pages * ADMIN_DEEP))

    result = common.new_result(NAME, DESCRIPTION, {
        "leads": ds.leads,
        "accounts": ds.accounts,
        "reps": args.reps,
        "warmup": args.warmup,
        "sdr_queue": mine_total,
        "sdr_deep_row": mine_pos,
        "pool": pool_total,
        "pool_deep_row": pool_pos,
        "team_open": team_total,
        "team_deep_row": team_pos,
        "admin_deep_page": admin_deep,
        "running_sla_clocks": clocks,
        "queue_page": "50 rows",
        "admin_page": "100 rows",
        "data_set": "reused" if ds.reused else f"loaded in {ds.load_seconds} s",
    })

    sdr_c, mgr_c, admin_c = _client(sdr), _client(manager), _client(admin)
    q = lambda **p: "/queue/?" + urlencode(p)  # noqa: E731
    A_FIRST = "admin: first page"
    A_DEEP = f"admin: deep page (p={admin_deep:,}, {min(args.reps, ADMIN_DEEP_REPS)} reps)"
    A_SEARCH = f"admin: stage=mql, q={SEARCH_WORD.lower()} ({min(args.reps, ADMIN_SEARCH_REPS)} reps)"
    htmx = {"HTTP_HX_REQUEST": "true"}
    plan: list[tuple[str, Client, str, dict, str | None, int]] = [
        # name, client, url, extra headers, baseline, min rows on the page
        ("queue mine: first page", sdr_c, q(), {}, A_FIRST, 1),
        ("queue mine: deep page", sdr_c, q(after=mine_after), {}, A_DEEP, 1),
        ("queue mine: deep, htmx load-more", sdr_c, q(scope="mine", after=mine_after), htmx, A_DEEP, 1),
        (f"queue mine: stage=mql, q={SEARCH_WORD.lower()}", sdr_c, q(stage="mql", q=SEARCH_WORD.lower()), {}, A_SEARCH, 1),
        ("queue pool: first page", sdr_c, q(scope="pool"), {}, A_FIRST, 1),
        ("queue pool: deep page", sdr_c, q(scope="pool", after=pool_after), {}, A_DEEP, 1),
        ("queue team (manager): first page", mgr_c, q(scope="team"), {}, A_FIRST, 1),
        ("queue team (manager): deep page", mgr_c, q(scope="team", after=team_after), {}, A_DEEP, 1),
        *_sort_and_filter_plan(q, sdr, sdr_c, mgr_c, team, A_FIRST, A_DEEP, A_SEARCH),
        # Custom properties (GIN jsonb_path_ops on leads_lead.properties; bench/dataset.py PROPERTIES).
        ("queue mine: prop.occupation=Student", sdr_c, q(**{"prop.occupation": "Student"}), {}, A_FIRST, 1),
        ("queue mine: deep, prop.occupation=Student", sdr_c, q(**{"prop.occupation": "Student", "after": mine_after}), {}, A_DEEP, 0),
        ("queue mine: prop.visits.min=30", sdr_c, q(**{"prop.visits.min": "30"}), {}, A_FIRST, 1),
        ("queue team (manager): prop.occupation=Businessman&prop.newsletter=yes", mgr_c,
         q(scope="team", **{"prop.occupation": "Businessman", "prop.newsletter": "yes"}), {}, A_FIRST, 1),
        # Rare: none at all in a small data set (the smoke test's 2,000 leads), so no minimum rows.
        ("queue team (manager): prop.visits.min=60 (rare)", mgr_c, q(scope="team", **{"prop.visits.min": "60"}), {}, A_FIRST, 0),
        ("queue mine: per=10", sdr_c, q(per=10), {}, A_FIRST, 1),
        ("queue mine: per=200", sdr_c, q(per=200), {}, A_FIRST, 1),
    ]
    # The page's total is a request of its own (leads.views.queue_total, fetched by the page once
    # its rows are shown): measured for every first page, held to the same target.
    plan += [(f"total: {name}", client, url.replace("/queue/?", "/queue/total/?", 1), htmx, None, 0)
             for name, client, url, _, _, _ in list(plan) if "after=" not in url and "per=" not in url]
    admin_plan = [
        (A_FIRST, admin_c, "/admin/leads/lead/", args.reps, args.warmup),
        (A_DEEP, admin_c, f"/admin/leads/lead/?p={admin_deep}", min(args.reps, ADMIN_DEEP_REPS), min(args.warmup, 2)),
        (A_SEARCH, admin_c, "/admin/leads/lead/?" + urlencode({"stage__exact": "mql", "q": SEARCH_WORD.lower()}),
         min(args.reps, ADMIN_SEARCH_REPS), 1),
    ]

    # As the server does once it has loaded the app (qualify/wsgi.py): without it, a full garbage
    # collection walks every object of the process every few dozen requests.
    freeze_startup_objects()
    cases: list[common.Case] = []
    for name, client, url, headers, baseline, min_rows in plan:
        print(f"  measuring {name} ...", flush=True)
        cases.append(common.measure(
            name, lambda c=client, u=url, h=headers: c.get(u, **h), reps=args.reps, warmup=args.warmup,
            check=_ok(min_rows), baseline=baseline,
            # The target is for the default page; per=10/200 are there to show the query count.
            target_ms=None if "per=" in url else TARGET_MS,
        ))
    for name, client, url, reps, warmup in admin_plan:
        print(f"  measuring {name} ...", flush=True)
        cases.append(common.measure(name, lambda c=client, u=url: c.get(u), reps=reps, warmup=warmup, check=_ok(0)))
    result["cases"] = [c.as_dict() for c in cases]
    by_name = {c.name: c for c in cases}

    # Query counts: the same for every page size, depth and queue length.
    first = by_name["queue mine: first page"].queries
    common.check(result, "queries independent of page size",
                 by_name["queue mine: per=10"].queries == by_name["queue mine: per=200"].queries == first,
                 f"per=10: {by_name['queue mine: per=10'].queries}, per=50: {first}, "
                 f"per=200: {by_name['queue mine: per=200'].queries}")
    pairs = [("mine", "queue mine: first page", "queue mine: deep page"),
             ("pool", "queue pool: first page", "queue pool: deep page"),
             ("team", "queue team (manager): first page", "queue team (manager): deep page")]
    common.check(result, "queries independent of depth",
                 all(by_name[a].queries == by_name[b].queries for _, a, b in pairs),
                 ", ".join(f"{s}: {by_name[a].queries} first / {by_name[b].queries} deep" for s, a, b in pairs))
    small_c = _client(smallest_sdr)
    small = common.measure("smallest queue", lambda: small_c.get(q()), reps=1, warmup=1, check=_ok(0))
    common.check(result, "queries independent of data volume", small.queries == first,
                 f"SDR with the shortest queue ({counts[-1]['n']:,} leads): {small.queries}; "
                 f"with the longest ({counts[0]['n']:,}): {first}")
    over = [c for c in cases if c.target_ms is not None and c.p95_ms > c.target_ms]
    common.check(result, f"queue p95 <= {TARGET_MS:g} ms at {ds.leads:,} leads", not over,
                 "all queue cases within target" if not over else
                 "over: " + ", ".join(f"{c.name} ({c.p95_ms:.1f} ms)" for c in over))

    if not args.no_explain:
        explained = [c for c in cases if c.name.startswith("queue") and "per=" not in c.name] + \
                    [by_name[A_FIRST], by_name[A_DEEP]]
        for case in explained:
            sql = _main_query(case)
            if not sql:
                continue
            ex = common.explain(sql)
            result["sections"].append({
                "title": f"EXPLAIN (ANALYZE, BUFFERS) {case.name}: execution {ex['execution_ms']:.2f} ms, "
                         f"planning {ex['planning_ms']:.2f} ms",
                "lines": ex["plan"],
            })
    return result
