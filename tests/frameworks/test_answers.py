import pytest
from django.db import ProgrammingError, transaction

from qualify.errors import DomainError
from qualify.frameworks.answers import record_answer
from qualify.frameworks.models import Answer
from tests.frameworks.factories import CriterionFactory, FrameworkFactory

EVIDENCE = "CFO said on the 3 May call that the budget is approved."


def test_confirmed_status_answer_is_recorded_with_a_snapshot_of_the_question(alices_lead, alice, crit):
    answer = record_answer(alices_lead, criterion=crit["pain"], by=alice, status="confirmed", evidence=EVIDENCE)

    assert answer.status == "confirmed"
    assert answer.value == ""
    assert answer.evidence == EVIDENCE
    assert answer.author == alice
    assert answer.criterion_version == 1
    assert answer.question_text == crit["pain"].question
    assert list(alices_lead.answers.all()) == [answer]


@pytest.mark.parametrize(
    ("key", "kwargs", "field"),
    [
        ("pain", {"status": ""}, "status"),
        ("pain", {"status": "maybe"}, "status"),
        ("pain", {"status": "unknown", "value": "yes"}, "value"),
        ("pain", {"status": "confirmed", "evidence": ""}, "evidence"),
        ("pain", {"status": "confirmed", "evidence": "   yes    "}, "evidence"),
        ("pain", {"status": "partial", "evidence": ""}, "evidence"),
        ("size", {"value": "huge"}, "value"),
        ("size", {"value": ""}, "value"),
        ("size", {"value": "1-50", "status": "confirmed"}, "status"),
        ("seats", {"value": "twelve"}, "value"),
        ("seats", {"value": ""}, "value"),
        ("seats", {"value": "NaN"}, "value"),
        ("seats", {"value": "Infinity"}, "value"),
        ("notes", {"value": "   "}, "value"),
        # One limit for every free text a person writes (leads.models.clean_note).
        ("pain", {"status": "confirmed", "evidence": "Said so on the call. " * 1000}, "evidence"),
        ("notes", {"value": "n" * 5001}, "value"),
    ],
)
def test_bad_answer_is_refused_and_changes_nothing(alices_lead, alice, crit, key, kwargs, field):
    with pytest.raises(DomainError) as refused:
        record_answer(alices_lead, criterion=crit[key], by=alice, **kwargs)

    assert refused.value.field == field
    assert refused.value.message
    assert Answer.objects.count() == 0


def test_unknown_and_negative_need_no_evidence(alices_lead, alice, crit):
    record_answer(alices_lead, criterion=crit["pain"], by=alice, status="unknown")
    record_answer(alices_lead, criterion=crit["pain"], by=alice, status="negative")

    assert Answer.objects.count() == 2


def test_choice_number_and_text_answers_store_their_value(alices_lead, alice, crit):
    size = record_answer(alices_lead, criterion=crit["size"], by=alice, value="51-500")
    seats = record_answer(alices_lead, criterion=crit["seats"], by=alice, value=" 1e3 ")
    notes = record_answer(alices_lead, criterion=crit["notes"], by=alice, value="  Runs on spreadsheets.  ")

    assert (size.status, size.value) == ("", "51-500")
    assert seats.value == "1000"
    assert notes.value == "Runs on spreadsheets."


def test_decimal_numbers_are_kept(alices_lead, alice, crit):
    assert record_answer(alices_lead, criterion=crit["seats"], by=alice, value="12.50").value == "12.5"
    assert record_answer(alices_lead, criterion=crit["seats"], by=alice, value="-3").value == "-3"


@pytest.mark.parametrize("value", ["1e1000000", "1e999999", "1e-999999", "1e6000", "-1e40"])
def test_a_number_too_large_or_too_small_to_spell_is_refused(alices_lead, alice, crit, value):
    # Stored in its plain spelling ("1e3" is "1000"): 1e999999 would be a million digits, and
    # 1e1000000 overflows the decimal context (it was a 500).
    with pytest.raises(DomainError) as refused:
        record_answer(alices_lead, criterion=crit["seats"], by=alice, value=value)

    assert refused.value.field == "value"
    assert Answer.objects.count() == 0


def test_zero_and_large_ordinary_numbers_are_kept(alices_lead, alice, crit):
    assert record_answer(alices_lead, criterion=crit["seats"], by=alice, value="0e999999").value == "0"
    assert record_answer(alices_lead, criterion=crit["seats"], by=alice, value="2.5e9").value == "2500000000"


def test_criterion_of_another_framework_is_refused(alices_lead, alice, crit, bant_criteria):
    with pytest.raises(DomainError) as refused:
        record_answer(alices_lead, criterion=bant_criteria["budget"], by=alice, status="unknown")

    assert refused.value.field == "criterion"
    assert Answer.objects.count() == 0


def test_retired_criterion_is_refused(alices_lead, alice, crit):
    crit["pain"].active = False
    crit["pain"].save()

    with pytest.raises(DomainError) as refused:
        record_answer(alices_lead, criterion=crit["pain"], by=alice, status="unknown")

    assert refused.value.field == "criterion"
    assert Answer.objects.count() == 0


def test_criterion_of_a_framework_that_applies_to_other_teams_is_refused(alices_lead, alice, south):
    south_only = FrameworkFactory(position=0)
    south_only.teams.add(south)
    criterion = CriterionFactory(framework=south_only)

    with pytest.raises(DomainError):
        record_answer(alices_lead, criterion=criterion, by=alice, status="unknown")
    assert Answer.objects.count() == 0


def test_a_new_answer_supersedes_and_the_old_one_stays(alices_lead, alice, crit):
    first = record_answer(alices_lead, criterion=crit["pain"], by=alice, status="unknown")
    second = record_answer(alices_lead, criterion=crit["pain"], by=alice, status="confirmed", evidence=EVIDENCE)

    assert list(alices_lead.answers.order_by("-created_at", "-id")) == [second, first]


def test_answers_are_append_only_in_the_database(alices_lead, alice, crit):
    answer = record_answer(alices_lead, criterion=crit["pain"], by=alice, status="unknown")

    with pytest.raises(ProgrammingError), transaction.atomic():
        Answer.objects.filter(pk=answer.pk).update(status="confirmed")

    answer.refresh_from_db()
    assert answer.status == "unknown"
