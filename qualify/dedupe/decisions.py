"""What RevOps decides about a pair: merge it (through the core's one merge verb) or say it is not
a duplicate. Pages, the API and admin call these."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from qualify.errors import DomainError
from qualify.leads.merge import merge_accounts, merge_leads

from .models import DuplicateCandidate, Kind, Status

if TYPE_CHECKING:
    from accounts.models import User


def _open(candidate: DuplicateCandidate) -> DuplicateCandidate:
    current = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if current.status != Status.OPEN:
        raise DomainError(f"This pair is already decided ({current.get_status_display().lower()}).")
    return current


def dismiss(candidate: DuplicateCandidate, *, by: User) -> DuplicateCandidate:
    """Not a duplicate: the pair leaves the page and is never flagged again."""
    with transaction.atomic():
        current = _open(candidate)
        current.status, current.decided_at, current.decided_by = Status.DISMISSED, timezone.now(), by
        current.save(update_fields=["status", "decided_at", "decided_by"])
    return current


def merge_pair(candidate: DuplicateCandidate, *, survivor_id: int, by: User, fields: Mapping[str, str] | None = None):
    """Merge the pair into `survivor_id` (one of its two ids); the merge marks the pair merged
    (dedupe's leads_merged listener). Returns the survivor."""
    if survivor_id not in (candidate.low_id, candidate.high_id):
        raise DomainError("Choose one of the two records to keep.")
    other_id = candidate.high_id if survivor_id == candidate.low_id else candidate.low_id
    verb = merge_leads if candidate.kind == Kind.LEAD else merge_accounts
    with transaction.atomic():
        _open(candidate)
        return verb(survivor_id, other_id, by=by, fields=fields)
