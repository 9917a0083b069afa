import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from qualify.frameworks.answers import record_answer
from qualify.frameworks.completeness import completeness, missing_for_handoff
from qualify.frameworks.models import AnswerType
from qualify.leads.models import Lead
from tests.frameworks.factories import AnswerFactory, CriterionFactory, FrameworkFactory

EVIDENCE = "Said so on the discovery call, 3 May."


@pytest.fixture
def scored(db, north, alice):
    """Hand-computed framework: weights 4, 2, 2, 1, 1, 2, 3 (total 15) and one retired criterion."""
    fw = FrameworkFactory(position=10)
    make = lambda key, **kw: CriterionFactory(framework=fw, key=key, dimension=key.title(), **kw)  # noqa: E731
    return {
        "a": make("a", weight=4, required_for_handoff=True),
        "b": make("b", weight=2, required_for_handoff=True),
        "c": make("c", weight=2, required_for_handoff=True),
        "d": make("d", weight=1, required_for_handoff=True),
        "e": make("e", weight=1, answer_type=AnswerType.NUMBER),
        "f": make("f", weight=2, answer_type=AnswerType.TEXT, required_for_handoff=True),
        "g": make("g", weight=3, answer_type=AnswerType.CHOICE, choices=["x", "y"]),
        "retired": make("retired", weight=10, required_for_handoff=True, active=False),
    }


def test_completeness_weights_partial_half_and_lists_required_gaps(alices_lead, alice, scored):
    earlier = timezone.now() - datetime.timedelta(days=2)
    AnswerFactory(lead=alices_lead, criterion=scored["a"], status="negative", evidence="", created_at=earlier)
    record_answer(alices_lead, criterion=scored["a"], by=alice, status="confirmed", evidence=EVIDENCE)  # 4
    record_answer(alices_lead, criterion=scored["b"], by=alice, status="partial", evidence=EVIDENCE)  # 2 * 0.5
    record_answer(alices_lead, criterion=scored["c"], by=alice, status="negative")  # 0, missing: negative
    record_answer(alices_lead, criterion=scored["d"], by=alice, status="unknown")  # 0, missing: unknown
    record_answer(alices_lead, criterion=scored["e"], by=alice, value="5000")  # 1
    AnswerFactory(lead=alices_lead, criterion=scored["retired"])  # retired: ignored
    # f (text, required) and g (choice) unanswered.

    result = completeness(alices_lead)

    # earned 4 + 1 + 0 + 0 + 1 = 6 of 15 -> 40%
    assert result.percent == 40
    assert [i.criterion.key for i in result.items] == ["a", "b", "c", "d", "e", "f", "g"]
    assert [(m.criterion.key, m.reason) for m in result.missing_required] == [
        ("c", "negative"), ("d", "unknown"), ("f", "unanswered"),
    ]
    assert result.missing_required[0].is_negative
    a = result.items[0]
    assert a.answer.status == "confirmed"
    assert [old.status for old in a.earlier] == ["negative"]
    assert not result.is_complete


def test_everything_confirmed_is_complete(alices_lead, alice, bant_criteria):
    for criterion in bant_criteria.values():
        record_answer(alices_lead, criterion=criterion, by=alice, status="confirmed", evidence=EVIDENCE)

    result = completeness(alices_lead)

    assert result.percent == 100
    assert result.missing_required == []
    assert result.is_complete
    assert missing_for_handoff(alices_lead) == []


def test_partial_required_answers_satisfy_handoff_at_half_weight(alices_lead, alice, bant_criteria):
    for criterion in bant_criteria.values():
        record_answer(alices_lead, criterion=criterion, by=alice, status="partial", evidence=EVIDENCE)

    result = completeness(alices_lead)

    assert result.percent == 50
    assert result.is_complete


def test_missing_for_handoff_reads_like_a_checklist(alices_lead, alice, bant_criteria):
    record_answer(alices_lead, criterion=bant_criteria["need"], by=alice, status="confirmed", evidence=EVIDENCE)
    record_answer(alices_lead, criterion=bant_criteria["budget"], by=alice, status="negative")
    record_answer(alices_lead, criterion=bant_criteria["timeline"], by=alice, status="unknown")

    assert missing_for_handoff(alices_lead) == [
        "Budget: answered negative: resolve it, or nurture or disqualify the lead",
        "Authority: not answered yet",
        "Timeline: still unknown",
    ]


def test_a_new_lead_under_bant_misses_all_four(alices_lead):
    result = completeness(alices_lead)

    assert result.framework.slug == "bant"
    assert result.percent == 0
    assert [m.criterion.dimension for m in result.missing_required] == ["Need", "Budget", "Authority", "Timeline"]


def test_no_framework_means_nothing_missing(alices_lead):
    from qualify.frameworks.models import Framework

    Framework.objects.update(active=False)

    result = completeness(alices_lead)
    assert (result.framework, result.items, result.percent, result.missing_required) == (None, [], 0, [])
    assert missing_for_handoff(alices_lead) == []


def test_completeness_costs_three_queries_however_many_answers(alice, alices_lead, bant_criteria, django_assert_num_queries):
    lead = Lead.objects.select_related("account").get(pk=alices_lead.pk)
    with django_assert_num_queries(3):
        completeness(lead)

    for _ in range(5):
        for criterion in bant_criteria.values():
            record_answer(lead, criterion=criterion, by=alice, status="partial", evidence=EVIDENCE)

    with CaptureQueriesContext(connection) as queries:
        result = completeness(lead)
        for item in result.items:  # what the panel touches per criterion
            _ = (item.is_stale, item.answer.author, [old.author for old in item.earlier])
    assert len(queries) == 3
