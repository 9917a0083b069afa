"""Dates read from query strings (?start=&end= of the metrics and feedback pages)."""

from __future__ import annotations

import datetime

# Reports reach no further than this either way. Python's dates stop at years 1 and 9999, so a
# range ending at 0001-01-01 overflowed the moment a page subtracted a day from it (a 500).
EARLIEST = datetime.date(1970, 1, 1)
LATEST = datetime.date(2999, 12, 31)


def query_date(value: str | None, default: datetime.date) -> datetime.date:
    """`value` as an ISO date, or `default` when it is missing, malformed or out of reach."""
    try:
        day = datetime.date.fromisoformat(value) if value else default
    except ValueError:
        return default
    return day if EARLIEST <= day <= LATEST else default
