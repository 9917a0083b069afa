"""Business-time math against a minute-stepping reference, plus the DST and holiday cases by hand.

The reference walks one real minute at a time and asks "is this minute's local wall time inside
its local date's working hours, and is that date open?" — the definition, with no cleverness.
"""

import datetime
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qualify.sla.calendar import (
    Calendar,
    NoBusinessTime,
    add_business_time,
    business_time_between,
    is_business_time,
)

UTC = datetime.timezone.utc
MINUTE = datetime.timedelta(minutes=1)
NY = "America/New_York"
NINE_TO_FIVE = [(d, 9 * 60, 17 * 60) for d in range(5)]


def at(tz: str, *args) -> datetime.datetime:
    """A local wall time in `tz` (fold=0), as an aware datetime."""
    return datetime.datetime(*args, tzinfo=ZoneInfo(tz))


def reference_is_business(cal: Calendar, instant: datetime.datetime) -> bool:
    local = instant.astimezone(cal.tz)
    minute = local.hour * 60 + local.minute
    return not cal.is_closed(local.date()) and any(s <= minute < e for s, e in cal.week[local.weekday()])


def reference_add(cal: Calendar, start: datetime.datetime, minutes: int) -> datetime.datetime:
    t, counted = start.astimezone(UTC), 0
    while counted < minutes:
        if reference_is_business(cal, t):
            counted += 1
        t += MINUTE
    if minutes == 0:
        return t
    # The deadline is the end of the last counted minute, not the start of the next business one.
    return t


def reference_between(cal: Calendar, start: datetime.datetime, end: datetime.datetime) -> datetime.timedelta:
    t, total = start.astimezone(UTC), 0
    while t < end:
        total += reference_is_business(cal, t)
        t += MINUTE
    return total * MINUTE


# --- hand-picked cases --------------------------------------------------------------------------


def test_one_hour_inside_the_day():
    cal = Calendar.build(NY, NINE_TO_FIVE)
    assert add_business_time(cal, at(NY, 2025, 3, 4, 10, 0), datetime.timedelta(hours=1)) == at(NY, 2025, 3, 4, 11, 0)


def test_friday_afternoon_rolls_over_the_weekend():
    cal = Calendar.build(NY, NINE_TO_FIVE)
    # Fri 16:30 + 1h = 30 min on Friday, 30 min on Monday.
    assert add_business_time(cal, at(NY, 2025, 3, 7, 16, 30), datetime.timedelta(hours=1)) == at(NY, 2025, 3, 10, 9, 30)


def test_ending_exactly_at_closing_time_returns_closing_time():
    cal = Calendar.build(NY, NINE_TO_FIVE)
    assert add_business_time(cal, at(NY, 2025, 3, 7, 9, 0), datetime.timedelta(hours=8)) == at(NY, 2025, 3, 7, 17, 0)


def test_start_outside_hours_counts_from_the_next_opening():
    cal = Calendar.build(NY, NINE_TO_FIVE)
    assert add_business_time(cal, at(NY, 2025, 3, 4, 22, 0), datetime.timedelta(hours=1)) == at(NY, 2025, 3, 5, 10, 0)


def test_lunch_break_splits_the_day():
    cal = Calendar.build(NY, [(0, 9 * 60, 12 * 60), (0, 13 * 60, 17 * 60)])
    assert add_business_time(cal, at(NY, 2025, 3, 3, 11, 30), datetime.timedelta(hours=1)) == at(NY, 2025, 3, 3, 13, 30)


def test_overnight_shift_across_midnight_is_continuous():
    # Mon 22:00–24:00 then Tue 00:00–06:00: one shift of eight hours.
    cal = Calendar.build(NY, [(0, 22 * 60, 1440), (1, 0, 6 * 60)])
    assert add_business_time(cal, at(NY, 2025, 3, 3, 23, 0), datetime.timedelta(hours=3)) == at(NY, 2025, 3, 4, 2, 0)


def test_us_holiday_is_skipped():
    us = holidays.country_holidays("US")
    cal = Calendar.build(NY, NINE_TO_FIVE, is_closed=lambda d: d in us)
    # Thu 3 Jul 2025 16:00 + 2h: 1h on Thursday, Friday 4 July closed, weekend, 1h Monday.
    assert add_business_time(cal, at(NY, 2025, 7, 3, 16, 0), datetime.timedelta(hours=2)) == at(NY, 2025, 7, 7, 10, 0)


def test_custom_closed_date_is_skipped():
    closed = {datetime.date(2025, 3, 5)}
    cal = Calendar.build(NY, NINE_TO_FIVE, is_closed=closed.__contains__)
    assert add_business_time(cal, at(NY, 2025, 3, 4, 16, 0), datetime.timedelta(hours=2)) == at(NY, 2025, 3, 6, 10, 0)


def test_spring_forward_night_shift_is_one_hour_shorter():
    # 00:00–06:00 on 9 March 2025 in New York: clocks jump 02:00 → 03:00, so 5 real hours.
    cal = Calendar.build(NY, [(6, 0, 6 * 60)])
    start = at(NY, 2025, 3, 9, 0, 0)
    assert business_time_between(cal, start, start + datetime.timedelta(hours=10)) == datetime.timedelta(hours=5)
    assert add_business_time(cal, start, datetime.timedelta(hours=3)) == at(NY, 2025, 3, 9, 4, 0)


def test_fall_back_night_counts_the_repeated_hour_twice():
    # 00:00–03:00 on 2 November 2025: 01:00–02:00 happens twice, so 4 real hours.
    cal = Calendar.build(NY, [(6, 0, 3 * 60)])
    start = at(NY, 2025, 11, 2, 0, 0)
    assert business_time_between(cal, start, start + datetime.timedelta(hours=10)) == datetime.timedelta(hours=4)
    deadline = add_business_time(cal, start, datetime.timedelta(hours=2, minutes=30))
    # 00:00–01:00 EDT, 01:00–02:00 EDT, then half of the repeated 01:00–02:00 EST.
    assert deadline == datetime.datetime(2025, 11, 2, 6, 30, tzinfo=UTC)
    assert deadline.astimezone(ZoneInfo(NY)).strftime("%H:%M %Z") == "01:30 EST"


def test_interval_inside_the_spring_gap_has_no_time():
    cal = Calendar.build(NY, [(6, 2 * 60, 2 * 60 + 30), (0, 9 * 60, 10 * 60)])
    start = at(NY, 2025, 3, 9, 0, 0)
    assert add_business_time(cal, start, datetime.timedelta(minutes=10)) == at(NY, 2025, 3, 10, 9, 10)


def test_nine_to_five_across_a_dst_weekend_keeps_local_hours():
    cal = Calendar.build(NY, NINE_TO_FIVE)
    # Fri 7 Mar 16:00 EST + 2h → Mon 10 Mar 10:00 EDT (the offset changed over the weekend).
    deadline = add_business_time(cal, at(NY, 2025, 3, 7, 16, 0), datetime.timedelta(hours=2))
    assert deadline == at(NY, 2025, 3, 10, 10, 0)
    assert deadline.utcoffset() is not None and deadline.astimezone(ZoneInfo(NY)).utcoffset() == datetime.timedelta(hours=-4)


def test_between_is_zero_for_reversed_range():
    cal = Calendar.build(NY, NINE_TO_FIVE)
    assert business_time_between(cal, at(NY, 2025, 3, 4, 12, 0), at(NY, 2025, 3, 4, 11, 0)) == datetime.timedelta(0)


def test_calendar_without_hours_raises_instead_of_looping():
    with pytest.raises(NoBusinessTime):
        add_business_time(Calendar.build("UTC", []), at("UTC", 2025, 1, 1), datetime.timedelta(hours=1))


def test_calendar_closed_every_day_raises_instead_of_looping():
    cal = Calendar.build("UTC", NINE_TO_FIVE, is_closed=lambda d: True)
    with pytest.raises(NoBusinessTime):
        add_business_time(cal, at("UTC", 2025, 1, 1), datetime.timedelta(hours=1))


def test_bad_interval_is_refused():
    with pytest.raises(ValueError):
        Calendar.build("UTC", [(0, 17 * 60, 9 * 60)])


def test_naive_start_is_refused():
    with pytest.raises(ValueError):
        add_business_time(Calendar.build("UTC", NINE_TO_FIVE), datetime.datetime(2025, 1, 1), datetime.timedelta(hours=1))


def test_long_target_is_computed_without_stepping():
    """A quarter of business time across a year: interval walking makes this cheap."""
    cal = Calendar.build(NY, NINE_TO_FIVE)
    start = at(NY, 2025, 1, 6, 9, 0)
    deadline = add_business_time(cal, start, datetime.timedelta(hours=8 * 5 * 13))
    assert deadline == at(NY, 2025, 4, 4, 17, 0)


# --- property-based: the interval walk equals the minute-stepping reference --------------------

ZONES = ["UTC", NY, "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "America/Sao_Paulo"]
# Around real clock changes, so DST nights are hit often.
ANCHORS = [
    datetime.datetime(2025, 3, 8, tzinfo=UTC),
    datetime.datetime(2025, 3, 29, tzinfo=UTC),
    datetime.datetime(2025, 4, 5, tzinfo=UTC),
    datetime.datetime(2025, 9, 27, tzinfo=UTC),
    datetime.datetime(2025, 10, 25, tzinfo=UTC),
    datetime.datetime(2025, 11, 1, tzinfo=UTC),
    datetime.datetime(2018, 11, 3, tzinfo=UTC),  # Sao Paulo's spring-forward at midnight
    datetime.datetime(2025, 12, 24, tzinfo=UTC),
]


@st.composite
def intervals(draw):
    # At least half an hour, so the minute-stepping reference finds enough time quickly.
    start = draw(st.integers(0, 1410))
    end = draw(st.integers(start + 30, 1440))
    return draw(st.integers(0, 6)), start, end


@st.composite
def calendars(draw):
    if draw(st.booleans()):
        hours = draw(st.lists(intervals(), min_size=1, max_size=6))
    else:
        # The same hours every day, so every clock-change night is inside some working interval.
        daily = draw(st.lists(intervals(), min_size=1, max_size=2))
        hours = [(day, s, e) for _, s, e in daily for day in range(7)]
    closed = frozenset(draw(st.lists(st.dates(datetime.date(2018, 10, 25), datetime.date(2026, 1, 10)), max_size=6)))
    return Calendar.build(draw(st.sampled_from(ZONES)), hours, is_closed=closed.__contains__)


@st.composite
def starts(draw):
    return draw(st.sampled_from(ANCHORS)) + draw(st.integers(0, 4 * 1440)) * MINUTE


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), start=starts(), minutes=st.integers(0, 1440))
def test_add_matches_minute_stepping(cal, start, minutes):
    if not any(cal.week):
        return
    assert add_business_time(cal, start, minutes * MINUTE) == reference_add(cal, start, minutes)


@settings(max_examples=150, deadline=None)
@given(cal=calendars(), start=starts(), length=st.integers(0, 5 * 1440))
def test_between_matches_minute_stepping(cal, start, length):
    end = start + length * MINUTE
    assert business_time_between(cal, start, end) == reference_between(cal, start, end)


@settings(max_examples=200, deadline=None)
@given(cal=calendars(), instant=starts())
def test_is_business_time_matches_definition(cal, instant):
    assert is_business_time(cal, instant) == reference_is_business(cal, instant)


@settings(max_examples=100, deadline=None)
@given(cal=calendars(), start=starts(), a=st.integers(0, 2000), b=st.integers(0, 2000))
def test_adding_in_two_steps_equals_adding_once(cal, start, a, b):
    once = add_business_time(cal, start, (a + b) * MINUTE)
    twice = add_business_time(cal, add_business_time(cal, start, a * MINUTE), b * MINUTE)
    # Two steps may stop at a closing time where one step continues past it; both are the same
    # amount of business time from start.
    assert business_time_between(cal, start, once) == business_time_between(cal, start, twice) == (a + b) * MINUTE


def test_round_the_clock_calendar_is_plain_elapsed_time():
    """Every day 00:00–24:00: spans touch at each midnight; found by hypothesis (it looped forever)."""
    cal = Calendar.build(NY, [(d, 0, 1440) for d in range(7)])
    start = at(NY, 2025, 3, 7, 15, 25).astimezone(UTC)  # elapsed time, across the DST change
    assert add_business_time(cal, start, datetime.timedelta(hours=486)) == start + datetime.timedelta(hours=486)
    assert business_time_between(cal, start, start + datetime.timedelta(days=9)) == datetime.timedelta(days=9)
