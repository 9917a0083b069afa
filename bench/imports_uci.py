"""The full UCI bank marketing file (41,188 rows, no names, no dates) through the CSV importer
with the mapping the Import page proposes (every column a custom property, `duration` known only
after contact, `y`: yes → Won, no → Lost, a default close date), in the benchmark's own database
(qualify_bench_imports: it truncates leads there on every run).

Reports rows, refused rows, the time of the dry run and of the real import, and the process's
peak memory. Skipped with a message when ../shared/datasets is absent.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path
from typing import Any

from django.db import connection

from . import common

NAME = "imports_uci"
DESCRIPTION = "CSV import of the full UCI bank marketing file: mapping to custom properties and value maps to stages"
DB_NAME = "qualify_bench_imports"
FILE = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "uci_bank_marketing" / "bank-additional-full.csv"


def mapping_for(header: list[str], rows: list[list[str]]) -> tuple[dict, dict, dict, dict]:
    """What accepting the Import page's proposals gives (qualify/imports/views.py does the same)."""
    from qualify.imports.mapping import profile

    mapping, new = {}, {}
    for p in profile(header, rows):
        if p["column"] == "y":
            mapping["y"] = "stage"
            continue
        mapping[p["column"]] = f"prop:{p['key']}"
        new[p["key"]] = {"label": p["column"], "kind": p["kind"], "choices": p["choices"] if p["kind"] == "choice" else [],
                         "known_after_contact": p["column"] == "duration"}
    for key, spec in new.items():  # choices from every row, not only the profiled sample
        if spec["kind"] == "choice":
            column = next(c for c in header if mapping[c] == f"prop:{key}")
            i = header.index(column)
            spec["choices"] = sorted({r[i].strip() for r in rows if i < len(r) and r[i].strip()}, key=str.casefold)
    return mapping, new, {"stage": {"yes": "won", "no": "lost"}}, {"close_date": "2010-11-30"}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth.hashers import make_password

    from accounts.models import Membership, Role, Team, User
    from qualify.imports.jobs import create_job, run_job
    from qualify.imports.models import ImportJob, ImportStatus
    from qualify.imports.parsing import read_csv
    from qualify.leads.models import Property

    url = common.with_db_name(common.database_url(), DB_NAME)
    if connection.settings_dict["NAME"] != DB_NAME:
        connection.close()
        connection.settings_dict["NAME"] = DB_NAME
    common.prepare_database(url)
    result = common.new_result(NAME, DESCRIPTION, {"file": str(FILE)})
    if not FILE.exists():
        common.check(result, "data present", False, f"no file at {FILE}")
        return result
    with connection.cursor() as c:
        c.execute("TRUNCATE leads_lead, leads_account RESTART IDENTITY CASCADE")
    Property.objects.all().delete()
    ImportJob.objects.all().delete()
    team, _ = Team.objects.get_or_create(name="UCI bench")
    user, _ = User.objects.get_or_create(username="uci-bench", defaults={"password": make_password(None)})
    Membership.objects.get_or_create(user=user, team=team, role=Role.MANAGER)

    content = FILE.read_bytes()
    csv_file = read_csv(content)
    mapping, new, maps, defaults = mapping_for(csv_file.header, [r.cells for r in csv_file.rows])
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timings = {}
    for label, dry in (("dry run", True), ("import", False)):
        job = create_job(kind="leads", team=team, by=user, content=content, filename=FILE.name, mapping=mapping,
                         defaults=defaults, new_properties=new, value_maps=maps)
        ImportJob.objects.filter(pk=job.pk).update(dry_run=dry, status=ImportStatus.PENDING)
        t0 = time.perf_counter()
        job = run_job(job.pk)
        timings[label] = time.perf_counter() - t0
        result["cases"].append({
            "name": f"{label}: {job.total_rows:,} rows", "median_ms": round(timings[label] * 1000), "p95_ms": round(timings[label] * 1000),
            "min_ms": round(timings[label] * 1000), "max_ms": round(timings[label] * 1000), "reps": 1, "queries": 0,
            "sql_ms": 0, "baseline": None, "target_ms": None, "sql": [],
        })
        common.check(result, f"{label}: zero refused rows", job.status == ImportStatus.DONE and job.bad_rows == 0,
                     f"{job.good_rows:,} good, {job.bad_rows:,} bad: {job.message}")
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    result["params"].update({"rows": job.total_rows, "properties": len(new), "rows_per_s": round(job.total_rows / timings["import"]),
                             "peak_rss_growth_mb": round(peak_mb)})
    return result
