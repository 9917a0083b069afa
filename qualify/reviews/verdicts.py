"""Verdicts on review items and the follow-up tasks they create: the only code that writes them."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.models import Membership
from qualify.errors import DomainError
from qualify.leads.changes import ReviewVerdict, TaskDone, publish
from qualify.leads.models import clean_note

from .access import can_close_task, can_review
from .models import FollowUpTask, RedFlag, ReviewItem, ReviewQueue, TaskKind, TaskStatus, Verdict

if TYPE_CHECKING:
    from accounts.models import User

MIN_NOTE = 10
MAX_DUE_DAYS = 90


def record_verdict(
    item: ReviewItem,
    *,
    by: User,
    verdict: str,
    flags: Iterable[RedFlag] = (),
    note: str = "",
    follow_up: str = "",
    due_on: datetime.date | None = None,
    about: str = "qualification",
) -> ReviewItem:
    """Give (or revise) the verdict on one review item, or raise DomainError and change nothing.

    False SQL and Needs follow-up need a note saying why. Needs follow-up also needs what the owner
    must do and a due date; it opens (or updates) a FollowUpTask for whoever can act on it
    (`follow_up_assignee`): the SDR who qualified the lead when the verdict is about its
    qualification (`about="qualification"`, the default), the lead's owner when it is about the
    deal (`about="deal"`). Revising a verdict away
    from Needs follow-up cancels the open task. When the last item gets its verdict the queue is
    completed. Costs about 8 queries.
    """
    note, follow_up = clean_note(note), clean_note(follow_up, "follow_up", "follow-up")
    flags = list(flags)
    if verdict not in Verdict.values:
        raise DomainError("Choose a verdict: confirmed, false SQL or needs follow-up.", field="verdict")
    if verdict != Verdict.CONFIRMED and len(note) < MIN_NOTE:
        raise DomainError(
            f"Say why in a note of at least {MIN_NOTE} characters; the rep reads it.", field="note"
        )
    today = timezone.localdate()
    if verdict == Verdict.NEEDS_FOLLOW_UP:
        if len(follow_up) < MIN_NOTE:
            raise DomainError(f"Write what the owner must do (at least {MIN_NOTE} characters).", field="follow_up")
        if due_on is None:
            raise DomainError("Give the follow-up a due date.", field="due_on")
        if not today <= due_on <= today + datetime.timedelta(days=MAX_DUE_DAYS):
            raise DomainError(f"The due date must be between today and {MAX_DUE_DAYS} days from now.", field="due_on")
    with transaction.atomic():
        current = ReviewItem.objects.select_for_update().select_related("queue", "lead").get(pk=item.pk)
        if not can_review(by, current.queue):
            raise DomainError("Only the queue's reviewer or the team's manager can give verdicts.")
        allowed = set(current.queue.plan.red_flags.values_list("pk", flat=True))
        if stray := [f for f in flags if f.pk not in allowed]:
            raise DomainError(f"'{stray[0]}' is not on this plan's checklist.", field="flags")
        if about not in ABOUT:
            raise DomainError("Say whether the follow-up is about the qualification or the deal.", field="about")
        assignee_id = follow_up_assignee(current, about)
        if verdict == Verdict.NEEDS_FOLLOW_UP and assignee_id is None:
            raise DomainError("This lead has no owner to follow up; assign it first.", field="verdict")
        now = timezone.now()
        previous = current.verdict
        current.verdict, current.note = verdict, note
        current.reviewed_by, current.reviewed_at = by, now
        current.save(update_fields=["verdict", "note", "reviewed_by", "reviewed_at"])
        current.flags.set(flags)
        _sync_task(current, by=by, follow_up=follow_up, due_on=due_on, assignee_id=assignee_id, now=now)
        # Complete the queue once nothing is left; the condition makes a racing second call a no-op.
        if not current.queue.items.filter(verdict="").exists():
            ReviewQueue.objects.filter(pk=current.queue_id, completed_at__isnull=True).update(completed_at=now)
        extra = ({"assignee_id": assignee_id, "due_on": due_on, "follow_up": follow_up, "at": now.isoformat()}
                 if verdict == Verdict.NEEDS_FOLLOW_UP else {})
        publish("review_verdict", [ReviewVerdict(current.pk, current.lead_id, previous, verdict, by.pk, note, extra)])
    for f in ReviewItem._meta.concrete_fields:
        setattr(item, f.attname, getattr(current, f.attname))
    return item


ABOUT = {"qualification": "The qualification (the SDR who qualified it follows up)",
         "deal": "The deal (the lead's owner follows up)"}


def follow_up_assignee(item: ReviewItem, about: str) -> int | None:
    """Who can act on a follow-up: for the qualification, the rep who qualified the lead (frozen on
    the item when sampled) while they are still an active member of the lead's team; otherwise,
    and for the deal, the lead's current owner (or that rep, on the same condition, when the lead
    has none; a rep who has left is never given the task). One query."""
    owner_id = item.lead.owner_id
    rep_id = item.rep_id
    if rep_id and rep_id != owner_id and (about == "qualification" or owner_id is None):
        if Membership.objects.filter(user_id=rep_id, team_id=item.lead.team_id, user__is_active=True).exists():
            return rep_id
    return owner_id


def _sync_task(item: ReviewItem, *, by: User, follow_up: str, due_on, assignee_id, now) -> None:
    task = FollowUpTask.objects.select_for_update().filter(review_item=item).first()
    if item.verdict == Verdict.NEEDS_FOLLOW_UP:
        title = f"Review follow-up: {item.lead.full_name}"
        if task is None:
            FollowUpTask.objects.create(
                kind=TaskKind.REVIEW_FOLLOW_UP, lead=item.lead, assignee_id=assignee_id, created_by=by,
                title=title, detail=follow_up, due_on=due_on, review_item=item,
            )
            return
        task.detail, task.due_on, task.status, task.assignee_id = follow_up, due_on, TaskStatus.OPEN, assignee_id
        task.closed_at, task.closed_by, task.closing_note = None, None, ""
        task.save(update_fields=["detail", "due_on", "status", "assignee", "closed_at", "closed_by", "closing_note"])
    elif task is not None and task.status == TaskStatus.OPEN:
        task.status, task.closed_at, task.closed_by = TaskStatus.CANCELLED, now, by
        task.closing_note = f"Verdict changed to {item.get_verdict_display()}."
        task.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])


def complete_task(task: FollowUpTask, *, by: User, note: str = "") -> FollowUpTask:
    """Mark an open task done. Only the assignee, the team's managers and admins may. Publishes
    `task_done` in the transaction (a re-qualification task resolves its re-qualification there)."""
    note = clean_note(note)
    with transaction.atomic():
        current = FollowUpTask.objects.select_for_update().select_related("lead").get(pk=task.pk)
        if not can_close_task(by, current):
            raise DomainError("Only the assignee or the team's manager can close this task.")
        if current.status != TaskStatus.OPEN:
            raise DomainError(f"This task is already {current.get_status_display().lower()}.")
        current.status, current.closed_at, current.closed_by = TaskStatus.DONE, timezone.now(), by
        current.closing_note = note
        current.save(update_fields=["status", "closed_at", "closed_by", "closing_note"])
        # A re-qualification task resolves its re-qualification (qualify/pipeline listens, in this transaction).
        publish("task_done", [TaskDone(current.pk, current.lead_id, current.kind, by.pk, current.closing_note)])
    for f in FollowUpTask._meta.concrete_fields:
        setattr(task, f.attname, getattr(current, f.attname))
    return task
