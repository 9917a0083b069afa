"""The lead's activity timeline: events, touches and stage changes merged newest first."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from .models import Lead

LIMIT = 60


@dataclass
class Entry:
    at: datetime.datetime
    kind: str  # "event", "touch" or "stage"
    item: Any


def timeline_for(lead: Lead, limit: int = LIMIT) -> list[Entry]:
    """Three indexed queries of at most `limit` rows each, merged in Python."""
    entries = [Entry(e.occurred_at, "event", e) for e in lead.events.order_by("-occurred_at")[:limit]]
    entries += [Entry(t.occurred_at, "touch", t) for t in lead.touches.select_related("author").order_by("-occurred_at")[:limit]]
    entries += [
        Entry(s.at, "stage", s) for s in lead.stage_changes.select_related("by", "reason").order_by("-at", "-id")[:limit]
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
