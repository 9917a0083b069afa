import pytest

from qualify.frameworks.answers import record_answer
from qualify.frameworks.completeness import completeness
from qualify.frameworks.models import AnswerType, Criterion, CriterionRevision

OLD_QUESTION = "Is budget allocated, or can it be made available this cycle, to solve this problem?"


def test_rewording_the_question_bumps_the_version_and_keeps_the_old_wording(bant_criteria):
    budget = bant_criteria["budget"]
    old_guidance = budget.guidance
    assert (budget.version, budget.question) == (1, OLD_QUESTION)

    budget.question = "Has a budget owner confirmed funds for this project?"
    budget.save()

    budget.refresh_from_db()
    assert budget.version == 2
    revision = CriterionRevision.objects.get(criterion=budget)
    assert (revision.version, revision.question, revision.guidance) == (1, OLD_QUESTION, old_guidance)
    assert revision.answer_type == AnswerType.STATUS


@pytest.mark.parametrize(
    "change",
    [
        {"guidance": "A signed budget line."},
        {"answer_type": AnswerType.TEXT},
    ],
)
def test_changing_guidance_or_answer_type_bumps_the_version(bant_criteria, change):
    budget = bant_criteria["budget"]
    for field, value in change.items():
        setattr(budget, field, value)
    budget.save()

    assert Criterion.objects.get(pk=budget.pk).version == 2
    assert budget.revisions.count() == 1


def test_changing_choices_bumps_the_version_and_keeps_the_old_choices(crit):
    size = crit["size"]
    size.choices = ["1-100", "101+"]
    size.save()

    assert Criterion.objects.get(pk=size.pk).version == 2
    assert size.revisions.get().choices == ["1-50", "51-500", "500+"]


def test_weight_required_and_position_changes_do_not_bump_the_version(bant_criteria):
    budget = bant_criteria["budget"]
    budget.weight = 40
    budget.required_for_handoff = False
    budget.position = 99
    budget.save()

    assert Criterion.objects.get(pk=budget.pk).version == 1
    assert not CriterionRevision.objects.exists()


def test_saving_a_stale_instance_bumps_from_the_stored_version(bant_criteria):
    first = bant_criteria["budget"]
    second = Criterion.objects.get(pk=first.pk)
    first.question = "Reworded once?"
    first.save()

    second.question = "Reworded twice?"
    second.save()

    stored = Criterion.objects.get(pk=first.pk)
    assert (stored.version, stored.question) == (3, "Reworded twice?")
    assert list(stored.revisions.values_list("version", "question")) == [(2, "Reworded once?"), (1, OLD_QUESTION)]


def test_old_answers_keep_their_wording_and_show_as_stale(alices_lead, alice, bant_criteria):
    budget = bant_criteria["budget"]
    answer = record_answer(
        alices_lead, criterion=budget, by=alice, status="confirmed", evidence="CFO confirmed the budget line."
    )

    budget.question = "Has a budget owner confirmed funds for this project?"
    budget.save()

    answer.refresh_from_db()
    assert (answer.criterion_version, answer.question_text) == (1, OLD_QUESTION)
    item = next(i for i in completeness(alices_lead).items if i.criterion.pk == budget.pk)
    assert item.answer == answer
    assert item.is_stale
    assert item.credit == 1.0  # still counts; the badge asks the rep to re-check

    fresh = record_answer(
        alices_lead, criterion=Criterion.objects.get(pk=budget.pk), by=alice, status="confirmed",
        evidence="Budget owner Jo Park confirmed funds by email.",
    )
    assert (fresh.criterion_version, fresh.question_text) == (2, budget.question)
    item = next(i for i in completeness(alices_lead).items if i.criterion.pk == budget.pk)
    assert not item.is_stale
    assert item.earlier == [answer]
