"""What the page and the API share beyond the figures: reading a drill-down request, the state
of each suggestion against the draft, and accepting one by its key."""

from __future__ import annotations

from typing import Mapping

from qualify.errors import DomainError
from qualify.ids import posted_id
from qualify.leads.models import Stage
from qualify.scoring.models import Rule

from . import figures
from .access import Request
from .models import AcceptedSuggestion
from .suggestions import THRESHOLD, Suggestion, accept

OUTCOMES = (Stage.WON, Stage.LOST, Stage.DISQUALIFIED)


def drill_params(params: Mapping[str, str]) -> dict:
    """band=low-high, rule=id, reason=id, outcome=won|lost|disqualified, checked."""
    out: dict = {}
    if raw := (params.get("band") or "").strip():
        low, sep, high = raw.partition("-")
        low_n, high_n = posted_id(low), posted_id(high)
        if not (sep and low_n is not None and high_n is not None and low_n <= high_n and len(raw) <= 12):
            raise DomainError(f"'band' is written low-high, like 60-69; got '{raw[:20]}'.", field="band")
        out["band"] = (low_n, high_n)
    for name in ("rule", "reason"):
        if raw := (params.get(name) or "").strip():
            if (value := posted_id(raw)) is None or len(raw) > 10:
                raise DomainError(f"'{name}' must be an id; got '{raw[:20]}'.", field=name)
            out[name] = value
    if raw := (params.get("outcome") or "").strip():
        if raw not in OUTCOMES:
            raise DomainError(f"'outcome' is one of {', '.join(OUTCOMES)}; got '{raw[:20]}'.", field="outcome")
        out["outcome"] = raw
    return out


def suggestion_states(report: figures.Report) -> dict[str, str]:
    """Per suggestion key: 'open' (the draft holds the value it starts from), 'in_draft' (it holds
    the suggested value: accepted, or edited so by hand) or 'changed' (something else). 2 queries."""
    model = report.scope.model
    rules = dict(Rule.objects.filter(model=model, pk__in=[s.rule_id for s in report.suggestions if s.rule_id])
                 .values_list("pk", "points"))
    states = {}
    for s in report.suggestions:
        now = model.mql_threshold if s.kind == THRESHOLD else rules.get(s.rule_id)
        states[s.key] = "open" if now == s.current else "in_draft" if now == s.suggested else "changed"
    accepted = set(AcceptedSuggestion.objects.filter(model=model, version=report.version, key__in=list(states))
                   .values_list("key", flat=True))
    for key in accepted:
        states[key] = "in_draft" if states[key] == "in_draft" else "changed"
    return states


def find(report: figures.Report, key: str) -> Suggestion:
    for s in report.suggestions:
        if s.key == key:
            return s
    raise DomainError("Today's figures no longer make that suggestion (outcomes or the model changed); nothing "
                      "changed. Reload the page to see the current suggestions.", field="key")


def accept_by_key(req: Request, key: str, *, by) -> AcceptedSuggestion:
    """Recompute the figures of the scope, find the suggestion, accept it into the draft. The
    figures are recomputed rather than taken from the form, so the evidence recorded is ours."""
    if not key or len(key) > 100:
        raise DomainError("Say which suggestion to accept.", field="key")
    report = figures.compute(req.scope)
    suggestion = find(report, key)
    return accept(req.scope.model, suggestion, version=report.version, by=by, window_days=req.scope.days,
                  team_ids=req.scope.team_ids)
