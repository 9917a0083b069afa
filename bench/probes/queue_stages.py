"""Where a queue request's time goes: the median of each step of `leads.views.queue` over N
requests (after 5 warm-ups), and what is left for the middleware, session and test client.

The SQL of a 50-row page is 3-15 ms at 1,000,000 leads; the rest is Python, and this says which
part. Run it on the queue bench's data set (`python -m bench queue` builds it):

    PYTHONPATH=<checkout> BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_props \\
        <checkout>/.venv/bin/python <checkout>/bench/probes/queue_stages.py [N] [role,url ...]

`role` is `sdr` (the SDR with the longest queue, as in bench/queue.py) or `manager`; without
cases it runs a manager's whole team, an SDR's own queue and a manager's breached filter.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import defaultdict

from bench.common import configure_django, database_url  # noqa: E402

# As the bench runs it (DEBUG off, one long-lived connection), on BENCH_DATABASE_URL or DATABASE_URL.
configure_django(database_url())

from bench.probes import queue_users  # noqa: E402
from bench.probes.queue_ab import warm_client  # noqa: E402

from qualify.leads import views  # noqa: E402

STEPS = ["load_queue", "_prepare_rows", "decorate_queue_rows", "_reps", "_filter_options", "saved_views_for",
         "render_rows", "render"]
DEFAULT_CASES = ["manager,/queue/?scope=team", "sdr,/queue/", "manager,/queue/?scope=team&sla=breached"]


def _timed(name: str, spent: dict[str, list[float]]) -> None:
    """Replace views.<name> with a wrapper that records each call's time."""
    original = getattr(views, name)

    def step(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[name].append((time.perf_counter() - start) * 1000)

    setattr(views, name, step)


def main(argv: list[str]) -> None:
    reps = int(argv[0]) if argv and argv[0].isdigit() else 40
    cases = [a for a in argv if not a.isdigit()] or DEFAULT_CASES
    users = queue_users()
    spent: dict[str, list[float]] = defaultdict(list)
    for name in STEPS:
        _timed(name, spent)
    print(f"load {os.getloadavg()[0]:.2f}, {reps} requests a case; median ms of each step")
    for case in cases:
        role, url = case.split(",", 1)
        client = warm_client(users[role], url)
        spent.clear()
        took = []
        for _ in range(reps):
            start = time.perf_counter()
            client.get(url)
            took.append((time.perf_counter() - start) * 1000)
        steps = {name: statistics.median(times) for name, times in spent.items()}
        request = statistics.median(took)
        print(f"{role} {url}: request {request:.1f} = " + " + ".join(f"{k} {v:.1f}" for k, v in steps.items())
              + f" + the rest {request - sum(steps.values()):.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
