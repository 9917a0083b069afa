"""The SDR queue query: scope, filters, ranking and keyset pagination.

Ordering is (score DESC, id DESC), where `score` is the displayed score *now*: scoring rewrites
it at the moment decay changes its integer value (qualify/scoring/decay.py), and the first query
below applies any change that fell due since the last sweep. Pages continue from the last row seen
("after=score:id"), so page 1,000 costs what page 1 costs; the partial indexes lead_owner_queue and
lead_team_pool serve the two common scopes. No COUNT(*): an exact total over a million rows costs more than the
page itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Q
from django.http import QueryDict

from accounts.models import Role

from qualify.scoring.decay import refresh_due

from .filters import LeadFilter
from .models import SDR_STAGES, OPEN_STAGES, Lead

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

SCOPES = {
    "mine": "My leads",
    "pool": "Team pool",
    "team": "Whole team",
}


def queue_scopes(user: User) -> dict[str, str]:
    scopes = {"mine": SCOPES["mine"]}
    if user.team_ids(Role.SDR, Role.MANAGER) or user.is_admin:
        scopes["pool"] = SCOPES["pool"]
    if user.team_ids(Role.MANAGER, Role.MARKETING) or user.is_admin:
        scopes["team"] = SCOPES["team"]
    return scopes


def default_scope(user: User) -> str:
    return "team" if (user.has_role(Role.MANAGER) or user.is_admin) and not user.has_role(Role.SDR) else "mine"


@dataclass
class QueuePage:
    leads: list[Lead]
    scope: str
    filters: LeadFilter
    next_after: str | None
    page_size: int
    params: QueryDict = field(default_factory=QueryDict)

    def next_query(self) -> str:
        params = self.params.copy()
        params["after"] = self.next_after or ""
        return params.urlencode()


def _parse_after(value: str) -> tuple[int, int] | None:
    try:
        score, pk = value.split(":")
        return int(score), int(pk)
    except (ValueError, AttributeError):
        return None


def _without_blanks(params: QueryDict) -> QueryDict:
    """Drop empty values: the filter form submits every select, "Any ..." as `stage=`, which means
    "no filter" here, not an invalid choice (that emptied the list) or a stage list (that skipped
    the open-stages default)."""
    clean = QueryDict(mutable=True)
    for key in params:
        if values := [v for v in params.getlist(key) if v.strip()]:
            clean.setlist(key, values)
    return clean


def load_queue(user: User, params: QueryDict) -> QueuePage:
    """One SQL query for the rows (account joined), whatever the page depth or data size, after
    one UPDATE that brings decayed scores due by now up to date (usually none)."""
    refresh_due()
    params = _without_blanks(params)
    scopes = queue_scopes(user)
    scope = params.get("scope") or default_scope(user)
    if scope not in scopes:
        scope = "mine"
    qs = Lead.objects.visible_to(user)
    if scope == "mine":
        qs = qs.filter(Q(owner=user) | Q(ae=user)) if user.has_role(Role.AE) else qs.filter(owner=user)
    elif scope == "pool":
        qs = qs.filter(owner__isnull=True)
        if not user.is_admin:
            qs = qs.filter(team_id__in=user.team_ids(Role.SDR, Role.MANAGER))
    filters = LeadFilter(params, queryset=qs)
    qs = filters.qs if filters.is_valid() else qs.none()
    if not params.getlist("stage"):
        # SDRs work New/MQL/Working; AEs and managers see the whole open funnel by default.
        qs = qs.filter(stage__in=SDR_STAGES if scope in ("mine", "pool") and not user.has_role(Role.AE) else OPEN_STAGES)
    if after := _parse_after(params.get("after", "")):
        score, pk = after
        qs = qs.filter(Q(score__lt=score) | Q(score=score, id__lt=pk))
    try:
        size = max(1, min(int(params.get("per", PAGE_SIZE)), MAX_PAGE_SIZE))
    except ValueError:
        size = PAGE_SIZE
    rows = list(qs.select_related("account", "owner").order_by("-score", "-id")[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_after = f"{rows[-1].score}:{rows[-1].pk}" if has_more else None
    clean = params.copy()
    clean.pop("after", None)
    clean["scope"] = scope
    return QueuePage(leads=rows, scope=scope, filters=filters, next_after=next_after, page_size=size, params=clean)
