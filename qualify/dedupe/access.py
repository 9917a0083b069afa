"""Who works the duplicates: RevOps admins (every team) and managers (their teams). A pair of
another team is a 404, as for leads. Anyone else gets a 403 from the pages and the API, as every
role refusal (metrics, review queues, routing rules, webhooks, imports): the same answer for any
id, existing or not, so it says nothing about the pairs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from accounts.models import Role

from .models import DuplicateCandidate

if TYPE_CHECKING:
    from accounts.models import User


def can_work_duplicates(user: User) -> bool:
    return user.is_authenticated and user.is_active and (user.is_admin or user.has_role(Role.MANAGER))


def require_duplicates(user: User) -> None:
    if not can_work_duplicates(user):
        raise PermissionDenied("Duplicates are for managers and RevOps.")


def duplicate_teams(user: User) -> set[int] | None:
    """The teams whose pairs `user` works; None means every team (admins)."""
    return None if user.is_admin else user.team_ids(Role.MANAGER)


def visible_candidates(user: User) -> QuerySet[DuplicateCandidate]:
    if not can_work_duplicates(user):
        return DuplicateCandidate.objects.none()
    teams = duplicate_teams(user)
    qs = DuplicateCandidate.objects.all()
    return qs if teams is None else qs.filter(team_id__in=teams)


def access_candidate(user: User, candidate_id: int | str) -> DuplicateCandidate:
    require_duplicates(user)
    try:
        return visible_candidates(user).get(pk=int(candidate_id))
    except (DuplicateCandidate.DoesNotExist, ValueError, TypeError):
        raise Http404("No such duplicate pair.")
