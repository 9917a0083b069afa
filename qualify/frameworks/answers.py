"""Recording qualification answers: the one write path for Answer rows."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from qualify.errors import DomainError
from qualify.leads.models import clean_note

from .models import CLAIM_STATUSES, Answer, AnswerStatus, AnswerType, Criterion
from .selection import framework_for

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead

# "Yes" or "ok" is not evidence; a confirmed answer needs who said what, or what was seen.
MIN_EVIDENCE_LENGTH = 10
# A number answer is stored spelled out ("1e3" is "1000"): 1e999999 would be a million digits.
MAX_NUMBER_DIGITS = 30


def record_answer(
    lead: Lead,
    *,
    criterion: Criterion,
    by: User,
    status: str | None = None,
    value: str = "",
    evidence: str = "",
) -> Answer:
    """Record `by`'s answer to `criterion` for `lead`, or raise DomainError and write nothing.

    The answer must fit the criterion's type: a status from AnswerStatus, one of the choices, a
    number, or non-empty text. Confirmed and partial answers need evidence. When an AE disputed the
    current answer (a rejection naming this dimension), the new answer needs evidence whatever its
    type, and not the evidence that was disputed. The criterion must be active and belong to the
    framework that applies to the lead. Access is the caller's job (access_lead(..., for_write=True)).
    Costs 3 queries (framework choice, the current answer, insert).
    """
    status = (status or "").strip()
    value = clean_note(value, "value", "answer")
    evidence = clean_note(evidence, "evidence", "evidence")

    framework = framework_for(lead)
    if framework is None or criterion.framework_id != framework.pk:
        raise DomainError("This criterion is not part of the framework that applies to this lead.", field="criterion")
    if not criterion.active:
        raise DomainError(f"'{criterion.dimension}' is retired and no longer asked.", field="criterion")

    if criterion.answer_type == AnswerType.STATUS:
        if value:
            raise DomainError(f"'{criterion.dimension}' takes a status, not a value.", field="value")
        if not status:
            raise DomainError("Choose a status: confirmed, partial, unknown or negative.", field="status")
        if status not in AnswerStatus.values:
            raise DomainError(f"'{status}' is not a status.", field="status")
        if status in CLAIM_STATUSES and len(evidence) < MIN_EVIDENCE_LENGTH:
            raise DomainError(
                f"A {AnswerStatus(status).label.lower()} answer needs evidence (at least {MIN_EVIDENCE_LENGTH} "
                "characters): who said what, when, or what you saw.",
                field="evidence",
            )
    else:
        if status:
            raise DomainError(f"'{criterion.dimension}' takes a value, not a status.", field="status")
        value = _clean_value(criterion, value)
    _check_dispute_answered(lead, criterion, evidence)

    return Answer.objects.create(
        lead=lead,
        criterion=criterion,
        criterion_version=criterion.version,
        question_text=criterion.question,
        status=status,
        value=value,
        evidence=evidence,
        author=by,
    )


def _check_dispute_answered(lead: Lead, criterion: Criterion, evidence: str) -> None:
    """A disputed answer is settled only by something new: evidence, and not the evidence the AE
    already read and rejected."""
    recent = list(Answer.objects.filter(lead=lead, criterion=criterion).order_by("-created_at", "-id")[:20])
    if not recent or not recent[0].disputed:
        return
    if len(evidence) < MIN_EVIDENCE_LENGTH:
        raise DomainError(
            f"An AE disputed '{criterion.dimension}' when rejecting the handoff (“{recent[0].evidence}”). "
            f"Answer with new evidence (at least {MIN_EVIDENCE_LENGTH} characters) that settles it.",
            field="evidence",
        )
    disputed_claim = next((a for a in recent if not a.disputed), None)
    if disputed_claim is not None and evidence.casefold() == disputed_claim.evidence.strip().casefold():
        raise DomainError(
            f"That is the evidence the AE disputed for '{criterion.dimension}'. Add what you learned since.",
            field="evidence",
        )


def _clean_value(criterion: Criterion, value: str) -> str:
    if criterion.answer_type == AnswerType.CHOICE:
        if value not in criterion.choices:
            raise DomainError(f"Choose one of: {', '.join(criterion.choices)}.", field="value")
        return value
    if criterion.answer_type == AnswerType.NUMBER:
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            raise DomainError(f"'{value}' is not a number." if value else "Enter a number.", field="value")
        if not number.is_zero() and abs(number.adjusted()) > MAX_NUMBER_DIGITS:
            raise DomainError(
                f"'{value}' is too large or too small: keep it within {MAX_NUMBER_DIGITS} digits of the decimal point.",
                field="value",
            )
        # One spelling per number ("1e3" and "1000.0" both store "1000").
        return format(number.normalize(), "f")
    if not value:
        raise DomainError("Write an answer.", field="value")
    return value
