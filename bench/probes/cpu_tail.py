"""Where a slow queue request's time went: the same page requested N times in one process, each
request split into wall time, this process's CPU time, time inside the database calls and time in
the cyclic garbage collector. Prints median and p95 of the wall time, the slowest requests split,
and the CPU time of every request in order, so a slow stretch of the machine (the same work taking
more CPU time, with no more SQL and no collection) can be told from a slow request (more SQL, a
full collection). Run it on `bench queue`'s data set:

    PYTHONPATH=<checkout> DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_props \\
        DEBUG=true <checkout>/.venv/bin/python bench/probes/cpu_tail.py manager "/queue/?scope=team&sla=breached" 300

2026-12-07 on a 2-core AMD EPYC machine (this probe's first version), nothing else running (one core idle, no disk I/O in
`vmstat`): the same manager's page took 20-24 ms of CPU time most of the time and 35-44 ms in
stretches of 5-15 requests, with the same SQL time and no full collection.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from bench.probes import queue_users  # noqa: E402
from qualify.process import freeze_startup_objects  # noqa: E402


def main(role: str, url: str, n: int) -> None:
    client = Client()
    client.force_login(queue_users()[role])
    for _ in range(5):
        client.get(url)
    freeze_startup_objects()  # as qualify/wsgi.py does after startup
    collections: list[float] = []
    started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections.append(time.perf_counter() - started[0])

    sql = [0.0]

    def timed(execute, statement, params, many, context):
        t = time.perf_counter()
        try:
            return execute(statement, params, many, context)
        finally:
            sql[0] += time.perf_counter() - t

    rows = []  # (wall, cpu, sql, gc) in ms, in request order
    gc.callbacks.append(on_gc)
    try:
        with connection.execute_wrapper(timed):
            for _ in range(n):
                collections.clear()
                sql[0] = 0.0
                wall, cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
                rows.append(((time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000,
                             sql[0] * 1000, sum(collections) * 1000))
    finally:
        gc.callbacks.remove(on_gc)
    walls = sorted(r[0] for r in rows)
    print(f"{url} as {role}, {n} requests: wall median {statistics.median(walls):.1f} ms, "
          f"p95 {walls[max(int(0.95 * n) - 1, 0)]:.1f} ms")
    print("slowest (ms):    wall     cpu     sql      gc")
    for r in sorted(rows)[-10:]:
        print("            " + "".join(f"{x:8.1f}" for x in r))
    print("median request:" + "".join(f"{x:8.1f}" for x in sorted(rows)[n // 2]))
    print("cpu ms in request order:", " ".join(str(round(r[1])) for r in rows))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
