"""Who may see and work review queues and follow-up tasks.

- Review queues: admins see all; a team's managers and marketing see its queues (marketing reads
  only); the plan's reviewer sees their own. Verdicts: the reviewer, the team's managers, admins.
  Reviews are not for anyone else's role (SDRs and AEs who review nothing): a 403 for any queue or
  item, existing or not, as from the list. Another team's queue is a 404, as for leads.
- Follow-up tasks: the assignee, the team's managers and admins; the assignee or a manager closes
  them. Anyone else gets a 404, as for leads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role
from qualify.ids import given_id

from .models import FollowUpTask, ReviewItem, ReviewQueue

if TYPE_CHECKING:
    from accounts.models import User


def _id(raw: int | str) -> int:
    """An id from a URL (the API's routes take any text): "١٢" is not 12 (qualify/ids.py)."""
    pk = given_id(raw)
    if pk is None:
        raise ValueError(raw)
    return pk


def _reviewer_of(user: User) -> Q:
    """The queues `user` reviews on a team they are still on: a reviewer who left the team (an SDR
    or AE may review) no longer reads its leads' answers, packets and notes, as a sender who left
    does not (handoff.access); the team's managers carry on."""
    return Q(reviewer=user, team_id__in=user.team_ids())


def can_see_reviews(user: User) -> bool:
    """Whether the Reviews pages are for this user at all (SDRs and AEs: no)."""
    return (user.is_admin or user.has_role(Role.MANAGER, Role.MARKETING)
            or ReviewQueue.objects.filter(_reviewer_of(user)).exists())


def require_reviews(user: User) -> None:
    if not can_see_reviews(user):
        raise PermissionDenied("Review queues are for managers, marketing and RevOps.")


def visible_queues(user: User) -> QuerySet[ReviewQueue]:
    if not user.is_authenticated or not user.is_active:
        return ReviewQueue.objects.none()
    if user.is_admin:
        return ReviewQueue.objects.all()
    return ReviewQueue.objects.filter(Q(team_id__in=user.team_ids(Role.MANAGER, Role.MARKETING)) | _reviewer_of(user))


def can_review(user: User, queue: ReviewQueue) -> bool:
    return (queue.reviewer_id == user.pk and queue.team_id in user.team_ids()) or user.manages(queue.team_id)


def access_queue(user: User, queue_id: int | str, *, for_write: bool = False) -> ReviewQueue:
    require_reviews(user)
    try:
        queue = visible_queues(user).select_related("plan", "team", "reviewer").get(pk=_id(queue_id))
    except (ReviewQueue.DoesNotExist, ValueError, TypeError):
        raise Http404("No such review queue.")
    if for_write and not can_review(user, queue):
        raise PermissionDenied("You can read this review queue but not give verdicts.")
    return queue


def access_item(user: User, item_id: int | str, *, for_write: bool = False) -> ReviewItem:
    require_reviews(user)
    try:
        item = (
            ReviewItem.objects.filter(queue__in=visible_queues(user))
            .select_related("queue__plan", "queue__team", "queue__reviewer", "lead__account", "lead__owner",
                            "lead__team", "rep", "reviewed_by")
            .get(pk=_id(item_id))
        )
    except (ReviewItem.DoesNotExist, ValueError, TypeError):
        raise Http404("No such review item.")
    if for_write and not can_review(user, item.queue):
        raise PermissionDenied("You can read this review but not give verdicts.")
    return item


def visible_tasks(user: User) -> QuerySet[FollowUpTask]:
    if not user.is_authenticated or not user.is_active:
        return FollowUpTask.objects.none()
    if user.is_admin:
        return FollowUpTask.objects.all()
    return FollowUpTask.objects.filter(Q(assignee=user) | Q(lead__team_id__in=user.team_ids(Role.MANAGER)))


def can_close_task(user: User, task: FollowUpTask) -> bool:
    return task.assignee_id == user.pk or user.manages(task.lead.team_id)


def access_task(user: User, task_id: int | str, *, for_write: bool = False) -> FollowUpTask:
    try:
        task = visible_tasks(user).select_related("lead", "assignee").get(pk=_id(task_id))
    except (FollowUpTask.DoesNotExist, ValueError, TypeError):
        raise Http404("No such task.")
    if for_write and not can_close_task(user, task):
        raise PermissionDenied("Only the assignee or the team's manager can close this task.")
    return task
