"""Who reads calibration, over whose leads, and who may accept a suggestion.

Managers read the figures of their own teams' closed leads; RevOps admins every team's. SDRs, AEs
and marketing get 403 (README, Security). A team outside one's scope is a 404, as for leads. Only
RevOps accepts a suggestion, since it changes a scoring model every team shares.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Role, Team
from qualify.errors import DomainError
from qualify.ids import posted_id
from qualify.scoring.models import ScoringModel

from .figures import Scope, models_with_versions, scope_for

if TYPE_CHECKING:
    from accounts.models import User

MAX_DAYS = 3650


def calibration_teams(user: User) -> list[Team]:
    """Teams whose closed leads `user` may read here; PermissionDenied when none."""
    if user.is_authenticated and user.is_active and user.is_admin:
        return list(Team.objects.order_by("name"))
    ids = user.team_ids(Role.MANAGER) if user.is_authenticated else set()
    if not ids:
        raise PermissionDenied("Calibration is for managers and RevOps.")
    return list(Team.objects.filter(pk__in=ids).order_by("name"))


def check_can_accept(user: User) -> None:
    if not (user.is_authenticated and user.is_active and user.is_admin):
        raise PermissionDenied("Only RevOps accepts suggestions into a scoring model's draft.")


@dataclass
class Request:
    """What a page or API call asked for, checked: the scope and what to show around it."""

    scope: Scope
    teams: list[Team]
    team: Team | None
    models: list[ScoringModel]


def _int(params: Mapping[str, str], name: str, low: int, high: int) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    value = posted_id(raw)
    if value is None or not low <= value <= high:
        raise DomainError(f"'{name}' must be a whole number from {low} to {high}; got '{raw[:20]}'.", field=name)
    return value


def read_request(user: User, params: Mapping[str, str]) -> Request:
    """The scope from ?model=&days=&team=. PermissionDenied for roles without access, Http404 for
    a team outside the user's scope or an unknown model, DomainError for malformed numbers."""
    teams = calibration_teams(user)
    models = models_with_versions()
    days = _int(params, "days", 1, MAX_DAYS)
    model_id = _int(params, "model", 1, 2**31 - 1)
    team_id = _int(params, "team", 1, 2**31 - 1)
    if model_id is None:
        if not models:
            raise Http404("No scoring model has been published yet.")
        model = models[0]
    else:
        model = next((m for m in models if m.pk == model_id), None)
        if model is None:
            raise Http404("No such published scoring model.")
    team = None
    if team_id is not None:
        team = next((t for t in teams if t.pk == team_id), None)
        if team is None:
            raise Http404("No such team.")
    ids = (team.pk,) if team else tuple(t.pk for t in teams)
    return Request(scope_for(model, ids, days), teams, team, models)
