"""What every benchmark shares: its database, timing, statistics, EXPLAIN summaries, printing, JSON.

Benchmarks run in-process against a dedicated database (never the dev or test one), with DEBUG off
so nothing is logged per query and templates render as in production. A case is timed by wall
clock (time.perf_counter_ns) around one call, N times after a few warm-ups; its SQL is captured on
the last warm-up, so counting queries never slows the timed runs.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/qualify_bench"
DEFAULT_DB_NAME = "qualify_bench"


# --- database -------------------------------------------------------------------------------------


def with_db_name(url: str, name: str) -> str:
    """`url` pointing at database `name`; host, port, user and ?host=/socket options stay as they are."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def database_url() -> str:
    """BENCH_DATABASE_URL; else DATABASE_URL with the name replaced by qualify_bench; else localhost."""
    if url := os.environ.get("BENCH_DATABASE_URL"):
        return url
    if url := os.environ.get("DATABASE_URL"):
        return with_db_name(url, DEFAULT_DB_NAME)
    return DEFAULT_URL


def configure_django(url: str) -> None:
    """Point Django at `url` and set it up as production would run it (DEBUG off, one long-lived
    connection), before any model is imported."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")
    # DEBUG on would append every query to connection.queries and render debug-only template bits.
    os.environ["DEBUG"] = "false"
    # Production settings refuse the development key and redirect to HTTPS; the bench is neither.
    os.environ.setdefault("SECRET_KEY", "bench-only-" + "b" * 40)
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    # Keep one connection for the whole run: a reconnect mid-case would show up as a p95 outlier.
    os.environ["CONN_MAX_AGE"] = "86400"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.conf import settings

    django.setup()
    # The manifest storage that DEBUG=false selects needs collectstatic; URLs are not what we measure.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _admin_connect(url: str):
    import psycopg

    return psycopg.connect(with_db_name(url, "postgres"), autocommit=True)


def create_database(url: str) -> bool:
    """Create the database of `url` if it is missing; True when it was created."""
    from psycopg import sql

    name = db_name(url)
    with _admin_connect(url) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def drop_database(url: str) -> None:
    from psycopg import sql

    with _admin_connect(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db_name(url))))


def prepare_database(url: str, out: Callable[[str], None] = print) -> None:
    """Create the bench database when missing and bring its schema up to date (quietly)."""
    from django.core.management import call_command

    if create_database(url):
        out(f"created database {db_name(url)}")
    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    out(f"migrated {db_name(url)} in {time.perf_counter() - t0:.1f} s")


def use_own_database(name: str) -> str:
    """Point the default connection at database `name` (created and migrated when needed), for a
    benchmark whose data would disturb the others'. Returns its URL."""
    from django.db import connection

    url = with_db_name(database_url(), name)
    if connection.settings_dict["NAME"] != name:
        connection.close()
        connection.settings_dict["NAME"] = name
    prepare_database(url)
    return url


def broker_url() -> str:
    """The configured broker (CELERY_BROKER_URL), which must be Redis for a real worker."""
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        raise SystemExit("Set CELERY_BROKER_URL to a Redis URL, e.g. redis://127.0.0.1:6379/0")
    return url


def broker_key_prefix(tag: str) -> str:
    """A key prefix no one else uses: a run sharing a Redis (another engineer's, production's)
    writes and deletes only keys that start with it (CELERY_BROKER_KEY_PREFIX in settings)."""
    return f"qualify-{tag}-{os.getpid()}-{time.time_ns()}:"


def delete_broker_keys(url: str, prefix: str) -> int:
    """Delete the keys under `prefix` (and only those). Returns how many."""
    import redis

    client = redis.Redis.from_url(url)
    keys = list(client.scan_iter(match=prefix.replace("*", r"\*") + "*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])
    return len(keys)


def machine() -> dict[str, Any]:
    from django.db import connection

    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with connection.cursor() as c:
        c.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers'), "
            "current_setting('max_wal_size'), current_setting('checkpoint_timeout'), current_setting('wal_compression'), "
            "current_setting('autovacuum')"
        )
        pg_version, shared_buffers, max_wal_size, checkpoint_timeout, wal_compression, autovacuum = c.fetchone()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "postgres": pg_version,
        "shared_buffers": shared_buffers,
        # Write-heavy figures depend on these: checkpoints start every page's next change with a
        # full-page image in the WAL, and a small max_wal_size makes them frequent.
        "max_wal_size": max_wal_size,
        "checkpoint_timeout": checkpoint_timeout,
        "wal_compression": wal_compression,
        # Off on this machine's CI server: benchmarks that rewrite rows vacuum before they measure.
        "autovacuum": autovacuum,
        # Other processes on the machine skew every figure; the 1-minute load average says how much.
        "load_before": round(os.getloadavg()[0], 2),
        "python_speed_before": python_speed(),
    }


def python_speed() -> float:
    """Milliseconds for `sum(range(10**6))`, best of 5 (what `python3 -m timeit` prints): how fast
    this machine runs Python right now. Machines of the same kind differ by 2x here from day to
    day, and a page's server time is mostly Python, so a figure is read with this beside it.
    Costs about half a second."""
    import timeit

    return round(min(timeit.repeat("sum(range(10**6))", number=10, repeat=5)) / 10 * 1000, 1)


# --- statistics and timing -----------------------------------------------------------------------


def percentile(samples: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), so p95 of 50 samples sits
    between the 47th and 48th smallest rather than jumping to the maximum."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    k = (len(ordered) - 1) * pct / 100
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def median(samples: list[float]) -> float:
    return statistics.median(samples)


@dataclass
class Case:
    """One measured request shape: timings in milliseconds and the SQL it ran."""

    name: str
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    reps: int
    queries: int
    sql_ms: float = 0.0  # time in SQL during the captured call (1 ms resolution), the rest is Python
    baseline: str | None = None  # name of the case this one is compared with
    target_ms: float | None = None  # p95 budget, when there is one
    sql: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(
    name: str,
    fn: Callable[[], Any],
    *,
    reps: int,
    warmup: int,
    check: Callable[[Any], None] | None = None,
    baseline: str | None = None,
    target_ms: float | None = None,
) -> Case:
    """Call `fn` warmup + reps times; time the reps, capture the SQL of the last warm-up call.

    `check(result)` runs on every call's result outside the timed region (raise to abort), so a
    benchmark never times an error page by accident."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    gc.collect()
    for _ in range(max(warmup - 1, 0)):
        result = fn()
        if check:
            check(result)
    with CaptureQueriesContext(connection) as captured:
        result = fn()
    # Copy now: the next request's request_started signal empties connection.queries_log.
    sql = [q["sql"] for q in captured.captured_queries]
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    if check:
        check(result)
    samples: list[float] = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        result = fn()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
        if check:
            check(result)
    return Case(
        name=name,
        median_ms=round(median(samples), 3),
        p95_ms=round(percentile(samples, 95), 3),
        min_ms=round(min(samples), 3),
        max_ms=round(max(samples), 3),
        reps=reps,
        queries=len(sql),
        sql_ms=round(sql_ms, 1),
        baseline=baseline,
        target_ms=target_ms,
        sql=sql,
    )


# --- EXPLAIN -------------------------------------------------------------------------------------


def explain(sql: str) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of one captured statement: a compact plan tree and its timings."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
        (doc,) = c.fetchone()
    if isinstance(doc, str):
        doc = json.loads(doc)
    top = doc[0]
    lines: list[str] = []
    _plan_lines(top["Plan"], 0, lines)
    return {
        "plan": lines,
        "planning_ms": round(top.get("Planning Time", 0.0), 3),
        "execution_ms": round(top.get("Execution Time", 0.0), 3),
    }


def _plan_lines(node: dict[str, Any], depth: int, lines: list[str]) -> None:
    label = node["Node Type"]
    if node.get("Scan Direction") == "Backward":
        label += " Backward"
    if index := node.get("Index Name"):
        label += f" using {index}"
    if rel := node.get("Relation Name"):
        label += f" on {rel}"
    stats = f"rows={node.get('Actual Rows')} loops={node.get('Actual Loops')} {node.get('Actual Total Time', 0):.2f} ms"
    hit, read = node.get("Shared Hit Blocks", 0), node.get("Shared Read Blocks", 0)
    detail = []
    for key in ("Index Cond", "Filter", "Sort Key"):
        if value := node.get(key):
            text = value if isinstance(value, str) else ", ".join(value)
            detail.append(f"{key.lower()}: {text[:140]}{'…' if len(text) > 140 else ''}")
    if removed := node.get("Rows Removed by Filter"):
        detail.append(f"removed by filter: {removed}")
    if method := node.get("Sort Method"):
        detail.append(f"sort: {method}")
    lines.append(f"{'  ' * depth}-> {label}  ({stats}; buffers hit={hit} read={read})")
    lines.extend(f"{'  ' * depth}     {d}" for d in detail)
    for child in node.get("Plans", []):
        _plan_lines(child, depth + 1, lines)


# --- output --------------------------------------------------------------------------------------


def new_result(name: str, description: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "params": params,
        "cases": [],
        "checks": [],
        "sections": [],
    }


def check(result: dict[str, Any], name: str, ok: bool, detail: str) -> bool:
    result["checks"].append({"name": name, "ok": bool(ok), "detail": detail})
    return bool(ok)


def format_result(result: dict[str, Any]) -> str:
    """The printed report: parameters, a table of cases with ratios to their baselines, the checks,
    then free-form sections (EXPLAIN summaries)."""
    m = result.get("machine", {})
    out = [
        f"== {result['name']}: {result['description']}",
        f"   {result['started_at']} · {m.get('cpus')} CPUs ({m.get('cpu')}) · PostgreSQL {m.get('postgres')}"
        f" (shared_buffers {m.get('shared_buffers')}, max_wal_size {m.get('max_wal_size')},"
        f" checkpoint_timeout {m.get('checkpoint_timeout')}, wal_compression {m.get('wal_compression')}, autovacuum {m.get('autovacuum')})"
        f" · Python {m.get('python')}"
        f" · load average {m.get('load_before')} before, {m.get('load_after', '?')} after"
        f" · sum(range(10**6)) {m.get('python_speed_before', '?')} ms before, {m.get('python_speed_after', '?')} after",
        "   " + " · ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in result["params"].items()),
        "",
    ]
    cases = result["cases"]
    by_name = {c["name"]: c for c in cases}
    width = max([len(c["name"]) for c in cases] + [4])
    out.append(f"{'case':<{width}}  {'median ms':>10}  {'p95 ms':>9}  {'max ms':>9}  {'queries':>7}  {'sql ms':>7}  "
               f"{'p95 vs baseline':<24}")
    out.append("-" * (width + 77))
    for c in cases:
        ratio = ""
        if (base := by_name.get(c.get("baseline") or "")) and base["p95_ms"]:
            ratio = f"{c['p95_ms'] / base['p95_ms']:.3f}× {base['name']}"
        flag = ""
        if c.get("target_ms") is not None:
            flag = "  ok" if c["p95_ms"] <= c["target_ms"] else f"  OVER {c['target_ms']:g} ms"
        out.append(
            f"{c['name']:<{width}}  {c['median_ms']:>10.2f}  {c['p95_ms']:>9.2f}  {c['max_ms']:>9.2f}  "
            f"{c['queries']:>7}  {c.get('sql_ms', 0):>7.1f}  {ratio:<24}{flag}"
        )
    if result["checks"]:
        out.append("")
        for chk in result["checks"]:
            out.append(f"[{'PASS' if chk['ok'] else 'FAIL'}] {chk['name']}: {chk['detail']}")
    out.append("")
    out.append("sql ms: time inside the database during one captured call (1 ms resolution); "
               "the rest of the server time is Python (middleware, view, template).")
    for section in result["sections"]:
        out.append("")
        out.append(f"-- {section['title']}")
        out.extend(f"   {line}" for line in section["lines"])
    return "\n".join(out)


def write_json(result: dict[str, Any], directory: Path | None = None) -> Path:
    directory = Path(directory or os.environ.get("BENCH_RESULTS_DIR") or RESULTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{result['name']}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    return path
