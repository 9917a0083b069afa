"""Scoring test helpers: the shipped default model, events at fixed times, frozen 'now'."""

import datetime

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


@pytest.fixture
def default_model(db):
    return ScoringModel.objects.get(is_default=True)


def event(lead, type="page_view", days_ago=1.0, now=NOW, **properties):
    return EventFactory(
        lead=lead, type=type, properties=properties, occurred_at=now - datetime.timedelta(days=days_ago)
    )
