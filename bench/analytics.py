"""Metrics dashboards at scale: 1,000,000 leads and 5,000,000 stage changes, in their own database
(qualify_bench_analytics).

Measured through the real stack in-process (django.test.Client: middleware, session, view,
template, CSV): the four metrics pages for a manager (one team, default range: the last 365
days) and for an admin (both teams, the whole two years, broken down by SDR), and a CSV export.
Target: p95 under 500 ms each. For scale, the same funnel computed straight from StageChange (what
the pages would do without rollups) is timed as the baseline, and the cost of keeping the rollups
fresh is measured: a full rebuild, and an incremental refresh after a typical 5-minute batch of
new stage changes.

Data: the shared 1M-lead data set (bench/dataset.py), plus a stage history for every lead that
is consistent with its current stage (''→new→mql→working→…, with rejection and nurture loops so
the total is 5,000,000 rows), one handoff per lead that reached Handed off (15 % rejected with a
reason, then re-handed), and a first touch for 60 % of MQLs. Loaded once with COPY
(session_replication_role = replica skips the pghistory/protect triggers and FK checks; the
indexes of the three tables are dropped and rebuilt around it) and reused; `--reload-history`
forces it.
"""

from __future__ import annotations

import argparse
import datetime
import random
import time
from typing import Any, Iterator
from urllib.parse import urlencode

from django.db import connection, transaction
from django.test import Client

from . import common, dataset

NAME = "analytics"
DESCRIPTION = "Metrics pages at 1M leads / 5M stage changes (rollups) vs the funnel straight from StageChange"
DB_NAME = "qualify_bench_analytics"
TARGET_MS = 500.0
STAGE_CHANGES = 5_000_000
HISTORY_VERSION = 1
INCREMENT = 5_000  # stage changes in a "5-minute" batch for the incremental refresh
DECISIONS = 200  # handoff decisions in that batch

FORWARD = ["new", "mql", "working", "handed_off", "accepted", "opportunity"]
PATHS = {
    "new": ["new"], "mql": ["new", "mql"], "working": ["new", "mql", "working"],
    "handed_off": FORWARD[:4], "accepted": FORWARD[:5], "opportunity": FORWARD,
    "won": [*FORWARD, "won"], "lost": [*FORWARD, "lost"],
    "nurture": ["new", "mql", "working", "nurture"], "disqualified": ["new", "mql", "working", "disqualified"],
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stage-changes", type=int, default=STAGE_CHANGES, help="analytics: stage changes to load")
    parser.add_argument("--reload-history", action="store_true", help="analytics: reload stage changes, handoffs, touches")


# --- the history -------------------------------------------------------------------------------------


def _marker() -> tuple | None:
    with connection.cursor() as c:
        c.execute("""CREATE TABLE IF NOT EXISTS bench_analytics_history (
            id int PRIMARY KEY DEFAULT 1 CHECK (id = 1), leads int, stage_changes int, handoffs int, touches int,
            version int, load_seconds float)""")
        c.execute("SELECT leads, stage_changes, handoffs, touches, version, load_seconds FROM bench_analytics_history")
        return c.fetchone()


def _path(stage: str, loops: int) -> list[str]:
    """A history ending in `stage`, with `loops` rework loops the lifecycle allows: a rejected
    handoff (handed off → working → handed off) for leads that were handed off, else a nurture
    and recycle (working → nurture → working)."""
    path = list(PATHS[stage])
    if not loops:
        return path
    if "handed_off" in path:
        i, loop = path.index("handed_off") + 1, ["working", "handed_off"]
    elif "working" in path:
        i, loop = path.index("working") + 1, ["nurture", "working"]
    else:
        return path
    return path[:i] + loop * loops + path[i:]


def load_history(target: int, *, seed: int, out=print) -> dict[str, int]:
    """Stage changes, handoffs and touches for every lead, by COPY. Deterministic for a seed."""
    rnd = random.Random(seed + 7)
    t0 = time.perf_counter()
    with connection.cursor() as c:
        c.execute("""SELECT l.id, l.stage, l.created_at, l.stage_changed_at, l.owner_id, l.ae_id, l.team_id, l.source,
                            l.disqualify_reason_id
                     FROM leads_lead l ORDER BY l.id""")
        leads = c.fetchall()
        c.execute("SELECT id FROM leads_disqualifyreason WHERE action = 'back_to_sdr' ORDER BY id")
        back_reasons = [r[0] for r in c.fetchall()]
        c.execute("SELECT team_id, array_agg(user_id ORDER BY user_id) FROM accounts_membership WHERE role='sdr' GROUP BY team_id")
        sdrs = dict(c.fetchall())
        c.execute("SELECT team_id, array_agg(user_id ORDER BY user_id) FROM accounts_membership WHERE role='ae' GROUP BY team_id")
        aes = dict(c.fetchall())
    base = sum(len(PATHS[s]) for _, s, *_ in leads)
    loop_leads = [i for i, (_, s, *_) in enumerate(leads) if "working" in PATHS[s]]
    loops = [0] * len(leads)
    for _ in range(max(0, (target - base) // 2)):
        loops[loop_leads[rnd.randrange(len(loop_leads))]] += 1
    out(f"  generating ~{target:,} stage changes for {len(leads):,} leads (base {base:,}) ...")

    counts = {"stage_changes": 0, "handoffs": 0, "touches": 0}

    def esc(v) -> str:
        return r"\N" if v is None else str(v)

    def fmt(t: datetime.datetime) -> str:
        return t.strftime("%Y-%m-%d %H:%M:%S+00")

    ho_lines: list[str] = []
    touch_lines: list[str] = []

    def histories() -> Iterator[str]:
        for idx, (lid, stage, created, changed, owner, ae, team, source, reason) in enumerate(leads):
            path = _path(stage, loops[idx])
            sdr = owner if owner is not None else rnd.choice(sdrs[team])
            closer = ae if ae is not None else rnd.choice(aes[team])
            span = max((changed - created).total_seconds(), 60.0 * len(path))
            steps = sorted(rnd.random() for _ in range(len(path) - 1))
            times = [created] + [created + datetime.timedelta(seconds=span * s) for s in steps]
            times[-1] = max(times[-1], created)
            prev = ""
            handed_at = None
            for to, at in zip(path, times):
                by = sdr if to in ("working", "handed_off") else closer if to in ("accepted", "opportunity", "won", "lost") else None
                why_reason = r"\N"
                if prev == "handed_off" and to == "working" and back_reasons:
                    why_reason = str(back_reasons[rnd.randrange(len(back_reasons))])
                    ho_lines.append(f"{lid}\t{team}\t{sdr}\t{closer}\t{fmt(handed_at)}\tDemo booked\t\t{{}}\t{source}\trejected\t"
                                    f"{fmt(at)}\t{closer}\t{why_reason}\tNot enough discovery yet\n")
                elif prev == "handed_off" and to == "accepted":
                    ho_lines.append(f"{lid}\t{team}\t{sdr}\t{closer}\t{fmt(handed_at)}\tDemo booked\t\t{{}}\t{source}\taccepted\t"
                                    f"{fmt(at)}\t{closer}\t\\N\t\n")
                if to == "handed_off":
                    handed_at = at
                reason_col = esc(reason) if to in ("disqualified",) else why_reason
                yield f"{lid}\t{prev}\t{to}\t{esc(by)}\t{fmt(at)}\t\t{reason_col}\n"
                prev = to
            if stage == "handed_off" and handed_at is not None:
                ho_lines.append(f"{lid}\t{team}\t{sdr}\t{closer}\t{fmt(handed_at)}\tDemo booked\t\t{{}}\t{source}\tpending\t"
                                f"\\N\t\\N\t\\N\t\n")
            if "mql" in path and rnd.random() < 0.6:
                mql_at = times[path.index("mql")]
                touch_lines.append(f"{lid}\t{sdr}\tcall\tconnected\t\t{fmt(mql_at + datetime.timedelta(minutes=rnd.expovariate(1 / 240)))}\n")

    def chunks(gen: Iterator[str], size: int = 20_000) -> Iterator[str]:
        buf: list[str] = []
        for line in gen:
            buf.append(line)
            counts["stage_changes"] += 1
            if len(buf) >= size:
                yield "".join(buf)
                buf.clear()
        if buf:
            yield "".join(buf)

    with transaction.atomic():
        with connection.cursor() as c:
            c.execute("TRUNCATE leads_stagechange, handoff_handoff, leads_touch RESTART IDENTITY CASCADE")
            c.execute("SET LOCAL session_replication_role = replica")
            c.execute("SET LOCAL maintenance_work_mem = '512MB'")
        saved = dataset._drop_secondary_indexes(["leads_stagechange", "handoff_handoff", "leads_touch"])
        dataset._copy("leads_stagechange", ["lead_id", "from_stage", "to_stage", "by_id", "at", "why", "reason_id"],
                      chunks(histories()))
        t_copy = time.perf_counter()
        counts["handoffs"], counts["touches"] = len(ho_lines), len(touch_lines)
        dataset._copy("handoff_handoff", ["lead_id", "team_id", "from_user_id", "to_user_id", "created_at", "next_step", "note",
                                          "packet", "source", "status", "decided_at", "decided_by_id", "reason_id", "decision_note"],
                      iter(["".join(ho_lines)]))
        dataset._copy("leads_touch", ["lead_id", "author_id", "kind", "outcome", "note", "occurred_at"], iter(["".join(touch_lines)]))
        out(f"  generated and copied in {t_copy - t0:.1f} s; handoffs and touches {time.perf_counter() - t_copy:.1f} s")
        t_index = time.perf_counter()
        with connection.cursor() as c:
            for sql in saved:
                c.execute(sql)
        out(f"  rebuilt {len(saved)} indexes in {time.perf_counter() - t_index:.1f} s")
    with connection.cursor() as c:
        c.execute("VACUUM (ANALYZE) leads_stagechange, handoff_handoff, leads_touch")
        seconds = round(time.perf_counter() - t0, 1)
        c.execute("DELETE FROM bench_analytics_history")
        c.execute("INSERT INTO bench_analytics_history VALUES (1, %s, %s, %s, %s, %s, %s)",
                  [len(leads), counts["stage_changes"], counts["handoffs"], counts["touches"], HISTORY_VERSION, seconds])
    out(f"  history loaded in {seconds} s: {counts}")
    return counts


# --- the runs ------------------------------------------------------------------------------------------


def _ok(response) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request['PATH_INFO']}?{response.request['QUERY_STRING']} answered {response.status_code}")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _direct_funnel(team_ids: list[int], start: datetime.date, end: datetime.date) -> list[tuple]:
    """The funnel by source straight from StageChange, as the pages would compute it without rollups."""
    with connection.cursor() as c:
        c.execute(
            """SELECT l.source, count(DISTINCT l.id),
                 count(DISTINCT s.lead_id) FILTER (WHERE s.to_stage IN ('mql','working','handed_off','accepted','opportunity','won')),
                 count(DISTINCT s.lead_id) FILTER (WHERE s.to_stage IN ('accepted','opportunity','won')),
                 count(DISTINCT s.lead_id) FILTER (WHERE s.to_stage IN ('opportunity','won')),
                 count(DISTINCT s.lead_id) FILTER (WHERE s.to_stage = 'won')
               FROM leads_lead l LEFT JOIN leads_stagechange s ON s.lead_id = l.id
               WHERE l.team_id = ANY(%s) AND l.created_at::date BETWEEN %s AND %s
               GROUP BY l.source""",
            [team_ids, start, end],
        )
        return c.fetchall()


def run(args: argparse.Namespace) -> dict[str, Any]:
    from accounts.models import Team
    from qualify.analytics import metrics as m
    from qualify.analytics.models import FunnelRollup, LeadFact
    from qualify.analytics.rollups import refresh
    from qualify.leads.models import StageChange

    common.use_own_database(DB_NAME)
    ds = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    marker = _marker()
    if args.reload or args.reload_history or not ds.reused or not marker or marker[0] != ds.leads or marker[4] != HISTORY_VERSION \
            or abs(marker[1] - args.stage_changes) > ds.leads:
        load_history(args.stage_changes, seed=args.seed)
        marker = _marker()
    else:
        print(f"reusing history: {marker[1]:,} stage changes, {marker[2]:,} handoffs, {marker[3]:,} touches")

    result = common.new_result(NAME, DESCRIPTION, {
        "leads": ds.leads, "stage_changes": marker[1], "handoffs": marker[2], "touches": marker[3],
        "reps": args.reps, "warmup": args.warmup, "target_p95_ms": TARGET_MS,
        "data_set": "reused" if ds.reused else f"loaded in {ds.load_seconds} s",
    })

    # The rollups: a full rebuild (timed once), then an incremental refresh after a batch of changes.
    t = time.perf_counter()
    full = refresh(full=True)
    full_s = time.perf_counter() - t
    print(f"  full refresh: {full.leads:,} leads in {full_s:.1f} s", flush=True)
    with connection.cursor() as c:
        c.execute("SELECT max(id) FROM leads_lead")
        top = c.fetchone()[0]
        # A busy 5-minute batch: 5,000 leads move on (mql → working by their owner), and AEs decide
        # 200 recent pending handoffs (accepted now; put back below).
        c.execute(
            """INSERT INTO leads_stagechange (lead_id, from_stage, to_stage, by_id, at, why)
               SELECT id, 'mql', 'working', owner_id, now(), 'bench' FROM leads_lead
               WHERE stage = 'mql' AND id > %s ORDER BY id LIMIT %s""",
            [top - 200_000, INCREMENT],
        )
        c.execute(
            """UPDATE handoff_handoff SET status = 'accepted', decided_at = now(), decided_by_id = to_user_id
               WHERE id IN (SELECT id FROM handoff_handoff WHERE status = 'pending' AND created_at > now() - interval '30 days'
                            ORDER BY id LIMIT %s) RETURNING id""",
            [DECISIONS],
        )
        decided = [r[0] for r in c.fetchall()]
    # Steady state: lead rows were not updated since the last run (the data set's were, at load
    # time, within the 10-minute safety margin), so only the new stage changes' leads are dirty.
    from qualify.analytics import rollups

    saved_margin, rollups.TIME_SAFETY = rollups.TIME_SAFETY, datetime.timedelta(0)
    t = time.perf_counter()
    try:
        inc = refresh()
    finally:
        rollups.TIME_SAFETY = saved_margin
    inc_s = time.perf_counter() - t
    print(f"  incremental refresh: {inc.leads:,} leads, {inc.cells:,} cells in {inc_s:.2f} s", flush=True)
    with connection.cursor() as c:  # keep the data set as loaded
        c.execute("DELETE FROM leads_stagechange WHERE why = 'bench'")
        c.execute("UPDATE handoff_handoff SET status = 'pending', decided_at = NULL, decided_by_id = NULL WHERE id = ANY(%s)",
                  [decided])
    refresh(full=True)
    dataset_rows = {"lead facts": LeadFact.objects.count(), "funnel rollup rows": FunnelRollup.objects.count()}
    result["params"].update({"full_refresh_s": round(full_s, 1), "incremental_refresh_s": round(inc_s, 2),
                             "incremental_leads": inc.leads, "incremental_handoff_decisions": len(decided), **{k.replace(" ", "_"): v for k, v in dataset_rows.items()}})

    team = ds.team(0)
    manager, admin = ds.manager(team), ds.admin()
    mgr_c, admin_c = _client(manager), _client(admin)
    today = datetime.date.today()
    all_time = {"start": (today - datetime.timedelta(days=800)).isoformat(), "end": today.isoformat()}
    u = lambda path, **p: path + ("?" + urlencode(p) if p else "")  # noqa: E731
    plan = [
        ("funnel: manager, last 365 days, by source", mgr_c, u("/metrics/")),
        ("funnel: admin, all teams, 2 years, by SDR", admin_c, u("/metrics/", dim="sdr", **all_time)),
        ("velocity: manager, last 365 days", mgr_c, u("/metrics/velocity/")),
        ("velocity: admin, 2 years, by campaign", admin_c, u("/metrics/velocity/", dim="campaign", **all_time)),
        ("handoffs: manager, last 365 days", mgr_c, u("/metrics/handoffs/")),
        ("handoffs: admin, 2 years", admin_c, u("/metrics/handoffs/", **all_time)),
        ("quality: manager, last 365 days", mgr_c, u("/metrics/quality/")),
        ("CSV funnel by SDR: admin, 2 years", admin_c, u("/metrics/", dim="sdr", export="funnel", **all_time)),
    ]
    baseline = "funnel straight from StageChange (2 years, all teams)"
    cases = []
    for name, client, url in plan:
        print(f"  measuring {name} ...", flush=True)
        cases.append(common.measure(name, lambda c=client, x=url: c.get(x), reps=args.reps, warmup=args.warmup, check=_ok,
                                    baseline=baseline, target_ms=TARGET_MS))
    team_ids = list(Team.objects.values_list("pk", flat=True))
    start, end = datetime.date.fromisoformat(all_time["start"]), today
    print(f"  measuring {baseline} ...", flush=True)
    cases.append(common.measure(baseline, lambda: _direct_funnel(team_ids, start, end), reps=min(args.reps, 3), warmup=1))
    result["cases"] = [c.as_dict() for c in cases]

    # The rollup answers what the history says.
    direct = {row[0]: row[1:] for row in _direct_funnel(team_ids, start, end)}
    f = m.Filters(start, end, tuple(team_ids))
    rolled = {r.key: (r.leads, r.mql, r.accepted, r.opportunity, r.won) for r in m.funnel_by(f, "source")}
    common.check(result, "rollup funnel equals the funnel computed from StageChange", rolled == direct,
                 f"{len(direct)} sources; e.g. inbound {direct.get('inbound')} vs {rolled.get('inbound')}")
    over = [c for c in cases if c.target_ms is not None and c.p95_ms > c.target_ms]
    common.check(result, f"every page p95 <= {TARGET_MS:g} ms", not over,
                 "all within target" if not over else "over: " + ", ".join(f"{c.name} ({c.p95_ms:.0f} ms)" for c in over))
    by_name = {c.name: c for c in cases}
    pairs = [(a, b) for a, b in zip(plan[2:6:2], plan[3:6:2])]  # velocity and handoffs: manager vs admin
    common.check(result, "query count independent of range and team scope",
                 all(by_name[a[0]].queries == by_name[b[0]].queries for a, b in pairs),
                 ", ".join(f"{a[0].split(':')[0]}: {by_name[a[0]].queries} / {by_name[b[0]].queries}" for a, b in pairs))
    assert StageChange.objects.filter(why="bench").count() == 0
    return result
