"""Calibration test helpers: closed leads with the score they had at close (an outcome snapshot)
and events before and after it, on the shipped default model."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from qualify.leads.models import Stage
from qualify.scoring.models import Rule, ScoreSnapshot, ScoringModel
from qualify.scoring.scores import _spec_cache
from tests.factories import EventFactory, LeadFactory
from tests.scoring.conftest import ensure_default_model

NOW = timezone.now().replace(microsecond=0)


@pytest.fixture(autouse=True)
def _fresh_spec_cache():
    _spec_cache.clear()
    yield
    _spec_cache.clear()


@pytest.fixture
def model(db) -> ScoringModel:
    return ensure_default_model()


def rule(model: ScoringModel, label: str) -> Rule:
    return Rule.objects.get(model=model, label=label)


def closed(team, stage: str, *, model: ScoringModel, score: int = 50, days_ago: float = 10, before=(), after=(),
           reason=None, recorded: bool = True, **fields):
    """A lead that reached `stage` `days_ago` days ago with `score` recorded at that moment by the
    model's published version; `before`/`after` are event types that happened a day before/after."""
    at = NOW - datetime.timedelta(days=days_ago)
    lead = LeadFactory(team=team, stage=stage, stage_changed_at=at, disqualify_reason=reason,
                       score_version=model.current_version, score=score, **fields)
    for kind in before:
        EventFactory(lead=lead, type=kind, properties={}, occurred_at=at - datetime.timedelta(days=1))
    for kind in after:
        EventFactory(lead=lead, type=kind, properties={}, occurred_at=at + datetime.timedelta(hours=2))
    if recorded:
        ScoreSnapshot.objects.create(lead=lead, version=model.current_version, kind="outcome", stage=stage,
                                     on=at.date(), at=at, score=score)
    return lead


WON, LOST, DISQUALIFIED = Stage.WON, Stage.LOST, Stage.DISQUALIFIED
