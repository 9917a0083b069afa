"""Factories for frameworks, criteria and answers (the shared tests/factories.py is not ours)."""

import factory

from qualify.frameworks.models import Answer, AnswerType, Criterion, Framework
from tests.factories import LeadFactory, UserFactory


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    name = factory.Sequence(lambda n: f"Framework {n}")
    slug = factory.Sequence(lambda n: f"framework-{n}")
    description = "A test framework."


class CriterionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Criterion

    framework = factory.SubFactory(FrameworkFactory)
    key = factory.Sequence(lambda n: f"criterion-{n}")
    position = factory.Sequence(lambda n: n)
    dimension = factory.Sequence(lambda n: f"Dimension {n}")
    question = "Is it true?"
    guidance = "Someone said so, on a call."
    answer_type = AnswerType.STATUS
    weight = 1


class AnswerFactory(factory.django.DjangoModelFactory):
    """Writes rows directly, bypassing record_answer(): for setting up history only."""

    class Meta:
        model = Answer

    lead = factory.SubFactory(LeadFactory)
    criterion = factory.SubFactory(CriterionFactory)
    criterion_version = factory.SelfAttribute("criterion.version")
    question_text = factory.SelfAttribute("criterion.question")
    status = "confirmed"
    evidence = "The VP said so on the discovery call."
    author = factory.SubFactory(UserFactory)
