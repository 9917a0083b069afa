"""The queue's SLA cases alone, for comparing two checkouts on the same data: the median request
time and the median SQL time of each case, over N requests after 3 warm-ups.

`bench queue` takes about six minutes and a single captured call for its SQL column; this takes
about one and a half, so before/after runs can alternate on the same running clocks (the queue
bench recreates them at every run, relative to the time it runs). Run it on the queue bench's
data set (`python -m bench queue` builds it), from each checkout in turn:

    PYTHONPATH=<checkout> DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_props \\
        DEBUG=true <checkout>/.venv/bin/python <checkout>/bench/probes/queue_sla.py [N] [case substring ...]

PYTHONPATH matters when checkouts share a virtualenv: its editable install points at one of them.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qualify.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

import qualify  # noqa: E402
from bench.probes import queue_users  # noqa: E402


CASES = [
    ("team first (reference)", "manager", "/queue/?scope=team"),
    ("mine first (reference)", "sdr", "/queue/"),
    ("sla=breached team", "manager", "/queue/?scope=team&sla=breached"),
    ("sla=breached mine", "sdr", "/queue/?sla=breached"),
    ("sla=at_risk team", "manager", "/queue/?scope=team&sla=at_risk"),
    ("sla=at_risk mine", "sdr", "/queue/?sla=at_risk"),
    ("sort=sla_due team", "manager", "/queue/?scope=team&sort=sla_due"),
    ("sort=sla_due mine", "sdr", "/queue/?sort=sla_due"),
    ("sort=sla_due pool", "sdr", "/queue/?scope=pool&sort=sla_due"),
    ("total sort=sla_due team", "manager", "/queue/total/?scope=team&sort=sla_due"),
    ("total sort=sla_due mine", "sdr", "/queue/total/?sort=sla_due"),
    ("total sort=sla_due pool", "sdr", "/queue/total/?scope=pool&sort=sla_due"),
    ("total sla=breached team", "manager", "/queue/total/?scope=team&sla=breached"),
    ("total sla=breached mine", "sdr", "/queue/total/?sla=breached"),
]


def main(argv: list[str]) -> None:
    reps = int(argv[0]) if argv and argv[0].isdigit() else 15
    wanted = [a for a in argv if not a.isdigit()]
    clients = {}
    for role, user in queue_users().items():
        clients[role] = Client()
        clients[role].force_login(user)
    print(f"load {os.getloadavg()[0]:.2f}, {reps} requests a case, code from {os.path.dirname(qualify.__file__)}")
    for name, role, url in CASES:
        if wanted and not any(w in name for w in wanted):
            continue
        client = clients[role]
        for _ in range(3):
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        took, sql = [], []
        for _ in range(reps):
            with CaptureQueriesContext(connection) as captured:
                start = time.perf_counter()
                client.get(url)
                took.append((time.perf_counter() - start) * 1000)
            sql.append(sum(float(q["time"]) for q in captured.captured_queries) * 1000)
        took.sort()
        sql.sort()
        print(f"{name:26s} median {took[reps // 2]:6.1f} ms   SQL median {sql[reps // 2]:5.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])
