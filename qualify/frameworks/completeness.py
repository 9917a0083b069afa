"""How complete a lead's qualification is, and what is still missing before handoff."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .models import Answer, AnswerStatus, AnswerType, Criterion, Framework
from .selection import framework_for

if TYPE_CHECKING:
    from qualify.leads.models import Lead

# Share of a criterion's weight an answer earns. Unknown and negative earn nothing.
STATUS_CREDIT = {AnswerStatus.CONFIRMED: 1.0, AnswerStatus.PARTIAL: 0.5}


@dataclass(frozen=True)
class CriterionProgress:
    """One criterion of the lead's framework, with its current answer and the earlier ones."""

    criterion: Criterion
    answer: Answer | None
    earlier: list[Answer] = field(default_factory=list)

    @property
    def credit(self) -> float:
        if self.answer is None or self.answer.disputed:
            return 0.0
        if self.criterion.answer_type == AnswerType.STATUS:
            return STATUS_CREDIT.get(self.answer.status, 0.0)
        return 1.0 if self.answer.value else 0.0

    @property
    def is_satisfied(self) -> bool:
        return self.credit > 0

    @property
    def is_stale(self) -> bool:
        return self.answer is not None and self.answer.criterion_version < self.criterion.version

    @property
    def is_disputed(self) -> bool:
        return self.answer is not None and self.answer.disputed

    @property
    def disputed_claim(self) -> Answer | None:
        """The answer the AE disputed (the newest answer before the dispute that was not one)."""
        return next((a for a in self.earlier if not a.disputed), None) if self.is_disputed else None


@dataclass(frozen=True)
class Missing:
    """A required criterion that blocks handoff, and why."""

    criterion: Criterion
    reason: str  # "unanswered", "unknown", "negative" or "disputed"

    @property
    def note(self) -> str:
        return {
            "unanswered": "not answered yet",
            "unknown": "still unknown",
            "negative": "answered negative: resolve it, or nurture or disqualify the lead",
            "disputed": "disputed by the AE who rejected the handoff: answer again with new evidence",
        }[self.reason]

    @property
    def is_negative(self) -> bool:
        return self.reason == "negative"

    def __str__(self) -> str:
        return f"{self.criterion.dimension}: {self.note}"


@dataclass(frozen=True)
class Completeness:
    framework: Framework | None
    items: list[CriterionProgress]
    percent: int
    missing_required: list[Missing]

    @property
    def is_complete(self) -> bool:
        return not self.missing_required

    @property
    def stale_count(self) -> int:
        return sum(1 for item in self.items if item.is_stale)

    @property
    def disputed_count(self) -> int:
        return sum(1 for item in self.items if item.is_disputed)


def completeness(lead: Lead, *, framework: Framework | None = None) -> Completeness:
    """Weighted completeness of `lead` against the framework that applies to it.

    A criterion earns its full weight when confirmed (or, for choice/number/text criteria, when
    it has a value) and half when partial. Required criteria that are unanswered, unknown or
    negative are listed in `missing_required`, and so is every criterion whose current answer an AE
    disputed (required or not: a rejection named it), which earns no credit. Stale answers (given to an earlier wording) still
    count, flagged with `is_stale`. Costs 3 queries whatever the number of criteria and answers
    (2 when `framework` is passed); `lead.account` should be loaded.
    """
    framework = framework if framework is not None else framework_for(lead)
    if framework is None:
        return Completeness(framework=None, items=[], percent=0, missing_required=[])

    criteria = list(framework.criteria.filter(active=True).order_by("position", "id"))
    by_criterion: dict[int, list[Answer]] = {c.pk: [] for c in criteria}
    answers = (
        Answer.objects.filter(lead=lead, criterion__in=criteria)
        .select_related("author")
        .order_by("criterion_id", "-created_at", "-id")
    )
    criteria_by_id = {c.pk: c for c in criteria}
    for answer in answers:
        answer.criterion = criteria_by_id[answer.criterion_id]  # no query per answer for is_stale
        by_criterion[answer.criterion_id].append(answer)

    items = []
    for c in criteria:
        newest_first = by_criterion[c.pk]
        current = newest_first[0] if newest_first else None
        items.append(CriterionProgress(criterion=c, answer=current, earlier=newest_first[1:]))
    total = sum(c.weight for c in criteria)
    earned = sum(item.criterion.weight * item.credit for item in items)
    percent = round(100 * earned / total) if total else 100
    missing = [
        Missing(item.criterion, _missing_reason(item.answer))
        for item in items
        if item.is_disputed or (item.criterion.required_for_handoff and not item.is_satisfied)
    ]
    return Completeness(framework=framework, items=items, percent=percent, missing_required=missing)


def _missing_reason(answer: Answer | None) -> str:
    if answer is not None and answer.disputed:
        return "disputed"
    if answer is None or (answer.criterion.answer_type != AnswerType.STATUS and not answer.value):
        return "unanswered"
    return "negative" if answer.status == AnswerStatus.NEGATIVE else "unknown"


def missing_for_handoff(lead: Lead) -> list[str]:
    """What must be answered before `lead` can be handed off, in words, e.g.
    ["Budget: not answered yet", "Authority: answered negative: ..."]. Empty when ready (or
    when no framework applies). Costs 3 queries."""
    return [str(m) for m in completeness(lead).missing_required]
