"""Changing who owns a lead: the one write path for owners (claim, assign, assign_many).

Routing (qualify.routing) decides *whom* and calls these; so do a manager's reassign, an SLA
escalation, an accepted handoff, the API, admin and the importer. Every change is published as
`owner_changed` (qualify.leads.changes): routing writes the Assignment record and SLA clocks follow
the owner inside the same transaction; the new owner is told after commit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from qualify.errors import DomainError

from .changes import OwnerChanged, publish
from .models import Lead

if TYPE_CHECKING:
    from django.db.models import QuerySet

# Roles that may own a lead of a team: routing picks among them and assign() checks the same.
OWNER_ROLES = (Role.SDR, Role.AE, Role.MANAGER)


def eligible_owners(*team_ids: int) -> QuerySet[User]:
    """People a lead of the teams may be given to: their active SDRs, AEs and managers. One query."""
    return (
        User.objects.filter(is_active=True, memberships__team_id__in=team_ids, memberships__role__in=OWNER_ROLES)
        .distinct().order_by("first_name", "username")
    )


def can_reassign(user: User, lead: Lead) -> bool:
    """Managers of the lead's team and RevOps admins reassign; reps claim or hand off instead."""
    return can_reassign_in(user, lead.team_id)


def can_reassign_in(user: User, team_id: int) -> bool:
    """can_reassign for a team's leads, a new one included (its owner is chosen the same way)."""
    return user.manages(team_id)


def claim(lead: Lead, *, by: User) -> Lead:
    """An SDR takes an unassigned lead from their team's pool; the first claim wins."""
    if lead.team_id not in by.team_ids(Role.SDR, Role.MANAGER) and not by.is_admin:
        raise DomainError("Only the team's SDRs can claim its pool leads.")
    with transaction.atomic():
        # Conditional update: two SDRs clicking "claim" at once cannot both win.
        won = Lead.objects.filter(pk=lead.pk, owner__isnull=True).update(owner=by, updated_at=timezone.now())
        if won != 1:
            raise DomainError("Someone else claimed this lead first.")
        publish("owner_changed", [OwnerChanged(lead.pk, None, by.pk, by.pk, why="Claimed from the team pool")])
    lead.refresh_from_db()
    return lead


NOT_ON_TEAM = "Choose an active SDR, AE or manager of this lead's team."


def assign(lead: Lead, *, owner: User | None, by: User | None, rule: Any = None, why: str = "") -> Lead:
    """Give a lead to `owner` (None returns it to the team pool). Owner must be on the lead's team.

    `rule` is the routing rule that chose them (anything with `pk` and `name`). Locks the row; a
    no-op when the owner is already `owner`. Costs 2 queries plus the listeners'."""
    if owner is not None and lead.team_id not in owner.team_ids(*OWNER_ROLES):
        raise DomainError(NOT_ON_TEAM, field="owner")
    with transaction.atomic():
        previous = Lead.objects.select_for_update().filter(pk=lead.pk).values_list("owner_id", flat=True).first()
        new_id = owner.pk if owner else None
        if previous != new_id:
            # updated_at too: metrics refresh finds changed leads by it (qualify/analytics/rollups.py).
            Lead.objects.filter(pk=lead.pk).update(owner=owner, updated_at=timezone.now())
            publish("owner_changed", [_change(lead.pk, previous, new_id, by, rule, why)])
    lead.refresh_from_db()
    return lead


def reassign_many(leads: list[Lead], *, owner: User, by: User, why: str) -> dict[int, str]:
    """Give `leads` to `owner` at once (a manager's bulk reassign): `assign`'s rule for each lead
    (the owner must be on its team), then one transaction that locks them and writes every owner
    through assign_many, so the listeners see one batch (the new owner hears once, not once per
    lead). Leads already `owner`'s change nothing. Returns {lead id: why refused}. The caller has
    checked that `by` may reassign each lead. About 5 queries plus the listeners', whatever the count."""
    teams = set(owner.team_ids(*OWNER_ROLES))
    refused = {lead.pk: NOT_ON_TEAM for lead in leads if lead.team_id not in teams}
    ids = sorted(lead.pk for lead in leads if lead.pk not in refused)
    with transaction.atomic():
        list(Lead.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
        assign_many({pk: (owner.pk, None, why) for pk in ids}, by=by)
    return refused


def assign_many(owners: dict[int, tuple[int | None, Any, str]], *, by: User | None) -> list[OwnerChanged]:
    """Give many leads their owners at once (routing a batch of new MQLs): `owners` maps a lead id
    to (owner id or None, rule or None, why). The caller has checked the owners (routing picks team
    members) and holds the leads' row locks. One SELECT, one UPDATE and one published batch, so
    1,000 leads over 10 reps cost about a dozen statements with their listeners. Inside the caller's
    transaction no savepoint is taken (a failure fails the caller's whole batch, as it should).
    Returns the changes made."""
    if not owners:
        return []
    with transaction.atomic(savepoint=False):
        previous = dict(Lead.objects.filter(pk__in=list(owners)).values_list("pk", "owner_id"))
        per_owner: dict[int | None, list[int]] = {}
        changes = []
        for lead_id, (owner_id, rule, why) in owners.items():
            if lead_id in previous and previous[lead_id] != owner_id:
                per_owner.setdefault(owner_id, []).append(lead_id)
                changes.append(_change(lead_id, previous[lead_id], owner_id, by, rule, why))
        _write_owners({lead_id: owner_id for owner_id, ids in per_owner.items() for lead_id in ids})
        publish("owner_changed", changes)
    return changes


def _write_owners(owners: dict[int, int | None]) -> None:
    """One UPDATE for every lead of the batch, whoever its new owner: the ids and owners travel as
    two arrays joined by UNNEST (one statement and two parameters, not one UPDATE per rep)."""
    if not owners:
        return
    table, pk, owner = Lead._meta.db_table, Lead._meta.pk, Lead._meta.get_field("owner")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS l SET {owner.column} = v.owner_id, updated_at = %s "
            f"FROM UNNEST(%s::{pk.db_type(connection)}[], %s::{owner.db_type(connection)}[]) AS v(id, owner_id) "
            f"WHERE l.{pk.column} = v.id",
            [timezone.now(), list(owners), list(owners.values())],
        )


def _change(lead_id: int, from_id: int | None, to_id: int | None, by: User | None, rule: Any, why: str) -> OwnerChanged:
    return OwnerChanged(
        lead_id, from_id, to_id, by.pk if by else None, rule.pk if rule else None, rule.name if rule else "", why[:300]
    )
