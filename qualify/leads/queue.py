"""The SDR queue query: scope, filters, sort, keyset pagination and a total that stays cheap.

Every sort is one row of SORTS: a non-null sort key, its default direction, how a cursor value is
read back, and the index that serves it. Ties break by id (the lead's, or for the SLA sort the
clock's) in the same direction, so a page
continues from the last row seen ("after=<key>:<id>") with one row comparison `(key, id) < (k, pk)`
(or `>` ascending): the index seeks straight to the cursor and page 1,000 costs what page 1 costs.
`score` is the displayed score *now*: scoring rewrites it when decay changes its integer value
(qualify/scoring/decay.py), and the first query below applies any change that fell due since the
last sweep. bench/queue.py measures every sort and filter at 1,000,000 leads.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connection, transaction
from django.db.models import DateTimeField, Expression, F, Field, FloatField, Func, IntegerField, Q, Value
from django.db.models.lookups import GreaterThan, LessThan
from django.http import QueryDict

from accounts.models import Role

from .filters import LeadFilter
from .models import LAST_TOUCH_KEY, OPEN_STAGES, PREDICTED_RANK, SDR_STAGES, STAGE_RANK, Lead
from .panels import before_listing, queue_filter, queue_sort_key

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Counting stops here: "10,000+" says enough, and an exact count of a manager's 460,000 open
# leads would cost more than the page itself.
COUNT_CAP = 10_000
# A capped count that would take longer than this (a rare search over a whole team) gives way to
# the planner's estimate, shown as "about N".
COUNT_BUDGET_MS = 30
# Filters whose planner estimate is trusted before counting (column statistics on the lead and its
# account): when it says at least ESTIMATE_FIRST_OVER leads, the count could say no more than
# "10,000+" and would read COUNT_CAP + 1 rows to say it (a manager's `source=partner`: 217,000 rows
# read, about 36 ms at 1M leads; one rep's 12,500 open leads, 25-30 ms), so the estimate answers at
# once. The 20 % above the cap covers the estimate's error on such columns. A search, a property
# or an SLA state keeps the count: the planner can be wrong by tens of times there.
ESTIMATED_FILTERS = frozenset({"stage", "source", "segment", "owner", "team"})
ESTIMATE_FIRST_OVER = COUNT_CAP + COUNT_CAP // 5

# Columns no queue row reads (leads/queue_rows.jinja, views._prepare_rows, the concepts'
# decorate_queue_rows): left out of the page's statement, so its 51 rows neither convert nor keep
# them (among them two JSON documents and a dozen dates a row, and the owner's password hash).
# A row that read one would cost a query a row; the queue's query-count tests would fail.
ROW_DEFERRED = (
    "email", "phone", "seniority", "department", "persona", "campaign", "partner_name", "partner_contact", "external_id",
    "stage_changed_at", "recycle_on", "score_watermark", "score_computed_at",
    "score_changes_at", "predicted_version", "updated_at", "properties",
    "account__domain", "account__industry", "account__employee_count", "account__revenue_band", "account__country",
    "account__team_id", "account__owner_id", "account__created_at", "account__properties",
    "owner__password", "owner__last_login", "owner__is_superuser", "owner__email", "owner__is_staff",
    "owner__date_joined", "owner__out_of_office_from", "owner__out_of_office_until",
)

SCOPES = {
    "mine": "My leads",
    "pool": "Team pool",
    "team": "Whole team",
}


def _datetime(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("a cursor instant carries its offset")
    return value


@dataclass(frozen=True)
class Sort:
    """One way to order the queue. `key` builds a non-null expression (NULLs would break the row
    comparison of the cursor); `only` (optional) keeps the rows the key means something for, and
    `note` says so on the page."""

    label: str
    key: Callable[[], Expression]
    parse: Callable[[str], object]
    output: Callable[[], Field]
    descending: bool
    index: str
    only: Callable[[], Q] | None = None
    note: str = ""
    # The tie-break, when not the lead's id: a unique column on the joined side lets the cursor's
    # row comparison seek that side's index (the SLA sort: the clock's (due_at, id)).
    tie: Callable[[], Expression] | None = None
    # (filter, value) of panels.QUEUE_FILTERS keeping the same leads as `only`, cheaper to count
    # for a whole team, whose leads far outnumber its running clocks (the SLA sort: a team's
    # running clocks as an id array, 31-35 ms of SQL at 1M leads against 60-69 ms for the join
    # and its one-clock-a-lead anti-join, which hashes the team's 460,000 open leads). Not for
    # the pool: its 63,000 leads are cheaper to scan than the team's 7,800 clocks are to probe.
    count_by: tuple[str, str] | None = None


# name → sort. Indexes (team, key, id) WHERE stage IN open stages serve the manager's whole team
# and the team pool (a subset they filter); (owner, key, id) WHERE stage IN SDR stages serve an
# SDR's own queue. Each index here is written on every lead write
# that is not HOT, i.e. every score change: docs/benchmarks.md (SDR queue, Scoring) gives what each costs.
SORTS: dict[str, Sort] = {
    "score": Sort("Score", lambda: F("score"), int, IntegerField, True,
                  "lead_owner_queue, lead_team_pool, lead_team_open"),
    # Predicted conversion: leads not predicted yet rank at -1 (last), so the key is never NULL.
    "predicted": Sort("Predicted", lambda: PREDICTED_RANK, float, FloatField, True,
                      "lead_owner_predicted, lead_pool_predicted, lead_open_predicted"),
    "last_touch": Sort("Last touch", lambda: LAST_TOUCH_KEY, _datetime, DateTimeField, False, "lead_owner_touch, lead_team_touch"),
    "created": Sort("Created", lambda: F("created_at"), _datetime, DateTimeField, True, "lead_owner_created, lead_team_created"),
    "stage": Sort("Stage", lambda: STAGE_RANK, int, IntegerField, False, "lead_owner_stage_rank, lead_team_stage_rank"),
    "sla_due": Sort(
        "SLA due", lambda: queue_sort_key("sla_due")[0], _datetime, DateTimeField, False,
        "sla_clock_one_open_per_kind (the running clocks, joined to their leads)",
        only=lambda: queue_sort_key("sla_due")[1], note="Leads with a running SLA clock, the soonest due first.",
        tie=lambda: queue_sort_key("sla_due")[2], count_by=("sla", "running"),
    ),
}
DEFAULT_SORT = "score"


def queue_scopes(user: User) -> dict[str, str]:
    scopes = {"mine": SCOPES["mine"]}
    if user.team_ids(Role.SDR, Role.MANAGER) or user.is_admin:
        scopes["pool"] = SCOPES["pool"]
    if user.team_ids(Role.MANAGER, Role.MARKETING) or user.is_admin:
        scopes["team"] = SCOPES["team"]
    return scopes


def default_scope(user: User) -> str:
    """Managers, marketing and admins open on the whole team (marketing owns no leads, so "mine"
    would always be empty); SDRs open on their own leads."""
    team = user.is_admin or user.has_role(Role.MANAGER, Role.MARKETING)
    return "team" if team and not user.has_role(Role.SDR) else "mine"


@dataclass
class Total:
    """How many rows the list holds: exact, at least `COUNT_CAP`, or the planner's estimate."""

    value: int
    kind: str  # "exact" | "capped" | "estimate"

    def __str__(self) -> str:
        if self.kind == "capped":
            return f"{self.value:,}+"
        if self.kind == "estimate":
            return f"about {self.value:,}"
        return f"{self.value:,}"


@dataclass
class QueuePage:
    leads: list[Lead]
    scope: str
    filters: LeadFilter
    next_after: str | None
    page_size: int
    sort: str = DEFAULT_SORT
    descending: bool = True
    total: Total | None = None
    params: QueryDict = field(default_factory=QueryDict)

    def next_query(self) -> str:
        params = self.params.copy()
        params["after"] = self.next_after or ""
        return params.urlencode()

    def sort_links(self) -> dict[str, dict]:
        """Column headers by sort name: each sort's link (the current one flips direction) and aria-sort."""
        links = {}
        for name, spec in SORTS.items():
            params = self.params.copy()
            current = name == self.sort
            descending = not self.descending if current else spec.descending
            params["sort"], params["dir"] = name, "desc" if descending else "asc"
            links[name] = {
                "name": name, "label": spec.label, "query": params.urlencode(), "current": current,
                "descending": self.descending, "aria": ("descending" if self.descending else "ascending") if current else "none",
            }
        return links

    @property
    def sort_note(self) -> str:
        return SORTS[self.sort].note


class _Row(Func):
    """A SQL row constructor: `ROW(a, b) < ROW(x, y)` compares lexicographically and is a single
    index condition on (a DESC, b DESC). The equivalent `a < x OR (a = x AND b < y)` is not: Postgres
    reads the queue from its top and filters row by row (measured at 1M leads, cursor ~3,500 rows
    down one SDR's queue: 92 ms against 0.7 ms)."""

    function = "ROW"
    output_field = IntegerField()


def _parse_after(value: str, sort: Sort) -> tuple[object, int] | None:
    try:
        key, pk = value.rsplit(":", 1)
        return sort.parse(key), int(pk)
    except (ValueError, AttributeError, TypeError):
        return None


def cursor_of(row: Lead) -> str:
    """The cursor that continues after `row`, read by a query from sorted_leads: its sort key
    (`cursor_key`) and tie-break (`cursor_tie`, the lead's id unless the sort says otherwise)."""
    value = row.cursor_key
    return f"{value.isoformat() if isinstance(value, datetime.datetime) else value}:{row.cursor_tie}"


def parse_cursor(text: str, sort: str) -> tuple[object, int] | None:
    return _parse_after(text, SORTS[sort])


def without_blanks(params: QueryDict) -> QueryDict:
    """Drop empty values: the filter form submits every select, "Any ..." as `stage=`, which means
    "no filter" here, not an invalid choice (that emptied the list) or a stage list (that skipped
    the open-stages default)."""
    clean = QueryDict(mutable=True)
    for key in params:
        if values := [v for v in params.getlist(key) if v.strip()]:
            clean.setlist(key, values)
    return clean


def scoped_leads(user: User, params: QueryDict) -> tuple[str, LeadFilter, object]:
    """The scope, the bound filters and the filtered rows (unsorted) for `params`."""
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
    filters.own = scope == "mine"
    if not user.is_admin:
        # The teams every lead of the list belongs to, where the scope says so (LeadFilter.teams):
        # the pool is the SDR's and manager's teams; a manager's or marketer's whole team is theirs
        # unless they also own leads (an SDR or AE), which may sit in any team.
        if scope == "pool":
            filters.teams = user.team_ids(Role.SDR, Role.MANAGER)
        elif scope == "team" and not user.has_role(Role.SDR, Role.AE):
            filters.teams = user.team_ids(Role.MANAGER, Role.MARKETING)
    qs = filters.qs if filters.is_valid() else qs.none()
    if not params.getlist("stage"):
        # SDRs work New/MQL/Working; AEs and managers see the whole open funnel by default.
        qs = qs.filter(stage__in=SDR_STAGES if scope in ("mine", "pool") and not user.has_role(Role.AE) else OPEN_STAGES)
    return scope, filters, qs


def queue_queryset(user: User, params: QueryDict):
    """The queue's leads for `params` (scope, filters, the default stages), unordered and unpaged,
    with the scope and the bound filters: the page (load_queue) and the CSV export read the same list."""
    scope, filters, qs = scoped_leads(user, params)
    return qs, scope, filters


def sort_of(params: QueryDict) -> tuple[str, bool]:
    """The sort name and direction asked for; anything unknown falls back to the default."""
    name = params.get("sort", DEFAULT_SORT)
    if name not in SORTS:
        name = DEFAULT_SORT
    direction = params.get("dir")
    descending = SORTS[name].descending if direction not in ("asc", "desc") else direction == "desc"
    return name, descending


def sorted_leads(qs, name: str, descending: bool, after: str = ""):
    """`qs` in sort order, from just after the cursor `after` when it is one of this sort's."""
    spec = SORTS[name]
    if spec.only:
        qs = qs.filter(spec.only())
    qs = qs.alias(sort_key=spec.key(), sort_tie=spec.tie() if spec.tie else F("id"))
    if cursor := _parse_after(after, spec):
        value, pk = cursor
        compare = LessThan if descending else GreaterThan
        qs = qs.filter(compare(_Row(F("sort_key"), F("sort_tie")),
                               _Row(Value(value, output_field=spec.output()), Value(pk))))
    qs = qs.annotate(cursor_key=F("sort_key"), cursor_tie=F("sort_tie"))
    if descending:
        return qs.order_by(F("sort_key").desc(), F("sort_tie").desc())
    return qs.order_by(F("sort_key").asc(), F("sort_tie").asc())


def count_leads(qs, *, estimate_first: bool = False) -> Total:
    """Exact up to COUNT_CAP, counted within COUNT_BUDGET_MS; past the budget, the planner's
    estimate. The count reads at most COUNT_CAP + 1 index entries, so it costs about what
    reading 10,000 rows of the page's index costs (a few ms), however large the list. Two
    queries (the timeout, the count) in its own transaction; two more inside a caller's.
    `estimate_first` (filters the planner estimates well, estimate_trusted): one EXPLAIN first,
    and an estimate of ESTIMATE_FIRST_OVER or more is the answer, with no count."""
    guess = None
    if estimate_first:
        try:
            guess = _estimate(qs)
        except EmptyResultSet:
            return Total(0, "exact")
        if guess >= ESTIMATE_FIRST_OVER:
            return Total(guess, "estimate")
    capped = qs.order_by().values("pk")[: COUNT_CAP + 1]
    try:
        sql, sql_params = capped.query.sql_with_params()
    except EmptyResultSet:  # a filter that can match nothing (an unknown property, no pool)
        return Total(0, "exact")
    nested = connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # set_config(..., true) lasts to the end of the transaction: ours, or the caller's.
            cursor.execute("SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)",
                           [f"{COUNT_BUDGET_MS}ms"])
            before = cursor.fetchone()[0]
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS capped", sql_params)
            n = cursor.fetchone()[0]
            if nested:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
    except DatabaseError:
        return Total(_estimate(qs) if guess is None else guess, "estimate")
    return Total(COUNT_CAP, "capped") if n > COUNT_CAP else Total(n, "exact")


def estimate_trusted(filters: LeadFilter) -> bool:
    """True when every filter of the list beyond its scope is one of ESTIMATED_FILTERS."""
    used = {key for key, value in filters.form.cleaned_data.items() if value not in (None, "", [], ())}
    return used <= ESTIMATED_FILTERS and getattr(filters, "_properties_q", None) is None


def _estimate(qs) -> int:
    sql, sql_params = qs.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", sql_params)
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else plan
    return int(plan["Plan"]["Plan Rows"])


def load_queue(user: User, params: QueryDict, *, count: bool = True, rows: bool = True) -> QueuePage:
    """One SQL query for the rows (account and owner joined) and, with `count`, one capped count,
    whatever the page depth or data size, after one UPDATE that brings decayed scores due by now up
    to date (usually none). `rows=False` only counts (the page's total, fetched after the rows)."""
    before_listing()
    params = without_blanks(params)
    scope, filters, qs = scoped_leads(user, params)
    name, descending = sort_of(params)
    try:
        size = max(1, min(int(params.get("per", PAGE_SIZE)), MAX_PAGE_SIZE))
    except ValueError:
        size = PAGE_SIZE
    spec = SORTS[name]
    if spec.count_by and scope == "team" and filters.teams is not None:
        counted = queue_filter(spec.count_by[0], qs, spec.count_by[1], teams=filters.teams)
    else:
        counted = qs.filter(spec.only()) if spec.only else qs
    # A sort over some leads only (the SLA due time: those with a running clock) counts an id
    # array the planner cannot estimate; so does an invalid filter form.
    plain = not spec.only and filters.form.is_valid() and estimate_trusted(filters)
    total = count_leads(counted, estimate_first=plain) if count else None
    found: list[Lead] = []
    if rows:
        # The page's ids first, from the leads alone; then those rows with their account and owner.
        # A filter answered from another table (the SLA states: ~2,000 leads of a team sorted for
        # one page) would otherwise join every match to its account before the top-N sort.
        page_ids = sorted_leads(qs, name, descending, params.get("after", "")).values("pk")[: size + 1]
        found = list(sorted_leads(Lead.objects.filter(pk__in=page_ids), name, descending)
                     .select_related("account", "owner").defer(*ROW_DEFERRED))
    has_more = len(found) > size
    found = found[:size]
    next_after = cursor_of(found[-1]) if has_more else None
    clean = params.copy()
    clean.pop("after", None)
    clean["scope"] = scope
    return QueuePage(leads=found, scope=scope, filters=filters, next_after=next_after, page_size=size,
                     sort=name, descending=descending, total=total, params=clean)
