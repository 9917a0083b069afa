import pytest

from qualify.segment.models import PageRule, Source


def _source(team, name):
    source = Source(name=name, team=team)
    source.key = source.issue_key()  # the clear key, as admin shows it once
    source.save()
    return source


@pytest.fixture
def north_source(north):
    return _source(north, "Website")


@pytest.fixture
def south_source(south):
    return _source(south, "EMEA website")


@pytest.fixture
def pricing_rule(db):
    return PageRule.objects.create(field=PageRule.Field.PATH, op=PageRule.Op.PREFIX, value="/pricing", category="pricing")


@pytest.fixture
def scored(monkeypatch):
    """The scoring tasks ingestion queues, collected instead of sent to a broker."""
    from qualify.scoring import tasks

    sent: list[list[int]] = []
    monkeypatch.setattr(tasks.score_leads, "delay", lambda ids: sent.append(ids))
    return sent
