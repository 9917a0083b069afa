"""What to change, from the figures: rule weights and the MQL threshold (pure), and accepting a
suggestion into a scoring model's draft (the one write this app makes).

Nothing is applied silently: a suggestion changes only the draft (ScoringModel and its Rule rows,
what admin edits), and leads see it only when RevOps publishes the draft in admin. Each suggestion
carries its evidence and is made only above a sample floor (settings.CALIBRATION_MIN_SAMPLE).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from qualify.errors import DomainError
from qualify.scoring.models import ModelVersion, Rule, ScoringModel

from .stats import RuleCounts, at_or_above, pct, round_points

WEIGHT, THRESHOLD = "weight", "threshold"
MAX_FACTOR = 2.0  # a suggestion at most doubles (or halves the penalty of) a rule at a time
MIN_CUT = 0.10  # a higher threshold is worth suggesting when it removes at least 10 % of MQLs


@dataclass(frozen=True)
class Suggestion:
    key: str  # stable across recomputes: what it changes, from what, to what
    kind: str
    label: str
    current: int
    suggested: int
    headline: str
    evidence: str
    sample: int  # closed leads behind the evidence
    rule_id: int | None = None


def signed(points: int) -> str:
    return f"{points:+d}" if points else "0"


def weight_suggestion(rule_id: int, label: str, points: int, counts: RuleCounts, min_sample: int) -> Suggestion | None:
    """A new weight for a rule whose leads converted clearly unlike the base, or None.

    Clearly: the rule fired on at least `min_sample` closed leads and missed at least as many, and
    the 95 % Wilson interval of its conversion excludes the base. New points = points × lift
    (at most ×2), rounded; a penalty on leads that convert above the base is dropped to 0, one on
    leads that convert below it grows by 1/lift (at most ×2). None when that rounds to no change."""
    lift, base = counts.lift, counts.base
    if not points or counts.fired < min_sample or counts.not_fired < min_sample or lift is None or base is None:
        return None
    low, high = counts.interval
    if low <= base <= high:
        return None
    if points > 0:
        new = max(0, round_points(points * min(lift, MAX_FACTOR), points))
    elif lift > 1:
        new = 0
    else:
        new = round_points(points * min(1 / max(lift, 1e-9), MAX_FACTOR), points)
    if new == points:
        return None
    evidence = (
        f"leads it fired on converted at {pct(counts.fired_rate)} (95% interval {pct(low)}–{pct(high)}) "
        f"against a base of {pct(base)}; {counts.fired:,} closed leads it fired on ({counts.fired_won:,} won), "
        f"{pct(counts.not_fired_rate)} on the {counts.not_fired:,} it did not fire on"
    )
    return Suggestion(
        key=f"rule:{rule_id}:{points}:{new}", kind=WEIGHT, label=label, current=points, suggested=new,
        headline=f"{label}: {signed(points)} → {signed(new)}", evidence=evidence, sample=counts.eligible,
        rule_id=rule_id,
    )


def threshold_suggestion(
    histogram: dict[int, tuple[int, int]], current: int, min_sample: int, keep: float
) -> Suggestion | None:
    """A new MQL threshold from the closed leads' highest recorded scores, or None.

    The suggestion is the highest multiple of 5 that still keeps `keep` of the won leads at or
    above it. Raising is suggested when that cuts MQLs by at least 10 %; lowering when the current
    threshold keeps less than `keep` of the won leads. Needs `min_sample` won leads."""
    total = sum(n for n, _ in histogram.values())
    won = sum(w for _, w in histogram.values())
    if won < min_sample or not total:
        return None
    top = max(histogram)
    candidates = [t for t in range(5, top + 1, 5) if at_or_above(histogram, t)[1] >= keep * won]
    if not candidates:
        return None
    best = max(candidates)
    now_mqls, now_won = at_or_above(histogram, current)
    new_mqls, new_won = at_or_above(histogram, best)
    if best > current:
        cut = 1 - new_mqls / now_mqls if now_mqls else 0.0
        if cut < MIN_CUT:
            return None
        evidence = (
            f"keeps {pct(new_won / won)} of won leads ({pct(now_won / won)} at {current}) and cuts MQLs by "
            f"{pct(cut)}: {now_mqls:,} → {new_mqls:,} of {total:,} closed leads reached it"
        )
    elif best < current:
        more = new_mqls / now_mqls - 1 if now_mqls else None
        evidence = (
            f"keeps {pct(new_won / won)} of won leads instead of {pct(now_won / won)}, with "
            f"{pct(more) if more is not None else 'more'} more MQLs: {now_mqls:,} → {new_mqls:,} of {total:,} closed leads"
        )
    else:
        return None
    return Suggestion(
        key=f"threshold:{current}:{best}", kind=THRESHOLD, label="MQL threshold", current=current, suggested=best,
        headline=f"MQL at {best} instead of {current}", evidence=evidence, sample=total,
    )


def draft_value(model: ScoringModel, suggestion: Suggestion) -> int | None:
    """What the draft holds now for the thing the suggestion changes (None: the rule is gone)."""
    if suggestion.kind == THRESHOLD:
        return model.mql_threshold
    points = Rule.objects.filter(pk=suggestion.rule_id, model=model).values_list("points", flat=True).first()
    return points


def accept(model: ScoringModel, suggestion: Suggestion, *, version: ModelVersion | None, by, window_days: int,
           team_ids: tuple[int, ...]):
    """Put `suggestion` into `model`'s draft and record who accepted it and on what evidence.

    The draft changes only if it still holds the value the suggestion starts from (a conditional
    UPDATE), and the record is unique per model, suggestion and published version: accepting twice,
    or after someone edited the rule, raises DomainError and changes nothing. Costs 3 queries."""
    from .models import AcceptedSuggestion

    with transaction.atomic():
        if suggestion.kind == THRESHOLD:
            changed = ScoringModel.objects.filter(pk=model.pk, mql_threshold=suggestion.current).update(
                mql_threshold=suggestion.suggested
            )
        else:
            changed = Rule.objects.filter(pk=suggestion.rule_id, model=model, points=suggestion.current).update(
                points=suggestion.suggested
            )
        if changed != 1:
            now = draft_value(model, suggestion)
            if now == suggestion.suggested:
                raise DomainError(f"Already in the draft: {suggestion.headline}. Nothing changed.")
            raise DomainError(
                f"The draft no longer holds {signed(suggestion.current) if suggestion.kind == WEIGHT else suggestion.current} "
                f"for {suggestion.label}; nothing changed. Reload the figures."
            )
        try:
            with transaction.atomic():
                return AcceptedSuggestion.objects.create(
                    model=model, version=version, key=suggestion.key, kind=suggestion.kind, rule_id=suggestion.rule_id,
                    label=suggestion.label, from_value=suggestion.current, to_value=suggestion.suggested,
                    headline=suggestion.headline, evidence=suggestion.evidence, sample=suggestion.sample,
                    window_days=window_days, team_ids=list(team_ids), accepted_by=by,
                )
        except IntegrityError:
            # The same suggestion was accepted on this version and later undone by hand in admin.
            raise DomainError(f"Already accepted on this version: {suggestion.headline}. Nothing changed.") from None
