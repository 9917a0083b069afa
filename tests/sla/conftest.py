"""SLA fixtures: time frozen on a Tuesday morning, the shipped default calendar and policies."""

import datetime

import pytest
import time_machine

from qualify.leads.lifecycle import move_stage
from qualify.leads.models import Stage
from qualify.sla.models import BusinessCalendar, ClockKind, SlaPolicy

UTC = datetime.timezone.utc
# Tuesday 4 March 2025, 10:00 UTC: inside the default calendar's Mon–Fri 9–17 UTC.
TUESDAY_10 = datetime.datetime(2025, 3, 4, 10, 0, tzinfo=UTC)


def at(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def sla_defaults(request):
    """The shipped calendar, policies and beat entry (idempotent). Transactional tests flush tables
    at their end, so a later session reusing the database would otherwise find them gone."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or bool(marker and marker.kwargs.get("transaction"))
    if not (marker or transactional or "db" in request.fixturenames):
        return  # pure tests (calendar math) stay off the database
    request.getfixturevalue("transactional_db" if transactional else "db")
    ship_sla_defaults()


def ship_sla_defaults():
    import importlib

    from django.apps import apps

    importlib.import_module("qualify.sla.migrations.0002_defaults_and_sweep").create(apps, None)


@pytest.fixture
def frozen():
    """Time stands still at Tuesday 10:00 UTC until the test moves it (frozen.move_to(...))."""
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def default_calendar(db):
    return BusinessCalendar.objects.get(is_default=True)


@pytest.fixture
def mql_policy(db):
    return SlaPolicy.objects.get(kind=ClockKind.MQL_FIRST_TOUCH, is_default=True)


@pytest.fixture
def handoff_policy(db):
    return SlaPolicy.objects.get(kind=ClockKind.HANDOFF_DECISION, is_default=True)


@pytest.fixture
def recycle_policy(db):
    return SlaPolicy.objects.get(kind=ClockKind.RECYCLED_TOUCH, is_default=True)


@pytest.fixture
def make_mql(django_capture_on_commit_callbacks):
    """Move a lead into MQL through the lifecycle and run its after-commit hooks (clocks, routing)."""

    def run(lead, by=None):
        with django_capture_on_commit_callbacks(execute=True):
            move_stage(lead, to=Stage.MQL, by=by, why="Crossed the MQL threshold")
        lead.refresh_from_db()
        return lead

    return run


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run a block and then its on_commit callbacks, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)

