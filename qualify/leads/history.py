"""Writing the past: leads that arrive with a history (the CSV importer, the demo seed).

An import of last quarter's funnel is not a series of transitions happening now: each lead comes
with its stage path and dates, and move_stage (which stamps now and guards each step) cannot write
it. These two functions are the only other writers of a lead's stage and owner. The callers build
the rows and check each step against lifecycle.ALLOWED; these write them in bulk and publish what
happened, marked `imported`: new leads are scored (lead_saved) and their owners recorded
(owner_changed), and outcomes of existing leads close what was open (a pending handoff, running
clocks) through the same listeners as any other move, while nobody is routed, clocked or told
about the past.

Costs: one INSERT per 2,000 leads and per 2,000 history rows, plus the listeners' (one INSERT for
the assignment records; rescoring after commit, 1,000 leads per task message).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence

from django.db import transaction

from .changes import LeadSaved, OwnerChanged, StageChanged, publish
from .models import Lead, StageChange

BATCH = 2000

# (from owner id, to owner id, when): one change of a lead's owner in its past; None is the pool or now.
Handover = tuple[int | None, int | None, datetime.datetime | None]


def write_leads(leads: Sequence[Lead], history: Sequence[StageChange], *, by_id: int | None, why: str,
                owners: Callable[[Lead], Sequence[Handover]] | None = None) -> list[Lead]:
    """Insert new leads as they stand at the end of their history, and the history rows (which
    reference the unsaved leads; their ids are set here). `owners(lead)` gives the lead's past
    changes of owner as (from, to, when), oldest first, ending with its owner; without it (a file
    says who owns a lead, not since when) each owner is recorded as taking the lead now."""
    with transaction.atomic():
        Lead.objects.bulk_create(leads, batch_size=BATCH)
        for row in history:
            row.lead_id = row.lead.pk
        StageChange.objects.bulk_create(history, batch_size=BATCH)
        publish("lead_saved", [LeadSaved(lead.pk, True, by_id=by_id) for lead in leads])
        trail = owners or (lambda lead: [(None, lead.owner_id, None)] if lead.owner_id else [])
        publish("owner_changed", [OwnerChanged(lead.pk, before, after, by_id, why=why, imported=True, at=at)
                                  for lead in leads for before, after, at in trail(lead)])
    return list(leads)


def write_outcomes(leads: Sequence[Lead], history: Sequence[StageChange], before: dict[int, tuple[str, int | None]],
                   *, by_id: int | None, why: str) -> None:
    """Continue existing leads' histories (an imported Won, Lost or Disqualified): `leads` carry their new stage,
    owner, AE and reason, `before` maps each id to its (stage, owner id) before the import. The
    caller holds the leads' row locks."""
    with transaction.atomic():
        Lead.objects.bulk_update(
            leads, ["stage", "stage_changed_at", "ae", "owner", "disqualify_reason", "updated_at"], batch_size=500
        )
        StageChange.objects.bulk_create(history, batch_size=BATCH)
        publish("stage_changed", [StageChanged(lead.pk, before[lead.pk][0], lead.stage, by_id, why, imported=True)
                                  for lead in leads if lead.stage != before[lead.pk][0]])
        publish("owner_changed", [OwnerChanged(lead.pk, before[lead.pk][1], lead.owner_id, by_id, why=why, imported=True)
                                  for lead in leads if lead.owner_id != before[lead.pk][1]])
