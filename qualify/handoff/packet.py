"""The handoff packet: why this lead is qualified now, frozen at the moment of handoff."""

from __future__ import annotations

from typing import Any

from qualify.frameworks.completeness import Completeness
from qualify.scoring.explain import explanation_items
from qualify.leads.models import Lead
from qualify.leads.panels import predicted_factors

RECENT_SIGNALS = 10
RECENT_TOUCHES = 5


def build_packet(lead: Lead, progress: Completeness) -> dict[str, Any]:
    """A JSON snapshot of answers, score, recent signals and touches. Costs 2 queries beyond
    the completeness already computed by the caller."""
    answers = []
    for item in progress.items:
        a = item.answer
        answers.append(
            {
                "criterion": item.criterion.key,
                "dimension": item.criterion.dimension,
                "question": a.question_text if a else item.criterion.question,
                "required": item.criterion.required_for_handoff,
                "status": a.status if a else "",
                "value": a.value if a else "",
                "evidence": a.evidence if a else "",
                "by": str(a.author) if a else "",
                "at": a.created_at.isoformat() if a else None,
            }
        )
    signals = [
        {"type": e.type, "label": e.get_type_display(), "properties": e.properties, "at": e.occurred_at.isoformat()}
        for e in lead.events.order_by("-occurred_at")[:RECENT_SIGNALS]
    ]
    touches = [
        {"kind": t.get_kind_display(), "outcome": t.get_outcome_display(), "note": t.note, "at": t.occurred_at.isoformat()}
        for t in lead.touches.order_by("-occurred_at")[:RECENT_TOUCHES]
    ]
    return {
        "framework": progress.framework.name if progress.framework else None,
        "completeness": progress.percent,
        "answers": answers,
        "score": {"value": lead.score, "reasons": score_reasons(lead)},
        # Beside the rule score: the calibrated chance of winning and what drives it.
        "predicted": {
            "probability": lead.predicted, "version": lead.predicted_version,
            "factors": predicted_factors([lead]).get(lead.pk, []),
        },
        "signals": signals,
        "touches": touches,
        "lead": {
            "name": lead.full_name,
            "title": lead.title,
            "company": lead.account.name,
            "segment": lead.account.get_segment_display(),
            "source": lead.get_source_display(),
        },
    }


def score_reasons(lead: Lead) -> list[dict[str, Any]]:
    """The rules behind the lead's score and their points now (2 queries)."""
    return list(explanation_items(lead))
