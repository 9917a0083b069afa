"""Extension points where other concepts contribute to the lead page and the queue rows.

Each concept adds one dotted path to a list below instead of editing the lead views:
- LEAD_PAGE_CONTEXT: `f(lead, user) -> dict` merged into the lead page context; its template
  is included from templates/leads/detail.html.
- QUEUE_ROW_DECORATORS: `f(leads, user) -> None` that attaches attributes to a page of leads
  in a fixed number of queries (never one per row), for badges and hover details in the queue.
- BEFORE_LISTING: `f() -> object` run before the queue reads its rows (scoring brings scores
  whose decay is due up to date, so the queue can order by the stored column).
- QUEUE_FILTERS: name → `f(queryset, value, teams=None, own=False) -> queryset` for filters another
  concept answers (SLA state); `teams`, when known, bounds the teams of every lead in `queryset`;
  `own` says `queryset` is one person's own leads (a few thousand at most, cheap to scan whole).
- EXTRA_READERS: `f(user, lead_id) -> bool`, asked only when a lead is not visible to the user:
  True grants read-only access to that one lead page (the SDR who handed it off keeps reading it
  after the AE accepts). Lists never include such leads, and every change door still refuses.
- QUEUE_SORT_KEYS: sort name → `f() -> (expression, Q, tie)`: a queue sort whose key lives in another
  concept's tables (SLA due), the rows it applies to, and a tie-break equal to the lead's id on
  that side (so the cursor seeks that side's index); leads/queue.py SORTS names it.
- ACCOUNT_PAGE_CONTEXT: `f(account, people, user) -> dict` merged into the account page context
  (`people`: the account's leads, to which a contributor may attach attributes for the people table).
- ACCOUNT_API_DETAIL: `f(account, user) -> dict` merged into `GET /api/accounts/{id}/`.
- PREDICTION_FACTORS: `f(leads) -> {lead id: [factor, ...]}`, the top factors of each lead's
  predicted conversion, for the API, the handoff packet and exports (a fixed number of queries).
Dotted paths, loaded when first used: the core names the extension points, never the apps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    from accounts.models import User

    from .models import Account, Lead

LEAD_PAGE_CONTEXT: list[str] = [
    "qualify.frameworks.views.answers_panel_context",
    "qualify.handoff.views.lead_handoff_context",
    "qualify.pipeline.views.lead_requalify_context",
    "qualify.scoring.views.lead_score_context",
    "qualify.predictions.views.lead_prediction_context",
    "qualify.sla.panels.lead_sla_context",
    "qualify.routing.views.lead_routing_context",
    "qualify.abm.panels.lead_committee_context",
    "qualify.dedupe.views.lead_duplicates_context",
]

QUEUE_ROW_DECORATORS: list[str] = [
    "qualify.scoring.views.decorate_queue_scores", "qualify.sla.panels.decorate_queue_rows",
    "qualify.abm.panels.decorate_queue_rows",
]

BEFORE_LISTING: list[str] = ["qualify.scoring.decay.refresh_due"]

QUEUE_FILTERS: dict[str, str] = {"sla": "qualify.sla.models.leads_with_clocks"}

EXTRA_READERS: list[str] = ["qualify.handoff.access.handed_off_by"]

QUEUE_SORT_KEYS: dict[str, str] = {"sla_due": "qualify.sla.models.lead_sla_due"}


def queue_sort_key(name: str):
    return import_string(QUEUE_SORT_KEYS[name])()


ACCOUNT_PAGE_CONTEXT: list[str] = ["qualify.abm.panels.account_page_context", "qualify.handoff.views.account_handoffs_context"]

ACCOUNT_API_DETAIL: list[str] = ["qualify.abm.panels.account_api_detail"]


PREDICTION_FACTORS: list[str] = ["qualify.predictions.scoring.explain"]


def before_listing() -> None:
    for path in BEFORE_LISTING:
        import_string(path)()


def queue_filter(name: str, queryset, value, *, teams: set[int] | None = None, own: bool = False):
    return import_string(QUEUE_FILTERS[name])(queryset, value, teams=teams, own=own)


def lead_page_context(lead: Lead, user: User) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for path in LEAD_PAGE_CONTEXT:
        context.update(import_string(path)(lead, user))
    return context


def decorate_queue_rows(leads: list[Lead], user: User) -> None:
    if not leads:
        return
    for path in QUEUE_ROW_DECORATORS:
        import_string(path)(leads, user)


def extra_reader(user: User, lead_id: int) -> bool:
    return any(import_string(path)(user, lead_id) for path in EXTRA_READERS)


def account_page_context(account: Account, people: list[Lead], user: User) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for path in ACCOUNT_PAGE_CONTEXT:
        context.update(import_string(path)(account, people, user))
    return context


def account_api_detail(account: Account, user: User) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for path in ACCOUNT_API_DETAIL:
        detail.update(import_string(path)(account, user))
    return detail


def predicted_factors(leads: list[Lead]) -> dict[int, list[dict[str, Any]]]:
    factors: dict[int, list[dict[str, Any]]] = {}
    if leads:
        for path in PREDICTION_FACTORS:
            factors.update(import_string(path)(leads))
    return factors
