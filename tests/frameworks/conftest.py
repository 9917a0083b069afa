"""Frameworks for tests. BANT (from the data migration) is the default: it applies to every lead
that no other active framework matches."""

import pytest

from qualify.frameworks.models import AnswerType, Criterion, Framework
from tests.frameworks.factories import CriterionFactory, FrameworkFactory


@pytest.fixture
def bant(db) -> Framework:
    return Framework.objects.get(slug="bant")


@pytest.fixture
def bant_criteria(bant) -> dict[str, Criterion]:
    return {c.key: c for c in bant.criteria.all()}


@pytest.fixture
def custom(db) -> Framework:
    """A framework with one criterion of each answer type; not the default, so it wins over BANT."""
    framework = FrameworkFactory(name="Custom", slug="custom", position=10)
    CriterionFactory(framework=framework, key="pain", dimension="Pain", weight=4, required_for_handoff=True)
    CriterionFactory(
        framework=framework, key="size", dimension="Company size", answer_type=AnswerType.CHOICE,
        choices=["1-50", "51-500", "500+"], weight=3,
    )
    CriterionFactory(framework=framework, key="seats", dimension="Seats", answer_type=AnswerType.NUMBER, weight=1)
    CriterionFactory(framework=framework, key="notes", dimension="Notes", answer_type=AnswerType.TEXT, weight=2)
    return framework


@pytest.fixture
def crit(custom) -> dict[str, Criterion]:
    return {c.key: c for c in custom.criteria.all()}
