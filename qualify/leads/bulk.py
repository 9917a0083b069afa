"""Bulk actions on leads selected in the queue: the same verbs as one lead's buttons, row by row.

Each row is looked up through access_lead (another team's lead is "not found", whatever the id),
checked for write access and for the action's own rule (only managers reassign), then handed to
the verb in its own transaction: one refused row never undoes the others, and each refusal is
reported with the verb's own words; the after-commit listeners still hear the rows as one batch
(changes.gathered). Reassigning is the exception: the rows that pass go to their
new owner in one transaction (assignment.reassign_many), so the listeners see one batch and the
new owner gets one notification for the lot. Submitting the same selection twice is harmless: the verbs
refuse what is already done (a claimed lead, a lead already nurtured or disqualified) and
reassigning to the current owner changes nothing. Cost: about 5-8 queries per row (lookup, lock,
write, history, listeners' enqueues), so a selection is capped at MAX_ROWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.http import Http404

from qualify.errors import DomainError

from . import lifecycle
from .access import access_lead
from .assignment import can_reassign, claim, reassign_many
from .changes import gathered

if TYPE_CHECKING:
    import datetime

    from accounts.models import User

    from .models import DisqualifyReason, Lead

MAX_ROWS = 200
ACTIONS = {
    "claim": "Claim",
    "reassign": "Reassign",
    "nurture": "Nurture",
    "disqualify": "Disqualify",
}
DONE = {"claim": "Claimed", "reassign": "Reassigned", "nurture": "Nurtured", "disqualify": "Disqualified"}


@dataclass
class BulkResult:
    action: str
    done: list[int] = field(default_factory=list)
    refused: list[tuple[int, str, str]] = field(default_factory=list)  # (id, who, why)

    def summary(self) -> str:
        n = len(self.done)
        return f"{DONE[self.action]} {n} lead{'s' if n != 1 else ''}."


def apply(
    ids: list[int], *, action: str, by: User, owner: User | None = None,
    reason: DisqualifyReason | None = None, note: str = "", recycle_on: datetime.date | None = None,
) -> BulkResult:
    """Run `action` on each lead of `ids` the user may change; say per row why any was refused."""
    with gathered():  # one batch for the after-commit listeners, however many rows
        return _apply(ids, action=action, by=by, owner=owner, reason=reason, note=note, recycle_on=recycle_on)


def _apply(
    ids: list[int], *, action: str, by: User, owner: User | None,
    reason: DisqualifyReason | None, note: str, recycle_on: datetime.date | None,
) -> BulkResult:
    result = BulkResult(action)
    to_reassign: list[Lead] = []
    for pk in dict.fromkeys(ids):  # a repeated id is one row
        try:
            lead = access_lead(by, pk, for_write=True)
        except Http404:
            result.refused.append((pk, f"Lead #{pk}", "Not found."))
            continue
        except PermissionDenied:
            result.refused.append((pk, f"Lead #{pk}", "You can read this lead but not change it."))
            continue
        try:
            if action == "claim":
                if lead.owner_id == by.pk:
                    raise DomainError("Already yours.")
                if lead.owner_id is not None:
                    raise DomainError("Already owned by someone else.")
                claim(lead, by=by)
            elif action == "reassign":
                if not can_reassign(by, lead):
                    raise DomainError("Only the team's managers can reassign leads.")
                if lead.owner_id == owner.pk:  # nothing to do: not counted as reassigned
                    raise DomainError(f"Already {owner}'s.")
                to_reassign.append(lead)  # all at once below: the new owner hears once
                continue
            elif action == "nurture":
                lifecycle.nurture(lead, reason=reason, note=note, by=by, recycle_on=recycle_on)
            else:
                lifecycle.disqualify(lead, reason=reason, note=note, by=by)
        except DomainError as e:
            result.refused.append((lead.pk, lead.full_name, e.message))
        else:
            result.done.append(lead.pk)
    if to_reassign:
        refused = reassign_many(to_reassign, owner=owner, by=by, why="Reassigned from the queue")
        for lead in to_reassign:
            if lead.pk in refused:
                result.refused.append((lead.pk, lead.full_name, refused[lead.pk]))
            else:
                result.done.append(lead.pk)
    return result
