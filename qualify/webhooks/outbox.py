"""Writing the outbox: one Delivery row per event and subscribed endpoint, in the change's
transaction, so a rolled-back change sends nothing and a committed one is never lost."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from functools import partial

from django.db import transaction
from django.utils import timezone

from qualify.leads.models import DisqualifyReason, Lead

from . import delivery
from .events import VERSION, Event
from .models import Delivery, Endpoint

LEAD_FIELDS = ("id", "team_id", "account_id", "stage", "owner_id", "ae_id", "first_name", "last_name", "email",
               "title", "source", "score", "fit_grade")


def new_msg_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def write(events: Iterable[Event]) -> list[int]:
    """Queue `events` for every active endpoint of the lead's team subscribed to them.

    Cheap when nobody listens: one query (active endpoints subscribed to any of the batch's event
    types) and nothing else. Otherwise one more for the leads (their team and state now), one for
    rejection reasons if any, and one INSERT for the batch. Delivery is kicked after commit.
    """
    events = list(events)
    if not events:
        return []
    endpoints = list(Endpoint.objects.filter(active=True, events__overlap=list({e.type for e in events}))
                     .values_list("id", "team_id", "events"))
    if not endpoints:
        return []
    subscribed: dict[tuple[int, str], list[int]] = defaultdict(list)
    for endpoint_id, team_id, types in endpoints:
        for t in types:
            subscribed[(team_id, t)].append(endpoint_id)
    teams = {team_id for _, team_id, _ in endpoints}
    leads = {row["id"]: row for row in Lead.objects.filter(pk__in={e.lead_id for e in events}, team_id__in=teams)
             .values(*LEAD_FIELDS)}
    _name_reasons(events)
    now = timezone.now()
    stamp = now.isoformat().replace("+00:00", "Z")
    rows = []
    for e in events:
        lead = leads.get(e.lead_id)
        team_id = e.team_id or (lead and lead["team_id"])
        targets = subscribed.get((team_id, e.type)) if lead else None
        if not targets:
            continue
        msg_id = new_msg_id()
        body = json.dumps({"id": msg_id, "type": e.type, "version": VERSION, "timestamp": stamp, "data": {
            "lead": lead, "previous": e.previous, "current": e.current, **e.details}}, separators=(",", ":"), default=str)
        rows += [Delivery(endpoint_id=endpoint_id, event=e.type, msg_id=msg_id, body=body, lead_id=e.lead_id, created_at=now,
                          next_attempt_at=now) for endpoint_id in targets]
    if not rows:
        return []
    # One INSERT however large the batch (client-side binding: no parameter limit).
    ids = [d.pk for d in Delivery.objects.bulk_create(rows)]
    transaction.on_commit(partial(delivery.kick, ids), robust=True)
    return ids


def _name_reasons(events: list[Event]) -> None:
    wanted = {e.current["reason"]["id"] for e in events if "reason" in e.current and e.current["reason"].get("id")}
    if wanted:
        names = dict(DisqualifyReason.objects.filter(pk__in=wanted).values_list("pk", "name"))
        for e in events:
            if "reason" in e.current:
                e.current["reason"]["name"] = names.get(e.current["reason"]["id"])
