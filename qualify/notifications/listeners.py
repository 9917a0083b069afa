"""Who is told what, from the core's topics (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

Every row is written inside the change's transaction, so a rolled-back change tells nobody, and
each carries a key naming its event, so a second delivery of the same event adds nothing. E-mail
leaves after commit (delivery.save_all). Imported history (`imported=True`) tells nobody. This
module reads only the core's payloads and tables, never the apps that publish them (it sits
below them); links are built from URL names.

- handoff created, or reassigned by a manager → the receiving AE; accepted or rejected → the
  SDR who sent it, with the reason and the AE's note.
- owner changed → the new owner, unless they took it themselves or a handoff decision gave it
  (the handoff notification already says so); one notice for the lot when one change gives a
  person more than DIGEST_OVER leads (a routing batch).
- review verdict "needs follow-up" → whoever the task went to.
SLA warnings and breaches are written by the SLA sweep itself, in one INSERT per batch
(qualify/sla/sweep.py), through the same preferences.
"""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from qualify.formatting import show_date
from qualify.leads.changes import IN_TRANSACTION, HandoffChanged, LeadsMerged, OwnerChanged, ReviewVerdict, listen
from qualify.leads.models import DisqualifyReason, Lead

from . import delivery
from .models import Notification, NotificationKind

# A handoff decision's own owner change: accept gives the lead to the AE (who did it), and a
# rejection back to the SDR is announced as the rejection (qualify/handoff/workflow.py's `why`).
HANDOFF_WHY = "Handoff "


def _leads(ids) -> dict[int, Lead]:
    return Lead.objects.only("first_name", "last_name", "email").in_bulk(list(set(ids)))


def _name(user: User | None, fallback: str = "Qualify") -> str:
    return str(user) if user is not None else fallback


DIGEST_OVER = delivery.DIGEST_OVER
DIGEST_NAMES = 10  # names listed in a digest's body; the rest are counted


@listen("owner_changed", when=IN_TRANSACTION)
def tell_new_owners(batch: list[OwnerChanged]) -> None:
    """The new owner of each lead who did not take it themselves: a notification per lead, or one
    per person and source when the batch gives them more than DIGEST_OVER (a manager's bulk
    reassign of 50 leads is one notice and one e-mail, not 50). Three queries, one INSERT."""
    told = [c for c in batch if c.to_id is not None and c.to_id != c.by_id and not c.imported
            and not c.why.startswith(HANDOFF_WHY)]
    if not told:
        return
    users = User.objects.in_bulk({c.to_id for c in told} | {c.by_id for c in told if c.by_id})
    leads = _leads(c.lead_id for c in told)
    groups: dict[tuple, list[tuple[OwnerChanged, Lead]]] = {}
    for c in told:
        lead = leads.get(c.lead_id)
        if lead is not None and c.to_id in users:
            groups.setdefault((c.to_id, c.by_id, c.rule_name, bool(c.from_id)), []).append((c, lead))
    rows = []
    for (to_id, by_id, rule_name, again), changes in groups.items():
        by = users.get(by_id) if by_id else None
        source = f"by {by}" if by else (f"by rule '{rule_name}'" if rule_name else "by Qualify")
        verb = "reassigned" if again else "assigned"
        if len(changes) > DIGEST_OVER:
            rows.append(_digest(users[to_id], changes, verb, source))
            continue
        for c, lead in changes:
            rows.append(delivery.make(
                users[to_id], kind=NotificationKind.ASSIGNED, title=f"Lead {verb} to you: {lead.full_name}",
                body=f"{lead.full_name} was {verb} to you {source}." + (f"\nWhy: {c.why}" if c.why else ""),
                url=reverse("leads:detail", args=[lead.pk]), lead_id=lead.pk,
            ))
    delivery.save_all(rows)


def _digest(user: User, changes: list[tuple[OwnerChanged, Lead]], verb: str, source: str) -> Notification:
    """One notice for many leads given to `user` at once: the count, the first names, the reason
    when they share one, and a link to their queue."""
    names = [lead.full_name for _, lead in changes]
    listed = ", ".join(names[:DIGEST_NAMES]) + (f" and {len(names) - DIGEST_NAMES} more" if len(names) > DIGEST_NAMES else "")
    whys = {c.why for c, _ in changes}
    why = f"\nWhy: {whys.pop()}" if len(whys) == 1 and "" not in whys else ""
    return delivery.make(
        user, kind=NotificationKind.ASSIGNED, title=f"{len(names)} leads {verb} to you",
        body=f"{len(names)} leads were {verb} to you {source}: {listed}.{why}", url=reverse("leads:queue"),
    )


@listen("handoff_changed", when=IN_TRANSACTION)
def tell_handoff_people(batch: list[HandoffChanged]) -> None:
    """A new (or reassigned) handoff to its AE; a decision to the SDR who sent it. Closed handoffs (the lead moved
    on without a decision) tell nobody. About four queries for the batch, one INSERT."""
    wanted = [c for c in batch if c.status in ("pending", "reassigned", "accepted", "rejected") and c.extra.get("to_user_id")]
    if not wanted:
        return
    people = {c.extra.get("to_user_id") for c in wanted} | {c.extra.get("from_user_id") for c in wanted} | {c.by_id for c in wanted}
    users = User.objects.in_bulk({p for p in people if p})
    leads = _leads(c.lead_id for c in wanted)
    reasons = DisqualifyReason.objects.in_bulk({c.reason_id for c in wanted if c.reason_id})
    rows = []
    for c in wanted:
        lead = leads.get(c.lead_id)
        if lead is None:
            continue
        url = reverse("handoff:detail", args=[c.handoff_id])
        by = _name(users.get(c.by_id))
        if c.status == "pending":
            to = users.get(c.extra["to_user_id"])
            if to is None:
                continue
            rows.append(delivery.make(
                to, kind=NotificationKind.HANDOFF_RECEIVED, title=f"Handoff received: {lead.full_name}",
                body=f"{by} handed {lead.full_name} to you.\nNext step: {c.note}", url=url, lead_id=lead.pk,
                key=f"handoff:{c.handoff_id}:pending",
            ))
            continue
        if c.status == "reassigned":
            # Told like a handoff received, with who gave it and why; keyed by the moment, so
            # a handoff given back to an earlier AE tells them again.
            to = users.get(c.extra["to_user_id"])
            if to is None or to.pk == c.by_id:
                continue
            rows.append(delivery.make(
                to, kind=NotificationKind.HANDOFF_RECEIVED, title=f"Handoff received: {lead.full_name}",
                body=f"{by} reassigned {lead.full_name}'s handoff to you." + (f"\nWhy: {c.note}" if c.note else "")
                     + f"\nNext step: {c.extra.get('next_step', '')}",
                url=url, lead_id=lead.pk, key=f"handoff:{c.handoff_id}:reassigned:{c.extra['at'].timestamp()}",
            ))
            continue
        sdr = users.get(c.extra.get("from_user_id"))
        if sdr is None or sdr.pk == c.by_id:
            continue
        note = c.extra.get("decision_note", "")
        if c.status == "accepted":
            rows.append(delivery.make(
                sdr, kind=NotificationKind.HANDOFF_ACCEPTED, title=f"Handoff accepted: {lead.full_name}",
                body=f"{by} accepted {lead.full_name}." + (f"\nNote: {note}" if note else ""), url=url, lead_id=lead.pk,
                key=f"handoff:{c.handoff_id}:accepted",
            ))
        else:
            reason = reasons.get(c.reason_id)
            rows.append(delivery.make(
                sdr, kind=NotificationKind.HANDOFF_REJECTED,
                title=f"Handoff rejected: {lead.full_name} ({reason or 'no reason'})",
                body=f"{by} rejected {lead.full_name}.\nReason: {reason or '—'}" + (f"\nNote: {note}" if note else ""),
                url=url, lead_id=lead.pk, key=f"handoff:{c.handoff_id}:rejected",
            ))
    delivery.save_all(rows)


@listen("review_verdict", when=IN_TRANSACTION)
def tell_follow_up_assignees(batch: list[ReviewVerdict]) -> None:
    """A "needs follow-up" verdict tells whoever the task went to (the reviewer excepted)."""
    wanted = [c for c in batch if c.extra.get("assignee_id") and c.extra["assignee_id"] != c.by_id]
    if not wanted:
        return
    users = User.objects.in_bulk({c.extra["assignee_id"] for c in wanted} | {c.by_id for c in wanted if c.by_id})
    leads = _leads(c.lead_id for c in wanted)
    rows = []
    for c in wanted:
        lead, to = leads.get(c.lead_id), users.get(c.extra["assignee_id"])
        if lead is None or to is None:
            continue
        due = c.extra.get("due_on")
        rows.append(delivery.make(
            to, kind=NotificationKind.REVIEW_FOLLOW_UP, title=f"Review follow-up: {lead.full_name}",
            body=f"{_name(users.get(c.by_id), 'A reviewer')} asks you to follow up"
                 + (f" by {show_date(due)}" if due else "") + f":\n{c.extra.get('follow_up', '')}\nWhy: {c.note}",
            url=reverse("reviews:tasks"), lead_id=lead.pk,
            key=f"review:{c.item_id}:{c.extra.get('at', '')}"[:100],
        ))
    delivery.save_all(rows)


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_notifications(batch: list[LeadsMerged]) -> None:
    """Notifications about the merged lead now name the survivor."""
    for change in batch:
        Notification.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
