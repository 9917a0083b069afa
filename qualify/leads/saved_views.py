"""Saved queue views: who sees which, and the one way to create, change and delete them.

A personal view belongs to its creator alone. A team view is shared by a manager of that team
(or an admin) with everyone on it; it is invisible outside the team, and an id from another team
answers 404 like an id that never existed. The query string is reduced to the queue's own
parameters (SAVED_PARAMS and the property filters, `prop.<key>`), so a view cannot carry a
cursor, a CSRF token or anything else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404, QueryDict

from accounts.models import Team
from qualify.errors import DomainError

from .models import SavedView
from .properties import FILTER_PREFIX

if TYPE_CHECKING:
    from accounts.models import User

SAVED_PARAMS = ("scope", "q", "stage", "source", "segment", "sla", "owner", "sort", "dir", "per")
# SavedView.query's length.
MAX_QUERY = 1000


def saved_views_for(user: User) -> QuerySet[SavedView]:
    """The user's own personal views and the views shared with their teams. One query."""
    return SavedView.objects.filter(
        Q(team__isnull=True, created_by=user) | Q(team_id__in=user.team_ids())
    ).select_related("team").order_by("team_id", "name", "id") if user.is_authenticated else SavedView.objects.none()


def can_change_view(user: User, view: SavedView) -> bool:
    if view.team_id is None:
        return view.created_by_id == user.pk
    return user.manages(view.team_id)


def access_view(user: User, view_id: int, *, for_write: bool = False) -> SavedView:
    """The view if the user may see it, else 404 (another team's view does not exist for them);
    PermissionDenied when they may use it but not change it."""
    view = saved_views_for(user).filter(pk=view_id).first()
    if view is None:
        raise Http404("No such view.")
    if for_write and not can_change_view(user, view):
        raise PermissionDenied("Only the team's managers can change a team view.")
    return view


def clean_query(params: QueryDict) -> str:
    """The queue's own parameters of `params`, each value once, in a stable order."""
    clean = QueryDict(mutable=True)
    keys = [*SAVED_PARAMS, *sorted(k for k in params if k.startswith(FILTER_PREFIX))]
    for key in keys:
        if values := list(dict.fromkeys(v for v in params.getlist(key) if v.strip())):
            clean.setlist(key, values)
    return clean.urlencode()


def _name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the view a name.", field="name")
    if len(name) > 80:
        raise DomainError(f"The name is too long: {len(name)} characters; keep it to 80.", field="name")
    return name


def _team_for(user: User, team_id: int | None) -> int | None:
    """A team the user manages. An admin manages every team, so whether it exists is asked too:
    an unknown id failed its foreign key on commit (said as a name clash) or, past bigint, was a 500."""
    if team_id is None:
        return None
    if not user.manages(team_id) or not Team.objects.filter(pk=team_id).exists():
        raise DomainError("Only a manager of the team can share a view with it.", field="team")
    return team_id


def save_view(user: User, *, name: str, params: QueryDict, team_id: int | None = None,
              view: SavedView | None = None) -> SavedView:
    """Create a view, or rename / re-point / re-share `view` (already access-checked for write)."""
    name, team_id = _name(name), _team_for(user, team_id)
    view = view or SavedView(created_by=user)
    query = clean_query(params)
    if len(query) > MAX_QUERY:
        raise DomainError(f"These filters are too long to save: {len(query):,} characters in the address; "
                          f"keep it to {MAX_QUERY:,} (a shorter search, fewer values).", field="query")
    view.name, view.query, view.team_id = name, query, team_id
    try:
        with transaction.atomic():
            view.save()
    except IntegrityError:
        raise DomainError(f"There is already a view called “{name}” there; pick another name.", field="name")
    return view


def delete_view(view: SavedView) -> None:
    view.delete()
