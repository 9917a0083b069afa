"""Who may see which SLA clocks and escalations. Pages and API ask here.

- Clocks: those of the leads the user can see (qualify.leads.access), nothing else.
- Breaches and escalations: the teams a user manages; RevOps admins see every team. Anyone else
  is refused (PermissionDenied), and another team is a 404, as if it did not exist.
- Policies: those for any team (no team set) and those of the user's teams; admins see all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from accounts.models import Role, Team
from qualify.leads.models import Lead

from .models import Clock, Escalation, SlaPolicy

if TYPE_CHECKING:
    from accounts.models import User


def visible_clocks(user: User) -> QuerySet[Clock]:
    return Clock.objects.filter(lead__in=Lead.objects.visible_to(user))


def visible_policies(user: User) -> QuerySet[SlaPolicy]:
    if user.is_admin:
        return SlaPolicy.objects.all()
    return SlaPolicy.objects.filter(Q(team__isnull=True) | Q(team_id__in=user.team_ids()))


def managed_teams(user: User) -> QuerySet[Team]:
    """The teams whose breaches `user` may review; PermissionDenied for reps and marketing."""
    if user.is_admin:
        return Team.objects.all()
    teams = user.team_ids(Role.MANAGER)
    if not teams:
        raise PermissionDenied("Breaches and escalations are for managers and RevOps.")
    return Team.objects.filter(pk__in=teams)


def managed_team(user: User, team_id: int | str) -> Team:
    """One of `user`'s managed teams by id; any other id is a 404."""
    try:
        return managed_teams(user).get(pk=int(team_id))
    except (Team.DoesNotExist, ValueError, TypeError):
        raise Http404("No such team.")


def visible_escalations(user: User) -> QuerySet[Escalation]:
    if user.is_admin:
        return Escalation.objects.all()
    return Escalation.objects.filter(team_id__in=[t.pk for t in managed_teams(user)])
