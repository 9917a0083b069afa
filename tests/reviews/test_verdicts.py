import datetime

import pytest
from django.utils import timezone

from qualify.errors import DomainError
from qualify.reviews.models import FollowUpTask, RedFlag, ReviewItem, TaskStatus, Verdict
from qualify.reviews.verdicts import complete_task, record_verdict


def first_item(queue) -> ReviewItem:
    return queue.items.select_related("lead").order_by("position").first()


def test_confirmed_verdict_records_who_when_and_flags(queue, maria, flags):
    item = first_item(queue)
    record_verdict(item, by=maria, verdict=Verdict.CONFIRMED, flags=[flags["No dated next step"]])

    item.refresh_from_db()
    assert item.verdict == Verdict.CONFIRMED
    assert item.reviewed_by == maria and item.reviewed_at is not None
    assert list(item.flags.all()) == [flags["No dated next step"]]
    assert not FollowUpTask.objects.exists()


def test_false_sql_without_a_note_changes_nothing(queue, maria):
    item = first_item(queue)
    with pytest.raises(DomainError, match="note"):
        record_verdict(item, by=maria, verdict=Verdict.FALSE_SQL, note="meh")
    item.refresh_from_db()
    assert item.verdict == "" and item.reviewed_at is None


def test_unknown_verdict_is_refused(queue, maria):
    with pytest.raises(DomainError, match="Choose a verdict"):
        record_verdict(first_item(queue), by=maria, verdict="maybe")


def test_needs_follow_up_about_the_deal_gives_the_owner_a_dated_task(queue, maria, erin):
    item = first_item(queue)
    due = timezone.localdate() + datetime.timedelta(days=5)
    record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No sponsor named anywhere",
                   follow_up="Find the economic buyer and book a call", due_on=due, about="deal")

    task = FollowUpTask.objects.get()
    assert task.assignee == erin  # the lead's owner now (the AE who accepted it)
    assert task.due_on == due and task.status == TaskStatus.OPEN
    assert task.review_item == item and task.created_by == maria
    assert "economic buyer" in task.detail


@pytest.mark.parametrize(
    ("follow_up", "due_days", "message"),
    [("", 3, "what the owner must do"), ("Call the CFO this week", None, "due date"), ("Call the CFO this week", -1, "between today")],
)
def test_needs_follow_up_without_task_or_good_date_changes_nothing(queue, maria, follow_up, due_days, message):
    item = first_item(queue)
    due = None if due_days is None else timezone.localdate() + datetime.timedelta(days=due_days)
    with pytest.raises(DomainError, match=message):
        record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No sponsor named", follow_up=follow_up, due_on=due)
    item.refresh_from_db()
    assert item.verdict == ""
    assert not FollowUpTask.objects.exists()


def test_revising_away_from_follow_up_cancels_the_open_task(queue, maria):
    item = first_item(queue)
    record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="No sponsor named anywhere",
                   follow_up="Find the economic buyer", due_on=timezone.localdate())
    record_verdict(item, by=maria, verdict=Verdict.CONFIRMED)

    task = FollowUpTask.objects.get()
    assert task.status == TaskStatus.CANCELLED
    assert "Confirmed" in task.closing_note


def test_flag_not_on_the_plan_checklist_is_refused(queue, maria, plan, flags):
    plan.red_flags.remove(flags["No sponsor"])
    with pytest.raises(DomainError, match="not on this plan"):
        record_verdict(first_item(queue), by=maria, verdict=Verdict.CONFIRMED, flags=[flags["No sponsor"]])


def test_only_reviewer_or_manager_may_give_verdicts(queue, alice, mark):
    for who in (alice, mark):
        with pytest.raises(DomainError, match="reviewer"):
            record_verdict(first_item(queue), by=who, verdict=Verdict.CONFIRMED)


def test_last_verdict_completes_the_queue(queue, maria):
    items = list(queue.items.select_related("lead"))
    for item in items[:-1]:
        record_verdict(item, by=maria, verdict=Verdict.CONFIRMED)
    queue.refresh_from_db()
    assert queue.completed_at is None
    record_verdict(items[-1], by=maria, verdict=Verdict.FALSE_SQL, note="No concrete problem at all")
    queue.refresh_from_db()
    assert queue.completed_at is not None


def test_owner_completes_the_task_once(queue, maria, erin, bob):
    item = first_item(queue)
    record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="Next step has no date",
                   follow_up="Put a date on the next step", due_on=timezone.localdate(), about="deal")
    task = FollowUpTask.objects.get()
    with pytest.raises(DomainError, match="assignee"):
        complete_task(task, by=bob)
    complete_task(task, by=erin, note="Booked for Tuesday")
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.closed_by == erin and task.closing_note == "Booked for Tuesday"
    with pytest.raises(DomainError, match="already done"):
        complete_task(task, by=erin)


def test_notes_over_the_limit_are_refused_and_change_nothing(queue, maria, erin):
    """A verdict's note and follow-up and a task's closing note were stored at any length (1 MB)."""
    item = first_item(queue)
    long = "N" * 6900
    for kwargs, field in (({"note": long}, "note"), ({"note": "Next step has no date", "follow_up": long}, "follow_up")):
        with pytest.raises(DomainError, match="too long") as refused:
            record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, due_on=timezone.localdate(),
                           about="deal", **{"follow_up": "Put a date on it", **kwargs})
        assert refused.value.field == field
    item.refresh_from_db()
    assert item.verdict == "" and not FollowUpTask.objects.exists()
    record_verdict(item, by=maria, verdict=Verdict.NEEDS_FOLLOW_UP, note="Next step has no date",
                   follow_up="Put a date on the next step", due_on=timezone.localdate(), about="deal")
    task = FollowUpTask.objects.get()
    with pytest.raises(DomainError, match="The note is too long: 6,900 characters; keep it to 5,000."):
        complete_task(task, by=erin, note=long)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN and task.closing_note == ""


def test_retired_flags_stay_on_old_reviews(queue, maria, flags):
    item = first_item(queue)
    record_verdict(item, by=maria, verdict=Verdict.CONFIRMED, flags=[flags["No budget conversation"]])
    RedFlag.objects.filter(name="No budget conversation").update(active=False)
    assert list(item.flags.values_list("name", flat=True)) == ["No budget conversation"]
