"""Merging two leads, or two accounts, into one: the one write path every door calls (the
duplicates page, `POST /api/leads/{id}/merge/`, `POST /api/accounts/{id}/merge/`, the admin action).

A merge keeps everything. In one transaction it:

1. locks both rows in id order (`SELECT ... FOR UPDATE`), so two merges of the same pair
   serialize and the second finds the lead gone and says it was already merged;
2. refuses a pair of different teams (a team is a separate workspace), and anyone but the team's
   managers and RevOps (access.require_merge: PermissionDenied, whichever door asks);
3. moves the core's rows of the merged-away lead onto the survivor: events, touches and stage
   history (the append-only triggers are lifted for this one statement each), and the redirects
   of leads merged into it earlier (chains stay flat);
4. publishes `leads_merged` in the transaction: each app re-points its own rows (handoffs, answers,
   SLA clocks, escalations and notifications, assignments, review items and tasks, score snapshots,
   duplicate candidates), settling what may exist once per lead (a pending handoff, an open clock);
5. records the redirect (MergedLead: the old id keeps resolving, with a snapshot of its fields),
   deletes the merged row with foreign keys checked at once, so a row some app forgot to move
   makes the merge fail instead of being cascaded away, and writes the survivor's chosen fields;
6. publishes `lead_saved` for the survivor with the fields that changed; after commit, scoring
   recomputes the survivor from all its events (the merged events are below its watermark, so the
   incremental path would miss them).

The survivor keeps its own stage and owner (those change through lifecycle and assignment, which
keep their history): choose as survivor the lead further along. Audit rows (pghistory) of the
merged lead stay under its id; MergedLead says where it went.

Costs: about 12 statements of its own plus one per listener table, whatever the number of events.
"""

from __future__ import annotations

import json

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone

from qualify.errors import DomainError

from .access import require_merge
from .changes import AccountSaved, AccountsMerged, LeadSaved, LeadsMerged, publish
from .models import Account, Event, Lead, MergedAccount, MergedLead, Stage, StageChange, Touch
from .records import changed_fields

if TYPE_CHECKING:
    from accounts.models import User

# The fields a merge chooses one by one (stage and owner stay the survivor's; see above).
LEAD_FIELDS = (
    "first_name", "last_name", "email", "phone", "title", "seniority", "department", "persona", "source",
    "campaign", "partner_name", "partner_contact", "external_id", "account",
)
ACCOUNT_FIELDS = ("name", "domain", "industry", "employee_count", "revenue_band", "country", "region", "segment", "owner")

SURVIVOR, OTHER = "survivor", "other"

# How far along a lead is: the default survivor is the one further along (it keeps its stage and
# owner), so a merge never sends a deal back to New.
FURTHER = {s: i for i, s in enumerate([
    Stage.DISQUALIFIED, Stage.NURTURE, Stage.NEW, Stage.MQL, Stage.WORKING, Stage.HANDED_OFF, Stage.ACCEPTED,
    Stage.OPPORTUNITY, Stage.LOST, Stage.WON,
])}


def default_survivor(a: Lead, b: Lead) -> Lead:
    """The lead further along the funnel, then the older."""
    return max((a, b), key=lambda lead: (FURTHER[lead.stage], -lead.pk))


def _value(obj: Any, name: str) -> Any:
    field = obj._meta.get_field(name)
    return getattr(obj, field.attname)


def _same(a: Any, b: Any) -> bool:
    return a.casefold() == b.casefold() if isinstance(a, str) and isinstance(b, str) else a == b


# A lead's attribution: where the person first came from, kept from the older record by default.
FIRST_TOUCH = ("source", "campaign", "partner_name", "partner_contact")


def default_choices(survivor: Lead | Account, other: Lead | Account, names: tuple[str, ...]) -> dict[str, str]:
    """Per field, whose value to keep: the non-empty one; when both have one, the more recently
    changed record's (leads: `updated_at`; accounts: the newer row), except a lead's attribution
    (FIRST_TOUCH), which the record created first keeps. Two texts that differ only in
    capitals are one value: the survivor keeps its own ("MELISA@DESPACHO.ES" typed again into a
    webinar form does not replace "melisa@despacho.es")."""
    newer_is_other = (getattr(other, "updated_at", other.created_at) or other.created_at) > (
        getattr(survivor, "updated_at", survivor.created_at) or survivor.created_at)
    other_came_first = other.created_at < survivor.created_at
    choices = {}
    for name in names:
        mine, theirs = _value(survivor, name), _value(other, name)
        empty_mine, empty_theirs = mine in ("", None), theirs in ("", None)
        # Where the person first came from is kept (first-touch attribution): a webinar form filled
        # in again does not make an inbound lead an event lead.
        prefer_other = other_came_first if name in FIRST_TOUCH else newer_is_other
        if empty_mine and not empty_theirs:
            choices[name] = OTHER
        elif not empty_mine and not empty_theirs and not _same(mine, theirs) and prefer_other:
            choices[name] = OTHER
        else:
            choices[name] = SURVIVOR
    return choices


def _chosen_values(survivor, other, names: tuple[str, ...], fields: Mapping[str, str] | None) -> dict[str, Any]:
    """Field name -> the value the survivor takes from `other` (relations as ids)."""
    choices = default_choices(survivor, other, names)
    for name, choice in (fields or {}).items():
        if name not in names:
            raise DomainError(f"{name} is not a field a merge chooses.", field="fields")
        if choice not in (SURVIVOR, OTHER):
            raise DomainError(f"Choose '{SURVIVOR}' or '{OTHER}' for {name}.", field="fields")
        choices[name] = choice
    return {name: _value(other, name) for name, choice in choices.items() if choice == OTHER}


def _properties_union(keep, gone) -> dict[str, Any]:
    """Custom properties: the survivor keeps its values and gains those only the other had."""
    union = {**(gone.properties or {}), **(keep.properties or {})}
    return {"properties": union} if union != keep.properties else {}


def _write_chosen(obj, values: dict[str, Any]) -> set[str]:
    """Set the chosen values that differ on `obj` (not saved); returns their names."""
    changed = changed_fields(obj, values)
    for name in changed:
        setattr(obj, obj._meta.get_field(name).attname, values[name])
    return changed


def _snapshot(obj, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: str(_value(obj, name) if _value(obj, name) is not None else "") for name in (*names, "created_at")}


def _lock_pair(model, survivor, other, redirects, noun: str, by: User | None) -> tuple[Any, Any]:
    """(survivor, other) re-read and locked in id order (no deadlock between merges of crossing
    pairs); refused when they are one, gone, or of different teams (DomainError), or when `by` may
    not merge that team's records (PermissionDenied)."""
    a_id, b_id = int(getattr(survivor, "pk", survivor)), int(getattr(other, "pk", other))
    if a_id == b_id:
        raise DomainError("A record cannot be merged with itself.")
    rows = {row.pk: row for row in model.objects.select_for_update().filter(pk__in=[a_id, b_id]).order_by("pk")}
    for pk in (a_id, b_id):
        if pk not in rows:
            gone = redirects.filter(merged_id=pk).values_list("survivor_id", flat=True).first()
            if gone is not None:
                raise DomainError(f"#{pk} was already merged into #{gone}.")
            raise DomainError(f"#{pk} no longer exists.")
    if by is not None:  # None: the system itself (a script), not a person
        # Both teams, and before the cross-team refusal: someone who may not merge is told only that.
        require_merge(by, rows[a_id].team_id)
        require_merge(by, rows[b_id].team_id)
    if rows[a_id].team_id != rows[b_id].team_id:
        raise DomainError(f"These {noun} belong to different teams and cannot be merged.")
    return rows[a_id], rows[b_id]


def _delete_checked(table: str, pk: int) -> None:
    """Delete one row with every foreign key checked now rather than at commit: a row still pointing
    at it (one a listener failed to move) fails the merge here, with the table in the message."""
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(f'DELETE FROM "{table}" WHERE id = %s', [pk])
        cur.execute("SET CONSTRAINTS ALL DEFERRED")


def merge_leads(survivor: Lead | int, other: Lead | int, *, by: User | None,
                fields: Mapping[str, str] | None = None) -> Lead:
    """Merge `other` into `survivor` and return the survivor as it is now. `fields` maps a field
    name to "survivor" or "other" (default_choices fills the rest). DomainError when the pair is
    the same lead, of different teams, or one of them was already merged; PermissionDenied when
    `by` is not a manager of the team or RevOps."""
    by_id = by.pk if by else None
    with transaction.atomic():
        keep, gone = _lock_pair(Lead, survivor, other, MergedLead.objects, "leads", by)
        values = _chosen_values(keep, gone, LEAD_FIELDS, fields) | _properties_union(keep, gone)
        snapshot = _snapshot(gone, LEAD_FIELDS) | {"stage": gone.stage, "owner_id": str(gone.owner_id or ""),
                                                   "properties": json.dumps(gone.properties)}

        # The core's rows. Events and stage history are append-only; lifting that for the move of
        # their lead is the one exception, and only inside this transaction.
        with pgtrigger.ignore("leads.Event:event_append_only", "leads.StageChange:stagechange_append_only"):
            Event.objects.filter(lead_id=gone.pk).update(lead_id=keep.pk)
            StageChange.objects.filter(lead_id=gone.pk).update(lead_id=keep.pk)
        Touch.objects.filter(lead_id=gone.pk).update(lead_id=keep.pk)
        MergedLead.objects.filter(survivor_id=gone.pk).update(survivor_id=keep.pk)
        MergedLead.objects.create(merged_id=gone.pk, survivor_id=keep.pk, by_id=by_id, snapshot=snapshot)

        publish("leads_merged", [LeadsMerged(keep.pk, gone.pk, by_id)])
        # external_id is unique per team: the merged row goes before the survivor may take its id.
        _delete_checked(Lead._meta.db_table, gone.pk)

        changed = _write_chosen(keep, values)
        if gone.last_touch_at and (keep.last_touch_at is None or gone.last_touch_at > keep.last_touch_at):
            keep.last_touch_at = gone.last_touch_at
        keep.updated_at = timezone.now()
        keep.save(update_fields=[*changed, "last_touch_at", "updated_at"])
        # Scoring rescores the survivor over its events on leads_merged; lead_saved tells the rest.
        publish("lead_saved", [LeadSaved(keep.pk, False, frozenset(changed), by_id)])
    keep.refresh_from_db()
    return keep


def merge_accounts(survivor: Account | int, other: Account | int, *, by: User | None,
                   fields: Mapping[str, str] | None = None) -> Account:
    """Merge account `other` into `survivor`: its leads move to the survivor, the chosen fields
    are written, and its id keeps resolving (MergedAccount). Same rules and errors as merge_leads."""
    by_id = by.pk if by else None
    with transaction.atomic():
        keep, gone = _lock_pair(Account, survivor, other, MergedAccount.objects, "accounts", by)
        values = _chosen_values(keep, gone, ACCOUNT_FIELDS, fields) | _properties_union(keep, gone)
        moved = list(Lead.objects.filter(account_id=gone.pk).values_list("pk", flat=True))
        Lead.objects.filter(account_id=gone.pk).update(account_id=keep.pk, updated_at=timezone.now())
        MergedAccount.objects.filter(survivor_id=gone.pk).update(survivor_id=keep.pk)
        MergedAccount.objects.create(merged_id=gone.pk, survivor_id=keep.pk, by_id=by_id,
                                     snapshot=_snapshot(gone, ACCOUNT_FIELDS))
        publish("accounts_merged", [AccountsMerged(keep.pk, gone.pk, by_id)])
        # The domain is unique per team: the merged row goes before the survivor may take its domain.
        _delete_checked(Account._meta.db_table, gone.pk)
        changed = _write_chosen(keep, values)
        if changed:
            keep.save(update_fields=list(changed))
        publish("account_saved", [AccountSaved(keep.pk, False, frozenset(changed), by_id)])
        publish("lead_saved", [LeadSaved(pk, False, frozenset({"account"}), by_id) for pk in moved])
    keep.refresh_from_db()
    return keep
