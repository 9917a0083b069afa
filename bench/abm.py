"""Account-level qualification: what the batch after scoring costs the scoring hot path, the account
page's live summary, and the decay sweep, in the benchmark's own database (qualify_bench_abm, the
shared data set of bench/dataset.py: 20 leads per account on average).

Setup (idempotent): the default model gets the demo's buying committee and account rules, and every
lead gets scoring state (a version, fit, engagement of 0-40 points as of 0-30 days ago), so
`scoring_engagement()` has real work.

Cases:
- a scoring chunk of 250 leads with 2 new events each (`score_leads`, what the Celery task runs per
  chunk after an ingestion), with the abm listener (which marks the chunk's accounts pending)
  switched off and on, interleaved rep by rep so load drift hits both alike: what account figures
  cost the scoring hot path;
- `refresh_accounts` for the accounts of such a chunk: what the beat drain spends per chunk's worth
  of accounts, off the hot path;
- `summary_for` of the largest account (the account page, the API and the lead page's panel);
- the decay sweep over every account with engagement (`refresh_engaged`), timed once.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from django.db import connection

from . import common, dataset

NAME = "abm"
DESCRIPTION = "Accounts: cost of account figures per scoring chunk, account summary, decay sweep"
DB_NAME = "qualify_bench_abm"
CHUNK = 250


def _setup(seed: int) -> int:
    """Committee and rules on the default model; scoring state on every lead. Returns the version id."""
    from bench.scoring_recompute import ensure_default_model
    from qualify.abm.models import AccountRule, AccountScoring, CommitteeRole
    from qualify.demo.committees import ENGAGED_POINTS, MQA_THRESHOLD, ROLES, RULES

    model = ensure_default_model()
    scoring, created = AccountScoring.objects.get_or_create(
        model=model, defaults={"engaged_points": ENGAGED_POINTS, "mqa_threshold": MQA_THRESHOLD})
    if created:
        CommitteeRole.objects.bulk_create([CommitteeRole(scoring=scoring, position=i, name=n, personas=p, departments=d,
                                                         title_keywords=k) for i, (n, p, d, k) in enumerate(ROLES, 1)])
        AccountRule.objects.bulk_create([AccountRule(scoring=scoring, measure=m, at_least=v, points=p) for m, v, p in RULES])
    version = model.current_version_id
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM leads_lead WHERE score_version_id IS DISTINCT FROM %s", [version])
        if c.fetchone()[0]:
            c.execute("SELECT setseed(%s)", [seed / 1000])
            c.execute("""UPDATE leads_lead SET score_version_id = %s, score_fit = floor(random() * 50),
                                score_engagement = random() * 40, score_engagement_at = now() - random() * interval '30 days',
                                score_half_life_days = 30, score_engagement_cap = 40, score_cap = 100""", [version])
            c.execute("ANALYZE leads_lead")
    return version


def _add_events(ids: list[int], tag: str) -> None:
    with connection.cursor() as c:
        c.execute("""INSERT INTO leads_event (lead_id, team_id, type, properties, occurred_at, received_at, client_id)
                     SELECT l.id, l.team_id, 'demo_request', '{}'::jsonb, now() - interval '1 minute', now(),
                            %s || '-' || l.id || '-' || g
                       FROM leads_lead l, generate_series(1, 2) g WHERE l.id = ANY(%s)""", [tag, ids])


def run(args: argparse.Namespace) -> dict[str, Any]:
    from qualify.abm import listeners as abm_listeners
    from qualify.abm.measures import summary_for
    from qualify.abm.refresh import accounts_of, refresh_accounts, refresh_engaged
    from qualify.leads import changes
    from qualify.scoring.scores import score_leads

    common.use_own_database(DB_NAME)
    data = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    _setup(args.seed)
    result = common.new_result(NAME, DESCRIPTION, {"leads": data.leads, "accounts": data.accounts, "chunk": CHUNK,
                                                   "reps": args.reps})
    with connection.cursor() as c:
        c.execute("SELECT min(id), max(id) FROM leads_lead")
        lo, hi = c.fetchone()
    rnd = random.Random(args.seed)
    slot = changes._listeners[("scores_changed", changes.AFTER_COMMIT)]
    samples: dict[str, list[float]] = {"off": [], "on": [], "refresh": []}
    accounts_per_chunk = []
    for rep in range(args.warmup + args.reps):
        for mode in ("off", "on"):
            ids = sorted({rnd.randint(lo, hi) for _ in range(CHUNK)})
            _add_events(ids, f"abm-{time.time_ns()}-{mode}")
            if mode == "off":
                slot.remove(abm_listeners.scores_changed)
            try:
                t0 = time.perf_counter()
                score_leads(ids, promote=False)
                ms = (time.perf_counter() - t0) * 1000
            finally:
                if abm_listeners.scores_changed not in slot:
                    slot.append(abm_listeners.scores_changed)
            if rep >= args.warmup:
                samples[mode].append(ms)
        accounts = accounts_of(ids)
        with connection.cursor() as c:
            c.execute("DELETE FROM abm_pendingaccount")
        t0 = time.perf_counter()
        refresh_accounts(accounts)
        if rep >= args.warmup:
            samples["refresh"].append((time.perf_counter() - t0) * 1000)
            accounts_per_chunk.append(len(accounts))

    def case(name: str, key: str, baseline: str | None = None) -> dict[str, Any]:
        s = samples[key]
        return common.Case(name=name, median_ms=round(common.median(s), 3), p95_ms=round(common.percentile(s, 95), 3),
                           min_ms=round(min(s), 3), max_ms=round(max(s), 3), reps=len(s), queries=0,
                           baseline=baseline).as_dict()

    result["cases"].append(case("score_leads 250 leads, abm listener off", "off"))
    result["cases"].append(case("score_leads 250 leads, abm listener on", "on", baseline="score_leads 250 leads, abm listener off"))
    result["cases"].append(case(f"refresh_accounts alone ({common.median(accounts_per_chunk):.0f} accounts)", "refresh"))
    on, off = common.median(samples["on"]), common.median(samples["off"])
    common.check(result, "marking accounts adds under 10% to a scoring chunk (median)", on <= 1.1 * off,
                 f"{on:.1f} ms vs {off:.1f} ms ({(on - off) / CHUNK:.3f} ms per lead)")

    with connection.cursor() as c:
        c.execute("SELECT account_id, count(*) FROM leads_lead GROUP BY 1 ORDER BY 2 DESC LIMIT 1")
        biggest, people = c.fetchone()
    page = common.measure(f"summary_for largest account ({people} people)", lambda: summary_for(biggest),
                          reps=args.reps, warmup=args.warmup)
    result["cases"].append(page.as_dict())

    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM leads_account")
        total_accounts = c.fetchone()[0]
        c.execute("SELECT id FROM leads_account")
        all_ids = [r[0] for r in c.fetchall()]
    t0 = time.perf_counter()
    refresh_accounts(all_ids)  # every account stored once, so the sweep below has its population
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    swept = refresh_engaged()
    sweep = time.perf_counter() - t0
    result["sections"].append({"title": "Whole-table passes", "lines": [
        f"first refresh of all {total_accounts:,} accounts: {first:.1f} s ({total_accounts / first:,.0f} accounts/s)",
        f"decay sweep (refresh_engaged) over {swept:,} accounts with engagement: {sweep:.1f} s ({swept / sweep:,.0f} accounts/s)",
    ]})
    return result
