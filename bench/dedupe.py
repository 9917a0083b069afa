"""Duplicates: the bulk finder over the whole data set, and detection's cost per created lead, in
the benchmark's own database (qualify_bench_dedupe, the shared data set of bench/dataset.py).

The data set's e-mails are unique, but names come from short lists, so namesakes at one company
domain occur naturally (the name rules find them). On top, DUPLICATES leads are copied from random
existing ones (same team and account, the e-mail in upper case, a phone shared with the original),
so the e-mail and phone rules have work too. They are removed and re-added on every run.

Cases:
- finder, with pg_trgm (where installed) and with the fallback rules (equal keys only), over every
  team, each run starting from an empty candidate table (timed in full, one repetition per --finder-reps);
- detection of one new lead (what a page or API create costs after commit): `detect(lead, [id])`
  for new leads that match and that match nothing;
- detection of a batch of 1,000 new leads (a CSV import), per lead.
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

from django.db import connection

from . import common, dataset

NAME = "dedupe"
DESCRIPTION = "Duplicates: bulk finder over N leads (pg_trgm and fallback) and detection cost per created lead"
DB_NAME = "qualify_bench_dedupe"
DUPLICATES = 10_000
MARK = "bench-dup"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--finder-reps", type=int, default=2, help="dedupe: timed runs of the finder per mode")


def add_duplicates(n: int, seed: int) -> list[int]:
    """Copy `n` random leads as duplicates (campaign = MARK); returns the copies' ids. The originals
    get a phone so the phone rule fires on the pair."""
    with connection.cursor() as c:
        c.execute("DELETE FROM dedupe_duplicatecandidate")
        c.execute("DELETE FROM leads_lead WHERE campaign = %s", [MARK])
        c.execute("SELECT min(id), max(id) FROM leads_lead")
        lo, hi = c.fetchone()
        rnd = random.Random(seed)
        ids = sorted(set(rnd.randint(lo, hi) for _ in range(n)))
        c.execute("UPDATE leads_lead SET phone = '+1 555 ' || lpad(id::text, 7, '0') WHERE id = ANY(%s)", [ids])
        c.execute(f"""
            INSERT INTO leads_lead ({COLUMNS})
            SELECT {COPY}
              FROM leads_lead WHERE id = ANY(%s)
            RETURNING id""", [ids])
        copies = [row[0] for row in c.fetchall()]
        c.execute("ANALYZE leads_lead")
    return copies


# Every column but id; the copy differs in e-mail case, phone format, campaign and created_at.
COLUMNS = ""
COPY = ""


def _columns() -> None:
    global COLUMNS, COPY
    from qualify.leads.models import Lead

    names = [f.column for f in Lead._meta.concrete_fields if f.column != "id"]
    changed = {"email": "upper(email)", "phone": "'(555) ' || lpad(id::text, 7, '0')", "campaign": f"'{MARK}'",
               "external_id": "''", "created_at": "now()", "updated_at": "now()", "owner_id": "NULL",
               "stage": "'new'", "score": "0", "score_watermark": "0"}
    COLUMNS = ", ".join(names)
    COPY = ", ".join(changed.get(n, n) for n in names)


def unique_leads(n: int) -> list[int]:
    """`n` new leads that match nothing (fresh names, domain and no phone)."""
    with connection.cursor() as c:
        c.execute(f"""
            INSERT INTO leads_lead ({COLUMNS})
            SELECT {COPY.replace("upper(email)", "'uniq' || id || '@nowhere' || id || '.example'")
                        .replace("'(555) ' || lpad(id::text, 7, '0')", "''")}
              FROM leads_lead WHERE campaign <> %s ORDER BY id LIMIT %s
            RETURNING id""", [MARK, n])
        ids = [row[0] for row in c.fetchall()]
        c.execute("UPDATE leads_lead SET first_name = 'Zq' || id, last_name = 'Xv' || id, campaign = %s WHERE id = ANY(%s)",
                  [MARK, ids])
    return ids


def timed_case(name: str, samples_ms: list[float], queries: int) -> dict[str, Any]:
    """A case timed here as a whole (not by common.measure): one statement per rule, all in the database."""
    return {"name": name, "median_ms": round(common.median(samples_ms), 1), "p95_ms": round(max(samples_ms), 1),
            "min_ms": round(min(samples_ms), 1), "max_ms": round(max(samples_ms), 1), "reps": len(samples_ms),
            "queries": queries, "sql_ms": round(common.median(samples_ms), 1), "baseline": None, "target_ms": None, "sql": []}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from qualify.dedupe import rules
    from qualify.dedupe.detect import detect
    from qualify.dedupe.finder import find_duplicates
    from qualify.dedupe.models import DuplicateCandidate, Kind

    common.use_own_database(DB_NAME)
    rules.has_trigram.cache_clear()
    data = dataset.ensure(args.leads, seed=args.seed, reload=args.reload)
    _columns()
    from accounts.models import Team

    teams = list(Team.objects.values_list("pk", flat=True))
    copies = add_duplicates(DUPLICATES, args.seed)
    trigram = rules.has_trigram()
    result = common.new_result(NAME, DESCRIPTION, {
        "leads": data.leads + len(copies), "accounts": data.accounts, "injected_duplicates": len(copies),
        "pg_trgm": trigram, "finder_reps": args.finder_reps,
    })

    # --- the bulk finder -------------------------------------------------------------------------
    found: dict[str, dict[str, int]] = {}
    modes = [("with pg_trgm", True), ("fallback (no pg_trgm)", False)] if trigram else [("fallback (no pg_trgm)", False)]
    for label, use_trigram in modes:
        rules.has_trigram.cache_clear()
        original = rules.has_trigram
        rules.has_trigram = lambda use_trigram=use_trigram: use_trigram  # type: ignore[assignment]
        try:
            def clean_and_find():
                DuplicateCandidate.objects.all().delete()
                t0 = time.perf_counter()
                written = find_duplicates(teams, kinds=(Kind.LEAD,))
                return written, time.perf_counter() - t0

            samples, written = [], {}
            for _ in range(args.finder_reps):
                written, seconds = clean_and_find()
                samples.append(seconds * 1000)
        finally:
            rules.has_trigram = original  # type: ignore[assignment]
        found[label] = written
        result["cases"].append(timed_case(f"finder over {data.leads + len(copies):,} leads, {label}", samples, len(written)))
    hits = DuplicateCandidate.objects.filter(kind=Kind.LEAD, high_id__in=copies).values("high_id").distinct().count()
    common.check(result, "every injected duplicate is flagged by the finder", hits == len(copies),
                 f"{hits:,} of {len(copies):,} copies in a pair")
    result["sections"].append({"title": "pairs per rule (last run of each mode)", "lines": [
        f"{label}: " + ", ".join(f"{rule} {n:,}" for rule, n in written.items()) for label, written in found.items()
    ]})

    # --- detection on create ---------------------------------------------------------------------
    rules.has_trigram.cache_clear()
    DuplicateCandidate.objects.all().delete()
    rnd = random.Random(args.seed)
    sample = rnd.sample(copies, min(len(copies), args.reps + args.warmup))
    it = iter(sample)
    single = common.measure("detect one new lead that has a duplicate", lambda: detect(Kind.LEAD, [next(it)]),
                            reps=args.reps, warmup=args.warmup)
    result["cases"].append(single.as_dict())
    fresh = unique_leads(args.reps + args.warmup)
    it2 = iter(fresh)
    alone = common.measure("detect one new lead that matches nothing", lambda: detect(Kind.LEAD, [next(it2)]),
                           reps=args.reps, warmup=args.warmup)
    result["cases"].append(alone.as_dict())
    batch = rnd.sample(copies, 1000)
    DuplicateCandidate.objects.all().delete()
    t0 = time.perf_counter()
    flagged = detect(Kind.LEAD, batch)
    batch_ms = (time.perf_counter() - t0) * 1000
    result["cases"].append(timed_case("detect a batch of 1,000 new leads (an import), whole batch", [batch_ms], 2))
    common.check(result, "a batch is flagged in one SELECT and one INSERT", flagged >= 1000, f"{flagged:,} pairs written")
    statement = next(s for s in single.sql if "leads_lead" in s and s.lstrip().upper().startswith("WITH"))
    explained = common.explain(statement)
    result["sections"].append({
        "title": f"detection, one lead: {batch_ms / 1000:.2f} ms per lead in a batch of 1,000; "
                 f"EXPLAIN of one lead's SELECT ({explained['execution_ms']} ms)",
        "lines": explained["plan"][:40],
    })
    # Leave the data set as loaded, so the next run (and other benchmarks' marker check) reuses it.
    with connection.cursor() as c:
        c.execute("DELETE FROM dedupe_duplicatecandidate")
        c.execute("DELETE FROM leads_lead WHERE campaign = %s", [MARK])
        c.execute("UPDATE leads_lead SET phone = '' WHERE phone LIKE '+1 555 %%'")
    return result
