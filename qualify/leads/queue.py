"""The SDR queue query: scope, filters, ranking and keyset pagination.

Ordering is (score DESC, id DESC), where `score` is the displayed score *now*: scoring rewrites
it at the moment decay changes its integer value (qualify/scoring/decay.py), and the first query
below applies any change that fell due since the last sweep. Pages continue from the last row seen
("after=score:id"), written as one row comparison `(score, id) < (s, pk)` so the index seeks
straight to the cursor: page 1,000 costs what page 1 costs. The partial indexes lead_owner_queue,
lead_team_pool and lead_team_open serve the three scopes; bench/queue.py measures them at
1,000,000 leads. No COUNT(*): an exact total over a million rows costs more than the page itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import F, FloatField, Func, IntegerField, Q, Value
from django.db.models.lookups import LessThan
from django.http import QueryDict

from accounts.models import Role


from .panels import before_listing
from .filters import LeadFilter
from .models import PREDICTED_RANK, SDR_STAGES, OPEN_STAGES, Lead

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

# Orderings the queue offers; each has partial indexes per scope (leads/models.py) and a keyset.
SORTS = {"score": "Score", "predicted": "Predicted conversion"}

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
    sort: str = "score"

    def sort_queries(self) -> dict[str, str]:
        """The query string of this list sorted each way (from the first page)."""
        out = {}
        for key in SORTS:
            params = self.params.copy()
            params["sort"] = key
            out[key] = params.urlencode()
        return out

    def next_query(self) -> str:
        params = self.params.copy()
        params["after"] = self.next_after or ""
        return params.urlencode()


class _Row(Func):
    """A SQL row constructor: `ROW(a, b) < ROW(x, y)` compares lexicographically and is a single
    index condition on (a DESC, b DESC). The equivalent `a < x OR (a = x AND b < y)` is not: Postgres
    reads the queue from its top and filters row by row (measured at 1M leads, cursor ~3,500 rows
    down one SDR's queue: 92 ms against 0.7 ms)."""

    function = "ROW"
    output_field = IntegerField()


def _parse_after(value: str, sort: str = "score") -> tuple[float, int] | None:
    try:
        key, pk = value.split(":")
        parsed = float(key) if sort == "predicted" else int(key)
        return (parsed, int(pk)) if parsed == parsed else None  # NaN is no cursor
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
    before_listing()
    params = _without_blanks(params)
    scopes = queue_scopes(user)
    scope = params.get("scope") or default_scope(user)
    if scope not in scopes:
        scope = "mine"
    if scope == "mine":
        mine = Q(owner=user) | Q(ae=user) if user.has_role(Role.AE) else Q(owner=user)
        # For SDRs, AEs and admins "mine" lies inside what access.visible_leads_filter grants them.
        # Restating that rule as `owner = me OR (my team's pool)` next to `owner = me` steers the
        # planner from the lead_owner_queue index scan to a bitmap scan and sort of the whole queue
        # on deep and filtered pages; other roles keep the rule.
        implied = user.is_active and (user.is_admin or user.has_role(Role.SDR, Role.AE))
        qs = (Lead.objects.all() if implied else Lead.objects.visible_to(user)).filter(mine)
    elif scope == "pool":
        # Only the team's SDRs and managers (and admins) get this scope (queue_scopes), and the
        # team's pool is visible to all of them, so this filter is already the access rule.
        qs = Lead.objects.filter(owner__isnull=True) if user.is_active else Lead.objects.none()
        if not user.is_admin:
            qs = qs.filter(team_id__in=user.team_ids(Role.SDR, Role.MANAGER))
    else:
        qs = Lead.objects.visible_to(user)
    filters = LeadFilter(params, queryset=qs)
    qs = filters.qs if filters.is_valid() else qs.none()
    if not params.getlist("stage"):
        # SDRs work New/MQL/Working; AEs and managers see the whole open funnel by default.
        qs = qs.filter(stage__in=SDR_STAGES if scope in ("mine", "pool") and not user.has_role(Role.AE) else OPEN_STAGES)
    sort = params.get("sort") if params.get("sort") in SORTS else "score"
    # Predicted: unpredicted leads rank at -1 (last); same row-comparison keyset on its indexes.
    key = PREDICTED_RANK if sort == "predicted" else F("score")
    if after := _parse_after(params.get("after", ""), sort):
        value, pk = after
        cursor = Value(value, output_field=FloatField()) if sort == "predicted" else Value(value)
        qs = qs.filter(LessThan(_Row(key, F("id")), _Row(cursor, Value(pk))))
    try:
        size = max(1, min(int(params.get("per", PAGE_SIZE)), MAX_PAGE_SIZE))
    except ValueError:
        size = PAGE_SIZE
    rows = list(qs.select_related("account", "owner").order_by(key.desc(), "-id")[: size + 1])
    has_more = len(rows) > size
    rows = rows[:size]
    next_after = None
    if has_more:
        last = rows[-1]
        rank = (last.predicted if last.predicted is not None else -1.0) if sort == "predicted" else last.score
        next_after = f"{rank!r}:{last.pk}"
    clean = params.copy()
    clean.pop("after", None)
    clean["scope"] = scope
    if sort != "score":
        clean["sort"] = sort
    return QueuePage(leads=rows, scope=scope, filters=filters, next_after=next_after, page_size=size, params=clean,
                     sort=sort)
