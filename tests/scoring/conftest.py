"""Scoring test helpers: the shipped default model, events at fixed times, frozen 'now'."""

import datetime
import importlib

import pytest

from qualify.scoring.models import ScoringModel
from qualify.scoring.scores import _spec_cache
from tests.factories import EventFactory

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def _fresh_spec_cache():
    _spec_cache.clear()
    yield
    _spec_cache.clear()


@pytest.fixture(autouse=True)
def default_model(request):
    """The shipped default model (migration 0002). A transactional test elsewhere may have flushed
    the tables, so recreate it the same way when it is missing."""
    uses_db = request.node.get_closest_marker("django_db") or {"db", "transactional_db"} & set(request.fixturenames)
    if not uses_db:
        return None
    return ensure_default_model()


def ensure_default_model() -> ScoringModel:
    if not ScoringModel.objects.filter(is_default=True, current_version__isnull=False).exists():
        from django.apps import apps

        ScoringModel.objects.filter(is_default=True).update(is_default=False, active=False)
        importlib.import_module("qualify.scoring.migrations.0002_default_model").create_default(apps, None)
    return ScoringModel.objects.get(is_default=True)


def event(lead, type="page_view", days_ago=1.0, now=NOW, **properties):
    return EventFactory(
        lead=lead, type=type, properties=properties, occurred_at=now - datetime.timedelta(days=days_ago)
    )
