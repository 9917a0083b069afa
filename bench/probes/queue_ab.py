"""Two checkouts' queue pages compared request by request: the median and p95 of each, and the
difference of the medians.

On a shared 2-core machine a page's time drifts by 10-20 ms from one minute to the next, so two
`bench queue` runs, or two probe runs one after the other, can show the same code 40 % apart.
Here one worker process per checkout serves the same cases in alternation (A then B, then B then
A), so a slow stretch of the machine falls on both. Run it on the queue bench's data set
(`python -m bench queue` builds it); a checkout is any directory with this code, sharing the
virtualenv of the one you run from:

    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_props \\
        .venv/bin/python bench/probes/queue_ab.py <checkout A> <checkout B> [N] [role,url ...]

`role` is `sdr` or `manager`, as in queue_stages.py; N requests a case and checkout (default 100).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

CASES = [
    "manager,/queue/?scope=team", "manager,/queue/?scope=team&sla=breached", "manager,/queue/?scope=team&sort=sla_due",
    "sdr,/queue/", "sdr,/queue/?q=director", "sdr,/queue/?prop.occupation=Student",
]


def warm_client(user, url: str, warmups: int = 5):
    """A test client signed in as `user` that has requested `url` `warmups` times (each a 200).
    Here rather than in bench.probes: a worker runs against checkouts older than this probe."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    for _ in range(warmups):
        if client.get(url).status_code != 200:
            raise SystemExit(f"{url} did not answer 200")
    return client


def worker(cases: list[str]) -> None:
    """Serve the cases named by index on stdin, one request each, and print each one's ms."""
    from bench.common import configure_django, database_url

    configure_django(database_url())
    import gc

    from bench.probes import queue_users

    users = queue_users()
    clients = []
    for case in cases:
        role, url = case.split(",", 1)
        clients.append((warm_client(users[role], url), url))
    gc.freeze()  # as qualify/wsgi.py does once the app is loaded
    print("ready", flush=True)
    for line in sys.stdin:
        client, url = clients[int(line)]
        start = time.perf_counter()
        status = client.get(url).status_code
        took = (time.perf_counter() - start) * 1000
        if status != 200:  # a redirect or a refusal is not a page: never time it as one
            raise SystemExit(f"{url} answered {status}")
        print(took, flush=True)


def _read(tag: str, path: str, proc: subprocess.Popen) -> float:
    """The worker's answer; its own error (on stderr, already shown) when it stopped instead."""
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the worker {tag} ({path}) stopped: see its error above")
    return float(line)


def main(argv: list[str]) -> None:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    from bench.common import percentile  # as bench queue computes its p95 (this checkout's bench)

    checkouts, rest = argv[:2], argv[2:]
    n = int(rest.pop(0)) if rest and rest[0].isdigit() else 100
    cases = rest or CASES
    workers = {}
    for tag, path in zip("AB", checkouts):
        env = dict(os.environ, PYTHONPATH=os.path.abspath(path))
        # Its stderr is ours: a worker that fails says why (Django's start-up warnings show too).
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", *cases], cwd=path, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        while (line := proc.stdout.readline()) and line.strip() != "ready":
            pass
        if not line:
            raise SystemExit(f"the worker {tag} ({path}) stopped before it was ready: see its error above")
        workers[tag] = proc
    took: dict[tuple[str, int], list[float]] = {(tag, i): [] for tag in workers for i in range(len(cases))}
    print(f"load {os.getloadavg()[0]:.2f}; A = {checkouts[0]}, B = {checkouts[1]}; {n} requests a case each, alternating")
    for k in range(n):
        for i in range(len(cases)):
            for tag in ("AB" if k % 2 == 0 else "BA"):
                workers[tag].stdin.write(f"{i}\n")
                workers[tag].stdin.flush()
                took[(tag, i)].append(_read(tag, checkouts["AB".index(tag)], workers[tag]))
    for i, case in enumerate(cases):
        cells = []
        for tag in "AB":
            times = took[(tag, i)]
            cells.append(f"{tag} {statistics.median(times):5.1f} / {percentile(times, 95):5.1f}")
        a, b = statistics.median(took[("A", i)]), statistics.median(took[("B", i)])
        print(f"{case:55s} {'   '.join(cells)}   B - A {b - a:+5.1f} ms ({(b - a) / a * 100:+.0f} %)")
    print(f"load {os.getloadavg()[0]:.2f}; median / p95 ms")
    for proc in workers.values():
        proc.stdin.close()
        proc.wait()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2:])
    else:
        main(sys.argv[1:])
