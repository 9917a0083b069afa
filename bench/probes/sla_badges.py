"""The queue rows' SLA badges (`qualify.sla.panels.decorate_queue_rows`) as this checkout writes
them, against panels.py as it was at git revision REV, on the same 50 rows, alternating, N times
each; it stops if the two write different markup. Only panels.py is taken from REV: what it
imports (sla_state, countdown, fastdate...) is this checkout's. Each version reads the clock
itself, so a minute turning between the two can make the check fail once; run it again. Run it on
the queue bench's data set (`python -m bench queue` builds it), from the checkout's root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qualify_bench_props .venv/bin/python bench/probes/sla_badges.py REV [N]

The probe turns DEBUG off, as the bench does. It prints, per case (a manager's `sla=at_risk`
page, the SLA-due sort, a page with no clock), the rows that have a clock and the median ms of
each version.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ["scope=team&sla=at_risk", "scope=team&sort=sla_due", "scope=team"]


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    rev, reps = argv[0], int(argv[1]) if len(argv) > 1 else 200
    sys.path.insert(0, str(ROOT))
    from bench.common import configure_django

    configure_django(os.environ["DATABASE_URL"])
    from django.http import QueryDict

    from bench.probes import queue_users
    from qualify.leads.queue import load_queue
    from qualify.sla import panels as current

    source = subprocess.run(["git", "show", f"{rev}:qualify/sla/panels.py"], capture_output=True, text=True,
                            cwd=ROOT, check=True).stdout
    before = types.ModuleType("qualify.sla.panels_before")
    before.__package__ = "qualify.sla"
    exec(compile(source, f"{rev}:qualify/sla/panels.py", "exec"), before.__dict__)  # noqa: S102 - our own file at REV
    manager = queue_users()["manager"]
    versions = {rev: before, "this checkout": current}
    for case in CASES:
        leads = load_queue(manager, QueryDict(case), count=False).leads
        markup = {}
        for name, module in versions.items():
            module.decorate_queue_rows(leads, manager)
            markup[name] = [str(lead.sla_badges) for lead in leads]
        if markup[rev] != markup["this checkout"]:
            raise SystemExit(f"{case}: the two versions write different markup")
        took: dict[str, list[float]] = {name: [] for name in versions}
        for _ in range(reps):
            for name, module in versions.items():
                start = time.perf_counter()
                module.decorate_queue_rows(leads, manager)
                took[name].append((time.perf_counter() - start) * 1000)
        with_clock = sum(bool(m) for m in markup[rev])
        print(f"{case:26} rows with a clock {with_clock:2}/{len(leads)}: "
              + ", ".join(f"{name} {statistics.median(t):.2f} ms" for name, t in took.items()) + " (same markup)")


if __name__ == "__main__":
    main(sys.argv[1:])
