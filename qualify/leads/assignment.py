"""Changing who owns a lead. Routing rules (later) decide *whom*; this writes it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from qualify.errors import DomainError

from .models import Lead

if TYPE_CHECKING:
    from accounts.models import User


def claim(lead: Lead, *, by: User) -> Lead:
    """An SDR takes an unassigned lead from their team's pool; the first claim wins."""
    if lead.team_id not in by.team_ids(Role.SDR, Role.MANAGER) and not by.is_admin:
        raise DomainError("Only the team's SDRs can claim its pool leads.")
    with transaction.atomic():
        # Conditional update: two SDRs clicking "claim" at once cannot both win.
        won = Lead.objects.filter(pk=lead.pk, owner__isnull=True).update(owner=by, updated_at=timezone.now())
        if won != 1:
            raise DomainError("Someone else claimed this lead first.")
        _owner_changed(lead, None, by, by=by, why="Claimed from the team pool")
    lead.refresh_from_db()
    return lead


def assign(lead: Lead, *, owner: User | None, by: User | None, rule=None, why: str = "") -> Lead:
    """Give a lead to `owner` (None returns it to the team pool). Owner must be on the lead's team.

    The one write path for owners: routing (qualify.routing) decides *whom* and passes its `rule`;
    every change is recorded with who, which rule and why, and SLA clocks follow the owner.
    """
    if owner is not None and lead.team_id not in owner.team_ids(Role.SDR, Role.AE, Role.MANAGER):
        raise DomainError(f"{owner} is not a rep on {lead.team}.", field="owner")
    with transaction.atomic():
        previous = Lead.objects.select_for_update().filter(pk=lead.pk).values_list("owner_id", flat=True).first()
        # updated_at too: metrics refresh finds changed leads by it (qualify/analytics/rollups.py).
        Lead.objects.filter(pk=lead.pk).update(owner=owner, updated_at=timezone.now())
        if previous != (owner.pk if owner else None):
            _owner_changed(lead, previous, owner, by=by, rule=rule, why=why)
    lead.refresh_from_db()
    return lead


def _owner_changed(lead: Lead, previous_id: int | None, owner: User | None, *, by: User | None, rule=None, why: str = "") -> None:
    from qualify.routing.history import ownership_changed

    ownership_changed(lead, previous_id, owner, by=by, rule=rule, why=why)
