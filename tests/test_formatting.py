"""One date format, one way of writing durations, relative times and percentages, everywhere."""

import datetime
import zoneinfo

import pytest
from django.template import Context, Template
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from qualify.formatting import humanize_ago, humanize_duration, show_date, show_datetime, show_percent


@pytest.mark.parametrize(("value", "unit", "text"), [
    (datetime.timedelta(minutes=737, seconds=12), "seconds", "12 h 17 min"),
    (737.2, "minutes", "12 h 17 min"),
    (datetime.timedelta(days=3, hours=4, minutes=59), "seconds", "3 d 4 h"),
    (2.5, "days", "2 d 12 h"),
    (datetime.timedelta(hours=5), "seconds", "5 h"),
    (7.9, "minutes", "7 min"),
    (datetime.timedelta(seconds=20), "seconds", "under 1 min"),
    (datetime.timedelta(minutes=-5), "seconds", "under 1 min"),
    (None, "seconds", ""),
])
def test_durations_read_at_a_glance(value, unit, text):
    assert humanize_duration(value, unit) == text


def test_duration_filter_needs_no_load_and_takes_a_unit():
    html = Template('{{ d|duration }} · {{ m|duration:"minutes" }} · {{ n|duration:"days"|default:"—" }}').render(
        Context({"d": datetime.timedelta(hours=1, minutes=5), "m": 737.2, "n": None})
    )
    assert html == "1 h 5 min · 12 h 17 min · —"


def test_one_date_format_in_templates(settings):
    settings.TIME_ZONE = "UTC"
    at = datetime.datetime(2026, 12, 4, 14, 5, tzinfo=datetime.UTC)
    with timezone.override("UTC"):
        html = Template('{{ at }} | {{ at|date }} | {{ at|date:"DATETIME_FORMAT" }} | {{ day|date:"DATE_FORMAT" }}').render(
            Context({"at": at, "day": at.date()})
        )
    assert html == "4 Dec 2026, 14:05 | 4 Dec 2026 | 4 Dec 2026, 14:05 | 4 Dec 2026"


def test_templates_use_the_named_formats_only():
    """Display dates go through DATE_FORMAT / DATETIME_FORMAT; literal formats are left only for
    machine values (ISO 'c', the 'Y-m-d' of date inputs and links) and the time zone ('e')."""
    import pathlib
    import re

    allowed = {"DATE_FORMAT", "DATETIME_FORMAT", "c", "Y-m-d", "e"}
    found = {
        (str(path), fmt)
        for path in pathlib.Path("templates").rglob("*")
        if path.suffix in {".html", ".jinja", ".txt"}
        for fmt in re.findall(r"\|(?:fast)?date[:(]\s*['\"](.*?)['\"]|\{%\s*now\s+['\"](.*?)['\"]", path.read_text())
        for fmt in fmt
        if fmt and fmt not in allowed
    }
    assert not found


def test_the_definition_page_dates_itself_in_the_one_format():
    assert Template('{% now "DATE_FORMAT" %}').render(Context()) == show_date(timezone.now())


def test_text_made_in_python_writes_dates_as_templates_do():
    """Titles, reasons and log lines are made outside templates: show_date / show_datetime write them
    as the pages do, in the zone they are given (an SLA calendar's) with its abbreviation when asked."""
    at = datetime.datetime(2026, 12, 4, 15, 5, tzinfo=datetime.UTC)
    new_york = zoneinfo.ZoneInfo("America/New_York")
    with timezone.override("UTC"):
        assert show_date(at) == "4 Dec 2026" and show_date(at.date()) == "4 Dec 2026"
        assert show_datetime(at) == "4 Dec 2026, 15:05"
        assert show_datetime(at, new_york, zone=True) == "4 Dec 2026, 10:05 EST"
        assert show_date(datetime.datetime(2026, 12, 5, 2, 0, tzinfo=datetime.UTC), new_york) == "4 Dec 2026"


def test_python_writes_no_display_dates_by_hand():
    """strftime and f-string date formats in the app would bypass DATE_FORMAT ("Fri 04 Dec 10:00
    UTC" beside "4 Dec 2026, 10:00"). Left alone: a month key ("%Y-%m"), a month label ("%b %Y")
    and a time of day ("%H:%M", TIME_FORMAT's own). The demo writes notes as reps do."""
    import pathlib
    import re

    allowed = {"%Y-%m", "%b %Y", "%H:%M"}
    spec = re.compile(r"strftime\(\s*['\"]([^'\"]*)['\"]|\{[^{}:]*:(%[^{}]*)\}")
    found = {
        (str(path), fmt)
        for path in pathlib.Path("qualify").rglob("*.py")
        if not {"migrations", "demo", "imports"} & set(path.parts)  # imports: warnings quote CSV values as ISO
        for fmt in (a or b for a, b in spec.findall(path.read_text()))
        if fmt not in allowed
    }
    assert not found


@given(at=st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31),
                       timezones=st.sampled_from([datetime.UTC, zoneinfo.ZoneInfo("America/New_York")])),
       fmt=st.sampled_from(["DATE_FORMAT", "DATETIME_FORMAT", "SHORT_DATE_FORMAT", "TIME_FORMAT",
                            "d/m/y G:i:s", "n-j-Y", r"\Y\e\a\r Y", "N j, Y", "e", "D, P"]))
def test_fastdate_writes_what_the_date_filter_writes(at, fmt):
    with timezone.override("Europe/Paris"):
        context = Context({"at": at})
        assert Template(f'{{{{ at|fastdate:"{fmt}" }}}}').render(context) == Template(f'{{{{ at|date:"{fmt}" }}}}').render(context)


def test_fastdate_of_nothing_of_a_day_and_of_text_is_what_date_makes_of_them():
    context = Context({"none": None, "day": datetime.date(2026, 12, 4), "text": "soon"})
    assert Template("{{ none|fastdate }}|{{ day|fastdate }}|{{ text|fastdate }}").render(context) == "|4 Dec 2026|"


NOW = datetime.datetime(2026, 12, 7, 12, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(("delta", "text"), [
    (datetime.timedelta(days=2, hours=12), "2 d 12 h ago"),  # not naturaltime's "2 days, 12 hours ago"
    (datetime.timedelta(hours=3, minutes=5), "3 h 5 min ago"),
    (datetime.timedelta(minutes=7, seconds=40), "7 min ago"),
    (datetime.timedelta(seconds=30), "just now"),
    (-datetime.timedelta(seconds=30), "just now"),
    (-datetime.timedelta(hours=3, minutes=5), "in 3 h 5 min"),
])
def test_relative_times_are_written_as_durations_are(delta, text):
    assert humanize_ago(NOW - delta, NOW) == text


def test_ago_filter_in_django_and_jinja_templates():
    from django.template import engines

    at = timezone.now() - datetime.timedelta(days=2, hours=12, minutes=3)
    assert Template("{{ at|ago }}").render(Context({"at": at})) == "2 d 12 h ago"
    assert engines["jinja2"].from_string("{{ at|ago }}").render({"at": at}) == "2 d 12 h ago"
    assert Template("{{ at|ago }}").render(Context({"at": None})) == ""


@pytest.mark.parametrize(("value", "text"), [
    (29.0, "29%"),  # not "29.0%"
    (19, "19%"),  # not "19 %"
    (29.44, "29.4%"),
    (2.5, "2.5%"),
    (0.04, "0%"),
    (-0.04, "0%"),
    (100.0, "100%"),
    (None, "—"),
])
def test_one_way_of_writing_percentages(value, text):
    assert show_percent(value) == text


def test_percent_filter_needs_no_load():
    html = Template("{{ a|percent }} · {{ b|percent }}").render(Context({"a": 83.4, "b": None}))
    assert html == "83.4% · —"


def test_country_filter_names_the_code_and_leaves_what_it_does_not_know():
    html = Template("{{ a|country }} · {{ b|country }} · {{ c|country }}").render(Context({"a": "US", "b": "ZZ", "c": ""}))
    assert html == "United States · ZZ · "


def test_share_filter_writes_a_share_of_one_as_percent_does():
    """|share for 0-1 values (prediction capture, base rate): one form with |percent, no widthratio rounding."""
    rendered = Template("{{ a|share }} {{ b|share }} {{ c|share }} {{ d|share }}").render(
        Context({"a": 0.5263, "b": 0.25, "c": 0, "d": None}))
    assert rendered == "52.6% 25% 0% —"
