"""From the core's changes to webhook events: which event each change is, and its previous and new
state. Pure functions of the change dataclasses (no queries), so every topic's mapping is tested
without a database; outbox.write adds the lead as it is now and the envelope.

Payload version 1 (README, Webhooks; the OpenAPI schema's webhooks section):

    {"id": "msg_…", "type": "lead.mql", "version": 1, "timestamp": "…Z",
     "data": {"lead": {...as it is now...}, "previous": {"stage": "new"}, "current": {"stage": "mql"},
              "by_id": 7, ...details of the event...}}
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from qualify.leads.changes import (
    HandoffChanged,
    LeadSaved,
    OwnerChanged,
    ReviewVerdict,
    SlaEscalated,
    StageChanged,
)
from qualify.leads.models import Stage

from .models import EventType as E

VERSION = 1


@dataclass
class Event:
    type: str
    lead_id: int
    previous: dict[str, Any] | None
    current: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    team_id: int | None = None  # known without reading the lead (SLA steps); else the lead's team


STAGE_EVENTS = {
    Stage.MQL: E.LEAD_MQL, Stage.NURTURE: E.LEAD_NURTURED, Stage.DISQUALIFIED: E.LEAD_DISQUALIFIED,
    Stage.WON: E.LEAD_WON, Stage.LOST: E.LEAD_LOST,
}
# Back into the SDR queue from a parked stage.
RECYCLED_FROM = (Stage.NURTURE, Stage.DISQUALIFIED)
RECYCLED_TO = (Stage.NEW, Stage.MQL, Stage.WORKING)
SLA_EVENTS = {"warning": (E.SLA_WARNING, "running", "warning"), "breach": (E.SLA_BREACHED, "warning", "breached")}


def lead_saved(batch: list[LeadSaved]) -> Iterator[Event]:
    for c in batch:
        if c.created:
            yield Event(E.LEAD_CREATED, c.lead_id, None, {"exists": True}, {"by_id": c.by_id})


def stage_changed(batch: list[StageChanged]) -> Iterator[Event]:
    for c in batch:
        details = {"by_id": c.by_id, "why": c.why, "reason_id": c.reason_id, "imported": c.imported}
        previous, current = {"stage": c.from_stage or None}, {"stage": c.to_stage}
        if c.from_stage in RECYCLED_FROM and c.to_stage in RECYCLED_TO:
            yield Event(E.LEAD_RECYCLED, c.lead_id, previous, current, details)
        if event := STAGE_EVENTS.get(c.to_stage):
            yield Event(event, c.lead_id, previous, current, details)


def owner_changed(batch: list[OwnerChanged]) -> Iterator[Event]:
    for c in batch:
        yield Event(E.LEAD_ASSIGNED, c.lead_id, {"owner_id": c.from_id}, {"owner_id": c.to_id}, {
            "by_id": c.by_id, "rule_id": c.rule_id, "rule_name": c.rule_name, "why": c.why, "imported": c.imported})


def handoff_changed(batch: list[HandoffChanged]) -> Iterator[Event]:
    """Created, accepted, rejected and reassigned handoffs (a handoff closed by an outcome is told
    by the outcome's own event). Rejections carry reason_id; outbox.write adds the reason's name."""
    for c in batch:
        extra = c.extra or {}
        people = {"handoff_id": c.handoff_id, "from_user_id": extra.get("from_user_id"), "to_user_id": extra.get("to_user_id"),
                  "by_id": c.by_id}
        if c.status == "pending":
            yield Event(E.HANDOFF_CREATED, c.lead_id, None, {"status": "pending"}, {**people, "next_step": c.note})
        elif c.status == "accepted":
            yield Event(E.HANDOFF_ACCEPTED, c.lead_id, {"status": "pending"}, {"status": "accepted"},
                        {**people, "note": extra.get("decision_note", "")})
        elif c.status == "rejected":
            yield Event(E.HANDOFF_REJECTED, c.lead_id, {"status": "pending"},
                        {"status": "rejected", "reason": {"id": c.reason_id}, "note": extra.get("decision_note", "")}, people)
        elif c.status == "reassigned":  # still pending, now for another AE (handoff.workflow.reassign)
            yield Event(E.HANDOFF_REASSIGNED, c.lead_id, {"to_user_id": extra.get("previous_to_user_id")},
                        {"to_user_id": extra.get("to_user_id")}, {**people, "note": c.note})


def sla_escalated(batch: list[SlaEscalated]) -> Iterator[Event]:
    for c in batch:
        if found := SLA_EVENTS.get(c.kind):
            event, before, after = found
            yield Event(event, c.lead_id, {"sla": before}, {"sla": after}, {
                "clock_id": c.clock_id, "clock_kind": c.clock_kind, "step": c.step, "due_at": c.due_at.isoformat(),
                "owner_id": c.owner_id}, team_id=c.team_id)


def review_verdict(batch: list[ReviewVerdict]) -> Iterator[Event]:
    for c in batch:
        yield Event(E.REVIEW_VERDICT, c.lead_id, {"verdict": c.from_verdict or None}, {"verdict": c.to_verdict, "note": c.note},
                    {"review_item_id": c.item_id, "by_id": c.by_id})


# Topic -> translation; listeners.py registers outbox.write for each.
BY_TOPIC = {
    "lead_saved": lead_saved, "stage_changed": stage_changed, "owner_changed": owner_changed,
    "handoff_changed": handoff_changed, "sla_escalated": sla_escalated, "review_verdict": review_verdict,
}
