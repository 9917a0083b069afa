"""Full score recompute at scale: 1,000,000 leads with 10,000,000 events, in its own database
(qualify_bench_scoring), against (a) one hand-written SQL statement computing the same scores for
every lead in the same run, the practical limit, and (b) a straightforward per-lead ORM loop over a
10,000-lead sample, extrapolated.

The measured path is the real one: runs.run_batches() over a ScoreRun (lead-id batches; per batch a
lock, one assignment query and one compiled UPDATE … FROM (WITH … GROUP BY …) per model version,
and the run's progress row), once with one lane (one worker) and once with two lanes in two
processes, as a published model runs on a 2-process Celery worker. MQL promotion is off for the timed passes (the reference does not
move stages either); it is a separate, per-lead cost that only leads crossing the threshold pay.
Targets: within 2× of (a), at least 50× faster than (b). Every lead's score is checked against (a).

Events are loaded once with COPY (session_replication_role = replica skips triggers and FK checks;
the event indexes are dropped and rebuilt around it) and reused; `--reload-events` forces it.
"""

from __future__ import annotations

import argparse
import datetime
import random
import time
from typing import Any, Iterator

from django.db import connection

from . import common, dataset

NAME = "scoring_recompute"
DESCRIPTION = "Full score recompute (1M leads, 10M events) vs one hand-written SQL statement and a per-lead ORM loop"
DB_NAME = "qualify_bench_scoring"
EVENTS_PER_LEAD = 10
HORIZON_DAYS = 180
ORM_SAMPLE = 10_000

# Event mix: (type, properties, weight).
MIX = [
    ("page_view", {"page_category": "pricing"}, 9), ("page_view", {"page_category": "product"}, 15),
    ("page_view", {"page_category": "blog"}, 24), ("page_view", {"page_category": "careers"}, 6),
    ("page_view", {"page_category": "competitor_comparison"}, 6), ("email_open", {}, 10),
    ("email_click", {"link": "https://x.example/case-study/acme"}, 3), ("email_click", {"link": "https://x.example/blog"}, 7),
    ("form_fill", {"form": "ebook"}, 5), ("webinar_attended", {"campaign": "q3-webinar"}, 4),
    ("demo_request", {}, 1), ("product_usage", {"feature": "reports"}, 7), ("intent_surge", {"topic": "lead scoring"}, 3),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events-per-lead", type=int, default=EVENTS_PER_LEAD, help="scoring_recompute: mean events per lead")
    parser.add_argument("--orm-sample", type=int, default=ORM_SAMPLE, help="scoring_recompute: leads in the ORM loop sample")
    parser.add_argument("--reload-events", action="store_true", help="scoring_recompute: reload the events")
    parser.add_argument("--batch", type=int, default=10_000, help="scoring_recompute: leads per recompute batch")


def ensure_default_model():
    """The shipped default model (migration 0002). Loading the data set truncates the user table,
    which cascades to the versions and models that reference users, so recreate it when missing."""
    from django.apps import apps

    from qualify.scoring.models import ScoringModel

    if not ScoringModel.objects.filter(is_default=True, current_version__isnull=False).exists():
        import importlib

        ScoringModel.objects.filter(is_default=True).delete()
        importlib.import_module("qualify.scoring.migrations.0002_default_model").create_default(apps, None)
    return ScoringModel.objects.get(is_default=True)


# --- events ----------------------------------------------------------------------------------------


def _events_loaded() -> int | None:
    with connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS bench_scoring_events (leads int, events bigint, seed int, seconds float)")
        c.execute("SELECT leads, events, seed FROM bench_scoring_events")
        row = c.fetchone()
    return row


def load_events(leads: int, per_lead: int, seed: int, out=print) -> tuple[int, float]:
    """COPY about leads × per_lead events with skewed counts per lead over the last 180 days."""
    rnd = random.Random(seed + 7)
    slots = [i for i, (_, _, w) in enumerate(MIX) for _ in range(w)]
    encoded = [(t, __import__("json").dumps(p).replace("\\", "\\\\")) for t, p, _ in MIX]
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start = now - datetime.timedelta(days=HORIZON_DAYS)
    span = HORIZON_DAYS * 86_400
    with connection.cursor() as c:
        c.execute("SELECT min(id), max(id) FROM leads_lead")
        lo, hi = c.fetchone()
    t0 = time.perf_counter()
    total = 0

    def lines() -> Iterator[str]:
        nonlocal total
        for lead_id in range(lo, hi + 1):
            # Skewed: most leads a handful of events, a few very busy ones; mean ≈ per_lead.
            n = min(int(rnd.expovariate(1 / per_lead) + 0.5), 40 * per_lead)
            for _ in range(n):
                etype, props = encoded[slots[rnd.randrange(len(slots))]]
                at = start + datetime.timedelta(seconds=rnd.randrange(span))
                total += 1
                yield f"{lead_id}\t{etype}\t{props}\t{at.isoformat()}\t{now.isoformat()}\t\n"

    with connection.cursor() as c:
        c.execute("TRUNCATE leads_event")
        c.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'leads_event' AND indexname NOT LIKE '%%pkey'"
        )
        indexes = c.fetchall()
        for name, _ in indexes:
            c.execute(f'ALTER TABLE leads_event DROP CONSTRAINT IF EXISTS "{name}"')
            c.execute(f'DROP INDEX IF EXISTS "{name}"')
        c.execute("SET session_replication_role = replica")
        with c.copy("COPY leads_event (lead_id, type, properties, occurred_at, received_at, client_id) FROM STDIN") as copy:
            buf: list[str] = []
            for line in lines():
                buf.append(line)
                if len(buf) >= 50_000:
                    copy.write("".join(buf))
                    buf.clear()
            if buf:
                copy.write("".join(buf))
        c.execute("SET session_replication_role = DEFAULT")
        out(f"copied {total:,} events in {time.perf_counter() - t0:.1f} s; rebuilding indexes")
        for _, ddl in indexes:
            c.execute(ddl)
        c.execute("ANALYZE leads_event")
        c.execute("ANALYZE leads_lead")
        c.execute("DELETE FROM bench_scoring_events")
        seconds = time.perf_counter() - t0
        c.execute("INSERT INTO bench_scoring_events VALUES (%s, %s, %s, %s)", [leads, total, seed, seconds])
    return total, seconds


def ensure_events(args: argparse.Namespace, ds, *, exact: bool = False) -> int:
    """The events of the data set `ds`, loaded unless the same ones are there. Returns how many.
    `exact`: also reload when events were added since (each scoring_ingest run adds ~300,000)."""
    loaded = _events_loaded()
    # A reloaded data set truncated the events with the leads (TRUNCATE ... CASCADE).
    reload = args.reload_events or not ds.reused or not loaded or loaded[0] != args.leads or loaded[2] != args.seed
    if not reload and exact:
        with connection.cursor() as c:
            c.execute("SELECT count(*) FROM leads_event")
            if (now := c.fetchone()[0]) != loaded[1]:
                print(f"{now - loaded[1]:,} events were added since the load (by scoring_ingest): reloading")
                reload = True
    if reload:
        n_events, load_s = load_events(args.leads, args.events_per_lead, args.seed)
        print(f"loaded {n_events:,} events in {load_s:.1f} s")
        return n_events
    print(f"reusing {loaded[1]:,} events")
    return loaded[1]


# --- (a) the reference: one hand-written statement ---------------------------------------------------

REFERENCE_SQL = """
CREATE UNLOGGED TABLE ref_scores AS
WITH m AS (
    -- every (event, rule) match of the default model, one scan of leads_event
    SELECT e.lead_id, (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS t, r.rule
    FROM leads_event e
    -- a switch on the type, then one read of the property its rules test (as sql.py compiles it)
    CROSS JOIN LATERAL unnest(CASE e.type
        WHEN 'page_view' THEN (CASE lower(e.properties ->> 'page_category') WHEN 'pricing' THEN ARRAY[1] WHEN 'product' THEN ARRAY[2]
                               WHEN 'careers' THEN ARRAY[10] WHEN 'competitor_comparison' THEN ARRAY[11] ELSE '{}'::int[] END)
        WHEN 'demo_request' THEN ARRAY[3] WHEN 'webinar_attended' THEN ARRAY[4] WHEN 'form_fill' THEN ARRAY[5]
        WHEN 'email_click' THEN (CASE WHEN strpos(lower(e.properties ->> 'link'), 'case-stud') > 0 THEN ARRAY[6, 7] ELSE ARRAY[6] END)
        WHEN 'product_usage' THEN ARRAY[8] WHEN 'intent_surge' THEN ARRAY[9] ELSE '{}'::int[] END) AS r(rule)
),
rp(rule, grp, pts, cap, win) AS (VALUES
    (1, 1, 5.0, 15.0, 7 * 86400000000::bigint), (2, 1, 2.0, 6.0, 7 * 86400000000::bigint),
    (3, 2, 30.0, NULL, 30 * 86400000000::bigint), (4, 2, 10.0, 20.0, 30 * 86400000000::bigint),
    (5, 2, 8.0, 16.0, 30 * 86400000000::bigint), (6, 3, 3.0, 9.0, 7 * 86400000000::bigint),
    (7, 3, 3.0, 6.0, 7 * 86400000000::bigint), (8, 4, 4.0, 12.0, 7 * 86400000000::bigint),
    (9, 4, 10.0, 10.0, 7 * 86400000000::bigint), (10, 5, -5.0, 15.0, 30 * 86400000000::bigint),
    (11, 5, -3.0, 9.0, 30 * 86400000000::bigint)),
gp(grp, gcap) AS (VALUES (1, 20.0), (2, 40.0), (3, 10.0), (4, 20.0), (5, NULL::float8)),
u AS (
    SELECT m.lead_id, m.rule, rp.grp, rp.pts, rp.cap, rp.win, m.t / rp.win AS b, count(*) AS n,
           sum(power(2::float8, ((m.t - (m.t / rp.win) * rp.win)::float8 / 1000000.0) / 2592000.0)) AS s
    FROM m JOIN rp USING (rule) GROUP BY 1, 2, 3, 4, 5, 6, 7
),
uf AS (SELECT u.*, CASE WHEN u.cap IS NULL OR u.n * abs(u.pts) <= u.cap THEN 1 ELSE u.cap / (u.n * abs(u.pts)) END AS fr FROM u),
ug AS (SELECT uf.*, sum(CASE WHEN uf.pts > 0 THEN uf.n * uf.pts * uf.fr ELSE 0 END) OVER (PARTITION BY uf.lead_id, uf.grp, uf.b) AS gpos FROM uf),
eng AS (
    SELECT ug.lead_id, sum(ug.pts * ug.fr * CASE WHEN ug.pts > 0 AND gp.gcap IS NOT NULL AND ug.gpos > gp.gcap THEN gp.gcap / ug.gpos ELSE 1 END
                           * ug.s * power(2::float8, ((ug.b * ug.win - %(at_us)s::bigint)::float8 / 1000000.0) / 2592000.0)) AS e
    FROM ug JOIN gp USING (grp) GROUP BY ug.lead_id
)
SELECT l.id,
       LEAST(50, LEAST(20, CASE WHEN lower(l.seniority) = 'c_level' THEN 20 ELSE 0 END + CASE WHEN lower(l.seniority) = 'vp' THEN 15 ELSE 0 END
                          + CASE WHEN lower(l.seniority) = 'director' THEN 10 ELSE 0 END + CASE WHEN lower(l.seniority) = 'manager' THEN 5 ELSE 0 END)
               + LEAST(15, CASE WHEN lower(l.persona) = 'economic_buyer' THEN 15 ELSE 0 END + CASE WHEN lower(l.persona) = 'champion' THEN 10 ELSE 0 END
                          + CASE WHEN lower(l.persona) = 'technical_evaluator' THEN 8 ELSE 0 END)
               + LEAST(25, CASE WHEN lower(a.segment) IN ('mid_market', 'enterprise') THEN 10 ELSE 0 END
                          + CASE WHEN lower(btrim(a.industry)) IN ('software', 'saas', 'financial services', 'fintech', 'healthcare', 'manufacturing') THEN 8 ELSE 0 END
                          + CASE WHEN a.employee_count BETWEEN 200 AND 5000 THEN 10 ELSE 0 END + CASE WHEN a.employee_count >= 5001 THEN 6 ELSE 0 END))
       + CASE WHEN lower(l.seniority) = 'student' THEN -30 ELSE 0 END
       + CASE WHEN lower(split_part(l.email, '@', 2)) IN ('gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com', 'aol.com', 'icloud.com', 'proton.me', 'gmx.de', 'mail.ru') THEN -10 ELSE 0 END AS fit,
       coalesce(eng.e, 0) AS e
FROM leads_lead l JOIN leads_account a ON a.id = l.account_id LEFT JOIN eng ON eng.lead_id = l.id
"""


# What the reference statement does not read: it checks fit and the uncapped engagement, which the
# engagement and total caps do not enter (migration scoring 0011 published v2, engagement cap 40 → 50).
NOT_IN_REFERENCE = {"number", "engagement_cap", "total_cap"}


def _assert_reference_mirrors(default) -> None:
    """The live default version has version 1's rules, groups and fit cap (what REFERENCE_SQL inlines)."""
    from qualify.scoring.models import ModelVersion

    first = ModelVersion.objects.get(model=default, number=1).spec
    live = default.current_version.spec if default.current_version else {}
    differ = {k for k in first.keys() | live.keys() if first.get(k) != live.get(k)} - NOT_IN_REFERENCE
    assert not differ, f"the reference SQL mirrors default v1; the live version differs in {sorted(differ)}"


def reference(at_us: int) -> float:
    with connection.cursor() as c:
        c.execute("DROP TABLE IF EXISTS ref_scores")
        t0 = time.perf_counter()
        c.execute(REFERENCE_SQL, {"at_us": at_us})
        return time.perf_counter() - t0


# --- (b) a straightforward per-lead ORM loop ---------------------------------------------------------


def orm_loop(sample: int, now: datetime.datetime) -> float:
    """What a first version would do: per lead, load it and its events, compute, save."""
    from qualify.leads.models import Lead
    from qualify.scoring import engine, scores, sql
    from qualify.scoring.ranking import to_us

    spec = scores.live_specs()[0]
    ids = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:sample])
    t0 = time.perf_counter()
    for pk in ids:
        lead = Lead.objects.select_related("account").get(pk=pk)
        events = [engine.Ev(e.id, to_us(e.occurred_at), e.type, e.properties) for e in lead.events.all()]
        s = engine.score(spec, sql.lead_facts(lead), events, to_us(now))
        lead.score_fit, lead.score_engagement, lead.score_engagement_at = s.fit, s.engagement, now
        lead.score = engine.display(s.value())
        lead.save(update_fields=["score_fit", "score_engagement", "score_engagement_at", "score"])
    return time.perf_counter() - t0


def _lane(run_id: int, lane: int, now: datetime.datetime) -> None:
    from django.db import connection as conn

    from qualify.scoring import runs

    with conn.cursor() as c:
        c.execute("SET jit = off")
    runs.run_batches(run_id, lane=lane, seconds=None, now=now, promote=False)
    conn.close()


def _run_lanes(run_id: int, lanes: int, now: datetime.datetime) -> None:
    """One process per lane, as Celery's prefork pool would run them (no stage moves: see above)."""
    import multiprocessing

    from django.db import connections

    if lanes == 1:
        from qualify.scoring import runs

        runs.run_batches(run_id, seconds=None, now=now, promote=False)
        return
    connections.close_all()  # children must not share the parent's connection
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_lane, args=(run_id, lane, now)) for lane in range(lanes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode:
            raise RuntimeError(f"lane process exited with {p.exitcode}")


# --- run ---------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    from qualify.scoring import runs
    from qualify.scoring.models import ScoringModel
    from qualify.scoring.ranking import to_us

    common.use_own_database(DB_NAME)
    ds = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    n_events = ensure_events(args, ds, exact=True)
    default = ensure_default_model()
    _assert_reference_mirrors(default)
    # Only the default model is live, as in the reference statement.
    ScoringModel.objects.exclude(pk=default.pk).update(active=False)

    result = common.new_result(NAME, DESCRIPTION, {
        "leads": args.leads, "events": n_events, "batch": args.batch, "orm_sample": args.orm_sample,
        "data_set": f"{ds.leads:,} leads ({'reused' if ds.reused else 'loaded'})",
    })
    now = datetime.datetime.now(datetime.timezone.utc)
    at_us = to_us(now)
    with connection.cursor() as c:
        c.execute("SET jit = off")  # JIT compile time varies by seconds between identical runs
        c.execute("VACUUM ANALYZE leads_lead")

    ref_s = reference(at_us)
    print(f"(a) reference statement: {ref_s:.1f} s")

    timings = {}
    for lanes in (1, 2):
        run = runs.start_recompute(default.current_version, batch_size=args.batch, lanes=lanes)
        t0 = time.perf_counter()
        _run_lanes(run.pk, lanes, now)
        timings[lanes] = time.perf_counter() - t0
        run.refresh_from_db()
        assert run.state == "done", run.state
        print(f"full recompute, {lanes} lane(s): {timings[lanes]:.1f} s")
    ours = min(timings.values())

    with connection.cursor() as c:
        c.execute(
            """SELECT count(*), count(*) FILTER (WHERE abs(l.score_fit - r.fit) > 1e-6
                                                OR abs(l.score_engagement - r.e) > 1e-6 * greatest(1, abs(r.e)))
               FROM leads_lead l JOIN ref_scores r ON r.id = l.id"""
        )
        compared, mismatched = c.fetchone()

    orm_s = orm_loop(args.orm_sample, now)
    orm_total = orm_s * args.leads / args.orm_sample
    print(f"(b) ORM loop: {orm_s:.1f} s for {args.orm_sample:,} leads → {orm_total:,.0f} s extrapolated")

    per_lead = lambda s: round(s / args.leads * 1e6, 2)  # noqa: E731
    for name, seconds, baseline in (
        ("(a) one hand-written SQL statement, all leads", ref_s, None),
        ("full recompute, 1 lane (one worker)", timings[1], "(a) one hand-written SQL statement, all leads"),
        ("full recompute, 2 lanes (two worker processes)", timings[2], "(a) one hand-written SQL statement, all leads"),
        (f"(b) per-lead ORM loop, {args.orm_sample:,} leads ×{args.leads // args.orm_sample}", orm_total, None),
    ):
        result["cases"].append(common.Case(
            name=name, median_ms=round(seconds * 1000, 1), p95_ms=round(seconds * 1000, 1), min_ms=round(seconds * 1000, 1),
            max_ms=round(seconds * 1000, 1), reps=1, queries=0, baseline=baseline,
        ).as_dict())
    result["params"]["recompute_s_by_lanes"] = {k: round(v, 1) for k, v in timings.items()}
    result["params"]["us_per_lead"] = {"reference": per_lead(ref_s), "ours": per_lead(ours), "orm": per_lead(orm_total)}
    common.check(result, "within 2x of the hand-written statement", ours <= 2 * ref_s, f"{ours / ref_s:.2f}x")
    common.check(result, "at least 50x faster than the ORM loop", orm_total / ours >= 50, f"{orm_total / ours:.0f}x")
    common.check(result, "every lead equals the reference", compared == args.leads and mismatched == 0,
                 f"{compared:,} compared, {mismatched:,} differ")
    return result
