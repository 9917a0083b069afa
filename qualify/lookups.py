"""Admin-edited configuration read once per batch instead of once per lead.

A scoring task that promotes fifty new MQLs routes each one and starts each one's SLA clock; every
lead reads the same routing rules, SLA policies and calendars. Inside `reused_lookups()` the first
read is kept for the rest of the block (a batch lasts seconds, so an admin's edit applies from the
next batch on). Outside such a block `looked_up` simply loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_memo: ContextVar[dict | None] = ContextVar("reused_lookups", default=None)


@contextmanager
def reused_lookups() -> Iterator[None]:
    """Lookups made inside this block are made once (a nested block shares the outer one's)."""
    if _memo.get() is not None:
        yield
        return
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def looked_up(key: tuple, load: Callable[[], Any]) -> Any:
    """`load()`, or inside reused_lookups() what it returned the first time for `key`."""
    memo = _memo.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]
