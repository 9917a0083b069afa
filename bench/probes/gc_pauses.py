"""Full garbage collections in a queue request: 50 requests of four queue pages, with the process's
startup objects frozen (`freeze`, as qualify/wsgi.py does) or not (`normal`), printing median, p95
and the slowest. Run it on the queue bench's data set, alternating the two modes:

    PYTHONPATH=<checkout> DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_props \\
        DEBUG=true <checkout>/.venv/bin/python <checkout>/bench/probes/gc_pauses.py normal|freeze
"""

from __future__ import annotations

import gc
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from bench.probes import queue_users  # noqa: E402

from qualify.process import freeze_startup_objects  # noqa: E402

CASES = [("sdr", "/queue/?per=200"), ("sdr", "/queue/"), ("manager", "/queue/?scope=team&sla=breached"),
         ("manager", "/queue/?scope=team")]


def main(mode: str) -> None:
    clients = {}
    for role, user in queue_users().items():
        clients[role] = Client()
        clients[role].force_login(user)
    for role, url in CASES:
        for _ in range(5):
            clients[role].get(url)
    if mode == "freeze":
        freeze_startup_objects()
    print(f"{mode}: {len(gc.get_objects()):,} objects tracked, {gc.get_freeze_count():,} frozen")
    for role, url in CASES:
        took = []
        for _ in range(50):
            start = time.perf_counter()
            clients[role].get(url)
            took.append((time.perf_counter() - start) * 1000)
        took.sort()
        print(f"{mode} {url}: median {took[25]:.1f} p95 {took[47]:.1f} max {took[-1]:.1f}")


if __name__ == "__main__":
    if sys.argv[1:] not in (["normal"], ["freeze"]):
        raise SystemExit(__doc__)
    main(sys.argv[1])
