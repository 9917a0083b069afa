"""Which framework applies to a lead: the one rule, written once.

The first active framework, by position, whose teams include the lead's team (or that names no
teams) and whose segments include the lead's account segment (or that names none). The default
framework (BANT as shipped) is the catch-all: it is tried after every other framework, so an
admin who gives MEDDIC to the Enterprise segment does not also have to re-number BANT.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q

from qualify.ids import given_id
from qualify.leads.models import Segment

from .models import Criterion, Framework

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead


def active_frameworks() -> list[Framework]:
    """Active frameworks in position order, each with `team_id_list`. One query; the table is small."""
    return list(
        Framework.objects.filter(active=True)
        .annotate(team_id_list=ArrayAgg("teams__id", filter=Q(teams__isnull=False), default=[]))
        .order_by("position", "id")
    )


def visible_frameworks(user: User):
    """The frameworks a user may read (the API): those naming no teams, which apply to every team,
    and those naming one of the user's teams; admins read all. Another team's is a 404, as the
    definition page shows only the chosen team's. Subqueries, not a join: no duplicate rows."""
    if user.is_admin:
        return Framework.objects.all()
    links = Framework.teams.through.objects.values("framework_id")
    return Framework.objects.filter(Q(pk__in=links.filter(team_id__in=user.team_ids())) | ~Q(pk__in=links))


def visible_criterion(user: User, raw: object) -> Criterion | None:
    """The criterion a form or body names, if it belongs to a framework `user` reads; else None, so
    another team's criterion answers as a missing one ("١٢" is not 12: qualify/ids.py). One query."""
    pk = given_id(raw)
    if pk is None:
        return None
    return Criterion.objects.filter(pk=pk, framework__in=visible_frameworks(user)).first()


def applies_to(framework: Framework, *, team_id: int | None, segment: str) -> bool:
    teams = framework.team_id_list
    return (not teams or team_id in teams) and (not framework.segments or segment in framework.segments)


def choose_framework(frameworks: Iterable[Framework], *, team_id: int | None, segment: str) -> Framework | None:
    """Pure choice among `active_frameworks()` (already ordered by position)."""
    frameworks = list(frameworks)
    specific = (f for f in frameworks if not f.is_default and applies_to(f, team_id=team_id, segment=segment))
    return next(specific, None) or next((f for f in frameworks if f.is_default), None)


def framework_for(lead: Lead) -> Framework | None:
    """The framework that applies to `lead`. One query (plus one if `lead.account` isn't loaded)."""
    return choose_framework(active_frameworks(), team_id=lead.team_id, segment=lead.account.segment)


def frameworks_for_team(team_id: int | None) -> list[tuple[Framework, list[str]]]:
    """For the published definition: each framework that applies to some lead of `team_id`, with
    the labels of the account segments it covers there (blank segment shown as 'Unsegmented')."""
    frameworks = active_frameworks()
    covered: dict[int, tuple[Framework, list[str]]] = {}
    for segment, label in [*Segment.choices, ("", "Unsegmented")]:
        chosen = choose_framework(frameworks, team_id=team_id, segment=segment)
        if chosen is not None:
            covered.setdefault(chosen.pk, (chosen, []))[1].append(label)
    # Same order as they are tried: specific frameworks first, the catch-all last.
    return sorted(covered.values(), key=lambda pair: (pair[0].is_default, pair[0].position, pair[0].pk))
