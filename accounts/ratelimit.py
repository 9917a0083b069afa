"""A request limiter counted in PostgreSQL, for the doors django-axes and DRF do not cover: the
password reset e-mail (finding 11: 25 reset e-mails to one person in 3 seconds).

Why not a library: django-axes counts failed sign-ins, not requests; DRF's throttles guard API
views only and count in the cache, which is each process's own memory unless REDIS_CACHE_URL is
set, so four app processes would allow four times the rate. One upsert per request into a small
table is seen by every app server, exact under parallel requests, and cheap at the rate people ask
for resets. Windows are fixed, so a burst across a window's edge may get twice the limit.
"""

from __future__ import annotations

import datetime
import hashlib
import math
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from .models import RateCount

KEEP = datetime.timedelta(days=1)  # longer than any window; older rows are deleted


@dataclass(frozen=True)
class Rate:
    limit: int
    per: datetime.timedelta


def key_for(kind: str, value: str) -> str:
    """A key that does not store the e-mail address or client address itself."""
    return f"{kind}:{hashlib.sha256(value.strip().lower().encode()).hexdigest()[:40]}"


def hit(key: str, rate: Rate) -> int:
    """Count one request for `key`: 0 while within `rate`, else the seconds until its window ends.
    One INSERT ... ON CONFLICT DO UPDATE (and a DELETE of old rows once per new window)."""
    now = timezone.now()
    period = rate.per.total_seconds()
    start = datetime.datetime.fromtimestamp(now.timestamp() // period * period, tz=datetime.UTC)
    table = RateCount._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, window_start, count) VALUES (%s, %s, 1) "
            f"ON CONFLICT (key, window_start) DO UPDATE SET count = {table}.count + 1 RETURNING count",
            [key, start],
        )
        (count,) = cursor.fetchone()
    if count == 1:
        RateCount.objects.filter(window_start__lt=now - KEEP).delete()
    if count <= rate.limit:
        return 0
    return max(1, math.ceil((start + rate.per - now).total_seconds()))
