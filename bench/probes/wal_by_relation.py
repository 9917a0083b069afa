"""Which tables and indexes write the WAL of a busy moment: records, full-page images and bytes per
relation over a window of W seconds that starts D seconds after the load does (WAL growing over
20 MB/s), read R seconds after the probe started (once the load and its backlog are over:
reading competes with them).

Run it beside a write-heavy benchmark (e.g. `bench scoring_ingest`), against the same database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_scoring \\
        .venv/bin/python bench/probes/wal_by_relation.py [D=20] [W=5] [R=150]

A temporary physical replication slot keeps the window's WAL from being recycled by the
checkpoints that the load forces (it changes no setting, and goes with the session); once the
window closes, pg_walinspect (PostgreSQL 15's contrib, created if missing; needs a superuser)
reads it. A record's full-page image bytes are shared among the blocks it imaged. Reading 300 MB
of WAL took 5 s. The slot stops checkpoints from recycling WAL segments while it lives, so new
ones are created: the benchmark's own figures from a run with the probe are not clean ones.
"""

from __future__ import annotations

import os
import sys
import time

import psycopg

QUERY = """
WITH r AS (
    SELECT record_length, fpi_length, block_ref,
           (SELECT count(*) FROM regexp_matches(coalesce(block_ref, ''), 'FPW', 'g')) AS fpws,
           (SELECT count(*) FROM regexp_matches(coalesce(block_ref, ''), 'blkref', 'g')) AS blocks
    FROM pg_get_wal_records_info(%(start)s::pg_lsn, %(end)s::pg_lsn)
), b AS (
    SELECT r.record_length, r.fpi_length, r.fpws, r.blocks, m[1]::oid AS node, m[2] IS NOT NULL AS fpw
    FROM r, regexp_matches(coalesce(r.block_ref, ''), 'rel \\d+/\\d+/(\\d+) fork main blk \\d+( \\(FPW\\))?', 'g') AS m
)
SELECT * FROM (
SELECT coalesce(c.relname, 'relfilenode ' || b.node) AS rel, count(*) AS blocks,
       count(*) FILTER (WHERE fpw) AS fpis,
       sum(CASE WHEN fpw THEN fpi_length::float8 / greatest(fpws, 1) ELSE 0 END)::bigint AS fpi_bytes,
       sum((record_length - fpi_length)::float8 / greatest(blocks, 1))::bigint AS other_bytes
FROM b LEFT JOIN pg_class c ON c.relfilenode = b.node
GROUP BY 1) q ORDER BY fpi_bytes + other_bytes DESC
"""


def wait_for_load(conn, mb_per_s: float = 20.0) -> None:
    """Return once WAL has grown faster than `mb_per_s` for two seconds running (the load began)."""
    def lsn() -> float:
        return float(conn.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn").fetchone()[0])

    busy, last = 0, lsn()
    while busy < 2:
        time.sleep(1)
        now = lsn()
        busy = busy + 1 if (now - last) / 1e6 > mb_per_s else 0
        last = now


def main(argv: list[str]) -> None:
    delay = float(argv[0]) if argv else 20.0
    window = float(argv[1]) if len(argv) > 1 else 5.0
    read_at = float(argv[2]) if len(argv) > 2 else 150.0
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_walinspect")
        t_start = time.monotonic()
        wait_for_load(conn)
        time.sleep(delay)
        conn.execute("SELECT pg_create_physical_replication_slot('wal_by_relation_probe', true, true)")
        start = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        time.sleep(window)
        end = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
        total = conn.execute("SELECT %s::pg_lsn - %s::pg_lsn", (end, start)).fetchone()[0]
        time.sleep(max(0.0, read_at - (time.monotonic() - t_start)))  # reading competes with the load: wait it out
        t0 = time.monotonic()
        stats = conn.execute(
            "SELECT \"resource_manager/record_type\", count, record_size, fpi_size FROM pg_get_wal_stats(%s, %s) "
            "WHERE count > 0 ORDER BY combined_size DESC", (start, end)).fetchall()
        rows = conn.execute(QUERY, {"start": start, "end": end}).fetchall()
    print(f"WAL {start} → {end}: {int(total) / 1e6:,.1f} MB in {window:g} s (read in {time.monotonic() - t0:.0f} s)")
    print(f"{'resource manager':<20} {'records':>10} {'record MB':>10} {'FPI MB':>8}")
    for rm, count, rec, fpi in stats:
        print(f"{rm:<20} {count:>10,} {rec / 1e6:>10.1f} {fpi / 1e6:>8.1f}")
    print(f"\n{'relation':<48} {'blocks':>9} {'FPIs':>8} {'FPI MB':>8} {'other MB':>9}")
    for rel, blocks, fpis, fpi_bytes, other in rows[:40]:
        print(f"{rel:<48} {blocks:>9,} {fpis:>8,} {fpi_bytes / 1e6:>8.1f} {other / 1e6:>9.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
