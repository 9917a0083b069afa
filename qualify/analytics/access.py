"""Who reads metrics, and for which teams: managers and marketing their teams, admins all.
SDRs and AEs get 403; asking for a team outside one's scope is a 404, as for leads."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, Team
from qualify.dates import query_date

from .metrics import Filters

if TYPE_CHECKING:
    from django.http import HttpRequest

    from accounts.models import User

DEFAULT_DAYS = 365


def metric_teams(user: User) -> list[Team]:
    """Teams whose metrics `user` may read; PermissionDenied when none."""
    if user.is_authenticated and user.is_active and user.is_admin:
        return list(Team.objects.order_by("name"))
    ids = user.team_ids(Role.MANAGER, Role.MARKETING) if user.is_authenticated else set()
    if not ids:
        raise PermissionDenied("Metrics are for managers, marketing and RevOps.")
    return list(Team.objects.filter(pk__in=ids).order_by("name"))


def filters_from(request: HttpRequest) -> tuple[Filters, list[Team], Team | None]:
    """The date range and team scope from ?start=&end=&team=; defaults: last 365 days, all of
    the user's teams. A team outside the user's scope is a 404."""
    teams = metric_teams(request.user)
    today = timezone.localdate()
    end = query_date(request.GET.get("end"), today)
    start = query_date(request.GET.get("start"), end - datetime.timedelta(days=DEFAULT_DAYS - 1))
    if start > end:
        start, end = end, start
    team = None
    if raw := request.GET.get("team"):
        team = next((t for t in teams if str(t.pk) == raw), None)
        if team is None:
            raise Http404("No such team.")
    ids = (team.pk,) if team else tuple(t.pk for t in teams)
    return Filters(start, end, ids), teams, team
