"""`python -m bench [NAME ...]`: run every benchmark, or the named ones; `--list` shows them.

The database is BENCH_DATABASE_URL, else DATABASE_URL with its name replaced by `qualify_bench`,
else postgres://postgres@127.0.0.1:5432/qualify_bench. It is created and migrated when needed; the
data set is loaded once and reused until `--reload` or a different `--leads`.
Results print as a table and go to bench/results/<name>.json (BENCH_RESULTS_DIR overrides).
Run under `flock /tmp/qualify-bench.lock` on a shared machine so two benchmarks never overlap.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from bench import common

# Dotted paths of benchmark modules; each has NAME, DESCRIPTION and run(args) -> dict, and may
# have add_arguments(parser) for options of its own. Add yours here.
BENCHMARKS: list[str] = [
    "bench.queue",
    "bench.scoring_recompute",
    "bench.scoring_ingest",
    "bench.analytics",
    "bench.sla_sweep",
    "bench.routing",
    "bench.webhooks",
    "bench.dedupe",
    "bench.abm",
    "bench.calibration",
    "bench.imports_uci",
    "bench.predictions",
]


def _load(paths: list[str]) -> dict:
    """The benchmark modules by NAME. One that is listed but not there yet (registered before its
    file was committed) is skipped with a warning instead of breaking every other benchmark."""
    modules = {}
    for path in paths:
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as e:
            if e.name != path:
                raise
            print(f"bench: {path} is listed in BENCHMARKS but missing; skipped", file=sys.stderr)
            continue
        modules[module.NAME] = module
    return modules


def _parser(modules: dict) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    p.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    p.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    p.add_argument("--leads", type=int, default=1_000_000, help="leads in the data set (default 1,000,000)")
    p.add_argument("--reload", action="store_true", help="reload the data set even if it is already there")
    p.add_argument("--reps", type=int, default=50, help="timed repetitions per case (default 50)")
    p.add_argument("--warmup", type=int, default=5, help="untimed warm-up calls per case (default 5)")
    p.add_argument("--seed", type=int, default=42, help="random seed of the data set")
    p.add_argument("--results-dir", default=None, help="where to write <name>.json (default bench/results)")
    p.add_argument("--strict", action="store_true", help="exit 1 when a check (target, query count) fails")
    for module in modules.values():
        if hasattr(module, "add_arguments"):
            module.add_arguments(p)
    return p


def main(argv: list[str] | None = None, *, configure: bool = True) -> int:
    """`configure=False` runs inside a Django that is already set up, on its default database as it
    is (the smoke test uses pytest-django's test database, migrated once per session)."""
    url = common.database_url()
    if configure:
        common.configure_django(url)
    modules = _load(BENCHMARKS)
    parser = _parser(modules)
    args = parser.parse_args(argv)
    if args.list:
        for name, module in modules.items():
            print(f"{name:<12} {module.DESCRIPTION}")
        return 0
    if unknown := [n for n in args.names if n not in modules]:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(modules)}")
    if args.leads < 100 or args.reps < 1 or args.warmup < 1:
        parser.error("--leads must be at least 100, --reps and --warmup at least 1")

    if configure:
        print(f"bench database: {common.db_name(url)}")
        common.prepare_database(url)
    failed = []
    for name in args.names or list(modules):
        result = modules[name].run(args)
        result["machine"]["load_after"] = round(os.getloadavg()[0], 2)
        result["machine"]["python_speed_after"] = common.python_speed()
        print()
        print(common.format_result(result))
        path = common.write_json(result, args.results_dir)
        print(f"\nwrote {path}")
        failed += [f"{name}: {c['name']}" for c in result["checks"] if not c["ok"]]
    if failed:
        print(f"\n{len(failed)} check(s) failed: " + "; ".join(failed))
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
