"""Benchmarks: one command each, printing figures and ratios against a baseline measured in the same run.

    python -m bench --list          # what there is
    python -m bench                 # run them all
    python -m bench queue --leads 100000

A benchmark is a module in this package with `NAME`, `DESCRIPTION` and `run(args) -> dict`,
listed in `bench.__main__.BENCHMARKS`. Shared pieces live in `bench.common` (database, timing,
statistics, printing, JSON results) and `bench.dataset` (the million-lead data set, loaded once
with COPY and reused across runs).
"""
