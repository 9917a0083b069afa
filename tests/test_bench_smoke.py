"""The benchmark command works: `python -m bench queue` at a tiny size (2,000 leads, 1 timed repetition).

The run itself happens in-process on pytest-django's test database, inside the test's transaction,
so the load (COPY, index rebuild, ANALYZE) and every measured request are rolled back and no
database is left behind; migrating a fresh database would cost more than the whole run. The
command-line parts that run before any database is touched (--list, refusing unknown names) run
as a real subprocess.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import common
from bench.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


def _cli(*args: str, url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, env={**os.environ, "BENCH_DATABASE_URL": url},
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
def absent_db_url():
    base = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/qualify"
    url = common.with_db_name(base, common.db_name(base) + "_bench_smoke")
    common.drop_database(url)
    yield url
    common.drop_database(url)


def test_queue_benchmark_runs_end_to_end_and_reports_constant_query_counts(db, tmp_path, capsys):
    code = main(
        ["queue", "--leads", "2000", "--reps", "1", "--warmup", "1", "--results-dir", str(tmp_path)], configure=False
    )
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    assert "== queue:" in out and "admin: first page" in out and "EXPLAIN (ANALYZE, BUFFERS)" in out

    result = json.loads((tmp_path / "queue.json").read_text())
    assert result["params"]["leads"] == 2000
    cases = {c["name"]: c for c in result["cases"]}
    assert {"queue mine: first page", "queue mine: deep page", "queue pool: deep page",
            "queue team (manager): deep page", "admin: first page"} <= set(cases)
    for case in cases.values():
        assert case["reps"] >= 1 and case["median_ms"] > 0 and case["p95_ms"] >= case["median_ms"]
        assert case["queries"] > 0
    checks = {c["name"]: c["ok"] for c in result["checks"]}
    assert checks["queries independent of page size"]
    assert checks["queries independent of depth"]
    assert checks["queries independent of data volume"]
    # The machine's Python speed, before and after, printed beside the load (README, Benchmarks).
    speed = result["machine"]
    assert speed["python_speed_before"] > 0 and speed["python_speed_after"] > 0
    assert f"sum(range(10**6)) {speed['python_speed_before']} ms before, {speed['python_speed_after']} after" in out


def test_unknown_benchmark_is_refused_before_any_database_is_created(absent_db_url):
    done = _cli("nosuch", url=absent_db_url)
    assert done.returncode == 2
    assert "unknown benchmark nosuch" in done.stderr
    with common._admin_connect(absent_db_url) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [common.db_name(absent_db_url)])
        assert found.fetchone() is None


def test_list_names_the_queue_benchmark(absent_db_url):
    done = _cli("--list", url=absent_db_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("queue ")


def test_percentile_interpolates_between_ranks_and_urls_keep_their_options():
    samples = [float(v) for v in range(1, 101)]
    assert common.percentile(samples, 95) == pytest.approx(95.05)
    assert common.percentile([3.0], 95) == 3.0
    assert common.median([1.0, 9.0, 2.0]) == 2.0
    assert common.with_db_name("postgresql://postgres@/qualify?host=/tmp/x", "qualify_bench") == (
        "postgresql://postgres@/qualify_bench?host=/tmp/x"
    )
