"""Predicted conversion at scale, in its own database (qualify_bench_predictions): the
1,000,000-lead data set with ~10,000,000 events (the scoring benchmark's loaders), of which
100,000 leads (every tenth id) are closed Won or Lost by a known rule of seniority, segment and
engagement plus noise. Timed in one run, in this order:

1. the full rule recompute (runs.run_batches, one lane, promotion off), while no prediction
   version is active, so the `scored` listener costs one lookup per batch;
2. training on the 100,000 closed leads (training.train: features, leak guard, both learners,
   calibration, held-out evaluation);
3. scoring all 1,000,000 leads with the trained version (scoring.predict_all, 5,000-lead batches:
   one feature statement, one prediction, one UPDATE each).

Target: 3 within 2x of 1. Each of 2 and 3 runs in a forked child so its peak memory (max RSS) is
its own. With `--uci` the whole UCI bank marketing file is also imported (bench/uci.py) into a
fresh team and trained: held-out AUC >= 0.79 and ECE <= 0.05.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import resource
import time
from typing import Any

from django.db import connection

from . import common, dataset

NAME = "predictions"
DESCRIPTION = "Train on 100,000 closed leads, score 1,000,000, against the full rule recompute in the same run"
DB_NAME = "qualify_bench_predictions"
CLOSED_EVERY = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--uci", action="store_true", help="predictions: also import and train the whole UCI file")
    parser.add_argument("--skip-recompute", action="store_true", help="predictions: skip the rule recompute")


def _close_outcomes() -> tuple[int, int]:
    """Every tenth lead becomes an outcome closed yesterday; won by a logistic rule."""
    with connection.cursor() as c:
        c.execute("SET session_replication_role = replica")  # no history triggers for a bench rewrite
        c.execute(f"""
            WITH ev AS (
                SELECT l.id, count(e.id) FILTER (WHERE e.type IN ('demo_request', 'form_fill', 'webinar_attended')) AS hot,
                       count(e.id) AS n
                FROM leads_lead l LEFT JOIN leads_event e ON e.lead_id = l.id
                WHERE l.id % {CLOSED_EVERY} = 0 GROUP BY l.id
            ), p AS (
                SELECT ev.id, 1 / (1 + exp(-(-2.2 + 0.6 * least(ev.hot, 4) + 0.05 * least(ev.n, 20)
                    + CASE l.seniority WHEN 'c_level' THEN 1.0 WHEN 'vp' THEN 0.7 WHEN 'director' THEN 0.3 ELSE -0.3 END
                    + CASE a.segment WHEN 'enterprise' THEN 0.4 WHEN 'smb' THEN -0.3 ELSE 0 END))) AS p
                FROM ev JOIN leads_lead l ON l.id = ev.id JOIN leads_account a ON a.id = l.account_id
            )
            UPDATE leads_lead l SET stage = CASE WHEN random() < p.p THEN 'won' ELSE 'lost' END,
                   stage_changed_at = now() - interval '1 day'
            FROM p WHERE p.id = l.id""")
        c.execute("SET session_replication_role = DEFAULT")
        c.execute("SELECT count(*), count(*) FILTER (WHERE stage = 'won') FROM leads_lead WHERE stage IN ('won', 'lost')"
                  f" AND id % {CLOSED_EVERY} = 0")
        return c.fetchone()


def _in_child(fn, *args) -> dict[str, Any]:
    """Run fn(*args) in a forked process; its result with seconds and peak RSS (MB)."""
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def target():
        connections.close_all()
        t0 = time.perf_counter()
        out = fn(*args)
        queue.put({"seconds": time.perf_counter() - t0, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   **(out or {})})
        connections.close_all()

    p = ctx.Process(target=target)
    p.start()
    result = queue.get()
    p.join()
    return result


def _train() -> dict[str, Any]:
    from qualify.predictions import training
    from qualify.predictions.models import PredictionVersion, Status

    PredictionVersion.objects.all().delete()
    bundle, report, _ = training.train(365)
    v = PredictionVersion.objects.create(number=1, status=Status.SCORING, report=report, artifact=bundle.dumps())
    o = report["overall"]
    return {"version_id": v.pk, "auc": o["auc"], "ece": o["ece"], "estimator": report["global"]["estimator"],
            "outcomes": report["outcomes"], "leaks": [x["feature"] for x in report["leaks"]]}


def _score(version_id: int) -> dict[str, Any]:
    from qualify.predictions import scoring

    return {"written": scoring.predict_all(version_id)}


def _recompute() -> dict[str, Any]:
    from qualify.scoring import runs

    from .scoring_recompute import ensure_default_model

    default = ensure_default_model()
    run = runs.start_recompute(default.current_version, batch_size=10_000, lanes=1)
    with connection.cursor() as c:
        c.execute("SET jit = off")
    runs.run_batches(run.pk, seconds=None, now=datetime.datetime.now(datetime.timezone.utc), promote=False)
    return {}


def _uci() -> dict[str, Any]:
    from accounts.models import Team
    from qualify.leads.models import Lead, Property
    from qualify.predictions import training

    from . import uci

    Lead.objects.filter(team__name="UCI").delete()
    Property.objects.all().delete()
    team, _ = Team.objects.get_or_create(name="UCI")
    n = uci.load(team)
    # Train on the UCI outcomes alone: every synthetic outcome (won, lost and the data set's
    # disqualified leads) is moved out of the window. Leaving the disqualified in once gave a
    # held-out "AUC" of 0.911 that measured telling the two data sets apart, not UCI.
    with connection.cursor() as c:
        c.execute("SET session_replication_role = replica")
        c.execute("UPDATE leads_lead SET stage_changed_at = now() - interval '3 years' WHERE team_id <> %s "
                  "AND stage IN ('won', 'lost', 'disqualified')", [team.pk])
        c.execute("SET session_replication_role = DEFAULT")
    _, report, _ = training.train(365)
    o = report["overall"]
    return {"rows": n, "auc": o["auc"], "ece": o["ece"], "brier": o["brier"], "held_out": o["n"],
            "estimator": report["global"]["estimator"], "candidates": report["global"]["candidates"],
            "capture_20": next(c["share"] for c in o["capture"] if c["top_pct"] == 20)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from .scoring_recompute import ensure_default_model, ensure_events

    common.use_own_database(DB_NAME)
    args.reload_events = getattr(args, "reload_events", False)
    ds = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    n_events = ensure_events(args, ds)
    ensure_default_model()
    closed, won = _close_outcomes()
    with connection.cursor() as c:
        c.execute("VACUUM ANALYZE leads_lead")
    print(f"{closed:,} closed outcomes ({won:,} won), {n_events:,} events")
    result = common.new_result(NAME, DESCRIPTION, {"leads": args.leads, "events": n_events, "closed": closed, "won": won})

    cases = []
    if not args.skip_recompute:
        rec = _in_child(_recompute)
        print(f"rule recompute, 1 lane: {rec['seconds']:.1f} s, peak {rec['peak_mb']:.0f} MB")
        cases.append(("full rule recompute, 1 lane", rec, None))
    tr = _in_child(_train)
    print(f"training on {tr['outcomes']:,} outcomes: {tr['seconds']:.1f} s, peak {tr['peak_mb']:.0f} MB, "
          f"AUC {tr['auc']:.3f}, ECE {tr['ece']:.3f}, {tr['estimator']}")
    sc = _in_child(_score, tr["version_id"])
    print(f"scoring {args.leads:,} leads: {sc['seconds']:.1f} s, peak {sc['peak_mb']:.0f} MB")
    cases += [("training, 100,000 closed leads", tr, None),
              (f"scoring {args.leads:,} leads", sc, "full rule recompute, 1 lane" if not args.skip_recompute else None)]
    for name, r, baseline in cases:
        ms = round(r["seconds"] * 1000, 1)
        result["cases"].append(common.Case(name=name, median_ms=ms, p95_ms=ms, min_ms=ms, max_ms=ms, reps=1, queries=0,
                                           baseline=baseline).as_dict())
    result["params"]["peak_mb"] = {name: round(r["peak_mb"]) for name, r, _ in cases}
    result["params"]["training"] = {k: tr[k] for k in ("auc", "ece", "estimator", "outcomes", "leaks")}
    if not args.skip_recompute:
        ratio = sc["seconds"] / rec["seconds"]
        common.check(result, "scoring 1M within 2x of the rule recompute", ratio <= 2, f"{ratio:.2f}x")
    if args.uci:
        u = _in_child(_uci)
        print(f"UCI: {u['rows']:,} rows, held-out AUC {u['auc']:.3f}, ECE {u['ece']:.3f}, {u['seconds']:.0f} s")
        result["params"]["uci"] = u
        common.check(result, "UCI held-out AUC >= 0.79", u["auc"] >= 0.79, f"{u['auc']:.3f}")
        common.check(result, "UCI ECE <= 0.05", u["ece"] <= 0.05, f"{u['ece']:.3f}")
    return result
