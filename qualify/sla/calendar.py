"""Business-time arithmetic: deadlines counted in working hours, one interval at a time.

Pure functions of plain values, no database, so they are tested exhaustively against a
minute-stepping reference (tests/sla/test_calendar.py) and reused by every path that starts a
clock. A `Calendar` is a time zone, the working intervals of each weekday in local wall-clock
minutes, and a predicate saying which local dates are closed (public and custom holidays).

Semantics. An instant is business time when its local wall-clock time falls inside one of its
local date's intervals and that date is not closed. So on a fall-back night a 01:00–02:00 interval
lasts two real hours, on a spring-forward night a 02:00–04:00 interval lasts one, and an interval
may end at 24:00 (1440) so that overnight shifts are written as 22:00–24:00 plus 00:00–06:00.

Cost. Deadlines are found by walking whole intervals (never minutes): O(days spanned × intervals
per day), a few microseconds per working day, plus one `holidays` lookup per day.
"""

from __future__ import annotations

import datetime
import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from qualify.formatting import show_date

UTC = datetime.timezone.utc
MINUTES_PER_DAY = 24 * 60
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Real clock changes jump by at most 2 hours (historic "double summer time"); 3 h is a safe margin
# for knowing that no later local day can still produce an earlier instant.
_MAX_JUMP = datetime.timedelta(hours=3)
# A calendar that has been closed this long has no working time at all (misconfigured).
MAX_CLOSED_DAYS = 800

Interval = tuple[int, int]  # [start, end) in minutes of the local day, 0 <= start < end <= 1440
Span = tuple[datetime.datetime, datetime.datetime]  # [start, end) as aware UTC datetimes


class NoBusinessTime(ValueError):
    """The calendar has no working time ahead (no hours, or every day closed)."""


def _never_closed(day: datetime.date) -> bool:
    return False


@dataclass(frozen=True)
class Calendar:
    """Working hours in a time zone. `week[0]` is Monday; intervals are in local minutes."""

    tz: ZoneInfo
    week: tuple[tuple[Interval, ...], ...]
    is_closed: Callable[[datetime.date], bool] = field(default=_never_closed, compare=False)

    @classmethod
    def build(
        cls,
        time_zone: str,
        hours: Sequence[tuple[int, int, int]],
        is_closed: Callable[[datetime.date], bool] = _never_closed,
    ) -> Calendar:
        """From (weekday, start_minute, end_minute) rows; overlapping intervals are merged."""
        days: list[list[Interval]] = [[] for _ in range(7)]
        for weekday, start, end in hours:
            if not (0 <= weekday <= 6 and 0 <= start < end <= MINUTES_PER_DAY):
                raise ValueError(f"Bad working interval {weekday}: {start}-{end}")
            days[weekday].append((start, end))
        return cls(tz=ZoneInfo(time_zone), week=tuple(_merge_minutes(d) for d in days), is_closed=is_closed)

    @property
    def has_hours(self) -> bool:
        return any(self.week)


def _merge_minutes(intervals: list[Interval]) -> tuple[Interval, ...]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return tuple((s, e) for s, e in merged)


def _offset(tz: ZoneInfo, instant: datetime.datetime) -> datetime.timedelta:
    return instant.astimezone(tz).utcoffset()  # type: ignore[return-value]


def _constant_offset_runs(tz: ZoneInfo, start: datetime.datetime, end: datetime.datetime):
    """Split [start, end) into runs of one UTC offset, finding each clock change by bisection.

    Assumes at most one change between two probes a day apart, true of every real zone.
    """
    runs = []
    second = datetime.timedelta(seconds=1)
    while start < end:
        first = _offset(tz, start)
        if end - start <= second or _offset(tz, end - second) == first:
            runs.append((start, end, first))
            break
        # Clock changes happen on whole seconds: bisect integer POSIX times.
        lo = math.floor(start.timestamp())  # offset(lo) == first
        hi = math.ceil((end - second).timestamp())  # offset(hi) != first
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _offset(tz, datetime.datetime.fromtimestamp(mid, UTC)) == first:
                lo = mid
            else:
                hi = mid
        change = datetime.datetime.fromtimestamp(hi, UTC)
        runs.append((start, change, first))
        start = change
    return runs


def wall_to_utc(tz: ZoneInfo, day: datetime.date, start_min: int, end_min: int) -> list[Span]:
    """The UTC spans whose local wall time on `day` lies in [start_min, end_min).

    Usually one span; two on a fall-back night when the repeated hour cuts the interval, none
    when the interval falls entirely inside a spring-forward gap.
    """
    midnight = datetime.datetime.combine(day, datetime.time())
    wall_start = midnight + datetime.timedelta(minutes=start_min)
    wall_end = midnight + datetime.timedelta(minutes=end_min)
    offsets = {
        wall.replace(tzinfo=tz, fold=fold).utcoffset() for wall in (wall_start, wall_end) for fold in (0, 1)
    }
    spans: list[Span] = []
    for off in offsets:
        lo = (wall_start - off).replace(tzinfo=UTC)
        hi = (wall_end - off).replace(tzinfo=UTC)
        spans.extend((s, e) for s, e, o in _constant_offset_runs(tz, lo, hi) if o == off and s < e)
    return _merge_spans(spans)


def _merge_spans(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def day_spans(cal: Calendar, day: datetime.date) -> list[Span]:
    """Business time of one local date, as UTC spans (empty when closed)."""
    if not cal.week[day.weekday()] or cal.is_closed(day):
        return []
    spans: list[Span] = []
    for start_min, end_min in cal.week[day.weekday()]:
        spans.extend(wall_to_utc(cal.tz, day, start_min, end_min))
    return _merge_spans(spans)


def business_spans(cal: Calendar, start: datetime.datetime) -> Iterator[Span]:
    """Business time from `start` onwards, as sorted, non-overlapping UTC spans. Lazy.

    Raises NoBusinessTime after MAX_CLOSED_DAYS consecutive days without any working time.
    """
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    start = start.astimezone(UTC)
    if not cal.has_hours:
        raise NoBusinessTime("This calendar has no working hours.")
    # Start a day early: an instant's local date can be the previous day's in another offset.
    day = start.astimezone(cal.tz).date() - datetime.timedelta(days=1)
    heap: list[Span] = []
    current: Span | None = None
    idle = 0
    while True:
        spans = day_spans(cal, day)
        idle = 0 if spans else idle + 1
        if idle > MAX_CLOSED_DAYS:
            raise NoBusinessTime(f"No working time within {MAX_CLOSED_DAYS} days of {show_date(start)}.")
        for span in spans:
            heapq.heappush(heap, span)
        # Spans of later local dates begin at or after this bound, so earlier ones are final.
        next_midnight = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
        bound = (next_midnight - next_midnight.replace(tzinfo=cal.tz).utcoffset()).replace(tzinfo=UTC) - _MAX_JUMP
        while heap and heap[0][0] < bound:
            s, e = heapq.heappop(heap)
            if e <= start:
                continue
            s = max(s, start)
            if current is None:
                current = (s, e)
            elif s <= current[1]:
                current = (current[0], max(current[1], e))
            else:
                yield current
                current = (s, e)
        # Nothing still to come starts before `bound`: the pending span is final up to there. Cutting
        # it at the bound keeps round-the-clock calendars (every day 00:00–24:00) from growing one
        # endless span; consumers only need spans in order and non-overlapping.
        if current is not None:
            if current[1] < bound:
                yield current
                current = None
            elif current[0] < bound:
                yield (current[0], bound)
                current = (bound, current[1])
        day += datetime.timedelta(days=1)


def add_business_time(cal: Calendar, start: datetime.datetime, amount: datetime.timedelta) -> datetime.datetime:
    """The instant at which `amount` of business time has elapsed since `start`.

    A zero amount is `start` itself. Ending exactly at a closing time returns the closing time
    (Friday 17:00), not the next opening.
    """
    if amount < datetime.timedelta(0):
        raise ValueError("amount must not be negative")
    if amount == datetime.timedelta(0):
        return start.astimezone(UTC)
    remaining = amount
    for s, e in business_spans(cal, start):
        if e - s >= remaining:
            return s + remaining
        remaining -= e - s
    raise AssertionError("unreachable: business_spans is infinite or raises")  # pragma: no cover


def business_time_between(cal: Calendar, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    """How much business time lies in [start, end); zero when end <= start."""
    total = datetime.timedelta(0)
    if end <= start:
        return total
    for s, e in business_spans(cal, start):
        if s >= end:
            break
        total += min(e, end) - s
    return total


def is_business_time(cal: Calendar, instant: datetime.datetime) -> bool:
    """Whether `instant` falls in working hours (exact, by the spans of its local date)."""
    instant = instant.astimezone(UTC)
    local_day = instant.astimezone(cal.tz).date()
    return any(s <= instant < e for s, e in day_spans(cal, local_day))
