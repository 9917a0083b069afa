"""ABM test helpers: an account at North with people scored by the shipped default model, the
default model's buying committee and account rules, and a frozen 'now'."""

from __future__ import annotations

import datetime

import pytest

from qualify.abm.models import AccountRule, AccountScoring, CommitteeRole, Measure
from qualify.scoring.scores import _spec_cache, score_leads
from tests.factories import AccountFactory, EventFactory, LeadFactory
from tests.scoring.conftest import ensure_default_model

NOW = datetime.datetime(2026, 6, 15, 12, 0, tzinfo=datetime.timezone.utc)


@pytest.fixture(autouse=True)
def _fresh_spec_cache():
    _spec_cache.clear()
    yield
    _spec_cache.clear()


@pytest.fixture
def scoring(db):
    """The default model's committee (four roles) and account rules; MQA at 50."""
    s = AccountScoring.objects.create(model=ensure_default_model(), engaged_points=5, mqa_threshold=50)
    CommitteeRole.objects.create(scoring=s, position=1, name="Economic buyer", personas="economic_buyer",
                                 title_keywords="cfo, chief financial")
    CommitteeRole.objects.create(scoring=s, position=2, name="Champion", personas="champion")
    CommitteeRole.objects.create(scoring=s, position=3, name="Technical evaluator", personas="technical_evaluator",
                                 departments="IT, Engineering", title_keywords="architect, engineer")
    CommitteeRole.objects.create(scoring=s, position=4, name="User", personas="end_user")
    AccountRule.objects.create(scoring=s, measure=Measure.ENGAGED_PEOPLE, at_least=2, points=30)
    AccountRule.objects.create(scoring=s, measure=Measure.COVERAGE, at_least=50, points=30)
    AccountRule.objects.create(scoring=s, measure=Measure.DEPARTMENTS, at_least=3, points=10)
    return s


@pytest.fixture
def acme(north):
    return AccountFactory(team=north, name="Acme Robotics", domain="acme-robotics.example")


def person(account, **kw):
    return LeadFactory(team=account.team, account=account, owner=kw.pop("owner", None), **kw)


def engage(lead, n=3, days_ago=1.0, now=NOW, type="demo_request"):
    for i in range(n):
        EventFactory(lead=lead, type=type, properties={"page_category": "pricing"},
                     occurred_at=now - datetime.timedelta(days=days_ago, minutes=i))


def score(*leads, now=NOW):
    score_leads([lead.pk for lead in leads], now=now, promote=False)
    for lead in leads:
        lead.refresh_from_db()
