"""Event ingestion: the one write path for behavioural events (API, imports, tests).

A batch of up to 1,000 items is validated item by item; bad items get their own errors and the
good ones still land. Each item names its lead by id, external id or email (optionally narrowed by
the account's domain) among the leads the poster can see, so another team's lead is "not found".
Each carries a client id, unique within the lead's team: the partial unique constraint on
Event (team, client_id) plus ON CONFLICT DO NOTHING make a retried request a no-op for the items
that already landed, while another team's ids never collide with this team's.

`ingest_events` is the REST door; the Segment-compatible API (qualify/segment) builds the same
items from messages it has validated itself (`encode_properties` for their properties) and stores
them with `insert_locked` after locking their leads in its own lookup, so both share the
properties rules, locking, the insert and the scoring they queue.

Cost for a full batch: 3 lookup queries, 1 lock (which also reads each lead's team), 1 INSERT …
SELECT FROM unnest(…) RETURNING, and one Celery message for the scoring of all the leads it touched.
"""

from __future__ import annotations

import datetime
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from qualify.ids import posted_id
from qualify.leads.models import EventType, Lead
from qualify.storable import has_nul, has_surrogate, nested_deeper

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

MAX_BATCH = 1000
MAX_PROPERTIES_BYTES = 4096
# Far past any real event, and far short of Python's recursion limit: JSON parsed at the door ~900
# levels deep was stored, then failed to load (RecursionError) on the deeper stack of a page.
MAX_DEPTH = 32
FUTURE_SKEW = datetime.timedelta(minutes=5)
# No tracked event is older than this; an earlier date is a sender's bug. It also keeps out dates
# PostgreSQL stores but Python cannot read back (year 1 at +01:00 is 1 BC in UTC), which would make
# every page that lists the lead's events fail.
EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
EVENT_TYPES = frozenset(EventType.values)
# Client ids of events from the Segment-compatible API (segment.Source.client_id): unique per team
# like every client id, so POST /api/events/ may not use one, or it would drop that message.
SEGMENT_CLIENT_IDS = "seg:"


class BatchError(ValueError):
    """The request as a whole is unusable (not a list, too many items)."""


@dataclass
class Item:
    index: int
    client_id: str = ""
    type: str = ""
    occurred_at: datetime.datetime | None = None
    properties_json: str = "{}"  # encoded once: the size check's JSON is the one inserted
    lead_id: int | None = None
    external_id: str = ""
    email: str = ""
    domain: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    status: str = ""
    event_id: int | None = None

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(message)

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "client_id": self.client_id, "status": self.status}
        if self.event_id:
            out["id"] = self.event_id
        if self.lead_id and self.status != "error":
            out["lead"] = self.lead_id
        if self.errors:
            out["errors"] = self.errors
        return out


def _text(item: Item, raw: dict[str, Any], key: str) -> str | None:
    """The string at `key`, or None after recording why it is unusable."""
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        item.fail(key, "Must be a string.")
        return None
    if "\x00" in value:
        item.fail(key, "Contains a NUL character (\\u0000), which cannot be stored.")
        return None
    if has_surrogate(value):
        item.fail(key, "Contains a lone surrogate (\\ud800-\\udfff), which is no character and cannot be stored.")
        return None
    return value


# allow_nan=False: JSON has no NaN or Infinity (1e999 parses as inf) and jsonb refuses them. One
# encoder for every item: json.dumps with an option builds a new one per call (0.6 ms a batch).
_PROPERTIES_ENCODER = json.JSONEncoder(allow_nan=False)


def encode_properties(props: dict[str, Any]) -> tuple[str, str]:
    """The properties as the JSON text to insert and ""; or "" and why they cannot be stored."""
    if nested_deeper(props, MAX_DEPTH):
        return "", f"Nested more than {MAX_DEPTH} levels deep."
    try:
        encoded = _PROPERTIES_ENCODER.encode(props)
    except ValueError:
        return "", "Numbers must be finite."
    if len(encoded) > MAX_PROPERTIES_BYTES:
        return "", f"At most {MAX_PROPERTIES_BYTES} bytes of properties."
    if "\\u0000" in encoded and has_nul(props):  # the cheap test first: it is rare
        return "", "Contains a NUL character (\\u0000), which cannot be stored."
    # ensure_ascii writes every non-BMP character as an escaped pair, so "\ud" alone proves nothing.
    if "\\ud" in encoded and has_surrogate(props):
        return "", "Contains a lone surrogate (\\ud800-\\udfff), which is no character and cannot be stored."
    return encoded, ""


def parse_item(index: int, raw: Any, now: datetime.datetime) -> Item:
    """Validate one item alone: whatever its shape, the result is an Item, with errors or without.
    Nothing here raises for bad input, so one item never sinks its batch."""
    item = Item(index)
    if not isinstance(raw, dict):
        item.fail("non_field_errors", "Each event must be an object.")
        return item
    client_id = _text(item, raw, "client_id")
    if client_id is not None:
        if not client_id.strip():
            item.fail("client_id", "A client id is required, so retries never count twice.")
        elif len(client_id) > 100:
            item.fail("client_id", "At most 100 characters.")
        else:
            item.client_id = client_id.strip()
    etype = raw.get("type")
    if isinstance(etype, str) and etype in EVENT_TYPES:
        item.type = etype
    else:
        shown = repr(etype[:40]) if isinstance(etype, str) else f"a {type(etype).__name__}"
        item.fail("type", f"Unknown event type {shown}; one of: {', '.join(sorted(EVENT_TYPES))}.")
    occurred = raw.get("occurred_at")
    try:
        # A datetime comes only from code (the Segment door has parsed it already), never from JSON.
        moment = occurred if isinstance(occurred, datetime.datetime) else parse_datetime(occurred) if isinstance(occurred, str) else None
    except ValueError:  # well formed but impossible, e.g. month 13
        moment = None
    if moment is None:
        item.fail("occurred_at", "An ISO 8601 date-time is required.")
    else:
        if timezone.is_naive(moment):
            item.fail("occurred_at", "Give a time zone (e.g. a trailing Z).")
        elif moment > now + FUTURE_SKEW:
            item.fail("occurred_at", "This is in the future.")
        elif moment < EARLIEST:
            item.fail("occurred_at", "This is before 1970.")
        else:
            item.occurred_at = moment
    props = raw.get("properties", {})
    if props is None:
        props = {}
    if not isinstance(props, dict):
        item.fail("properties", "Properties must be an object.")
    else:
        encoded, error = encode_properties(props)
        if error:
            item.fail("properties", error)
        else:
            item.properties_json = encoded
    lead = raw.get("lead_id", raw.get("lead"))
    if lead is not None:
        # ASCII digits only (qualify/ids.py), and no blanks around them here.
        digits = str(lead) if isinstance(lead, int) and not isinstance(lead, bool) else lead
        lead_id = posted_id(digits) if isinstance(digits, str) and digits == digits.strip() else None
        if lead_id is None:
            item.fail("lead_id", "A lead id is a positive integer.")
        else:
            item.lead_id = lead_id
    for key, attr in (("external_id", "external_id"), ("email", "email"), ("account_domain", "domain")):
        value = _text(item, raw, key)
        if value:
            setattr(item, attr, value.strip() if attr == "external_id" else value.strip().lower())
    if item.lead_id is None and not item.external_id and not item.email and not item.errors.keys() & {
        "lead_id", "external_id", "email"
    }:
        item.fail("lead", "Identify the lead by lead_id, external_id or email.")
    return item


def _resolve(user: User, items: list[Item]) -> None:
    """Set item.lead_id among the leads `user` can see, or add a per-item 'not found' error."""
    visible = Lead.objects.visible_to(user)
    want_ids = {i.lead_id for i in items if i.lead_id is not None}
    found_ids = set(visible.filter(pk__in=want_ids).values_list("pk", flat=True)) if want_ids else set()
    by_ext: dict[str, list[tuple[int, str]]] = {}
    exts = {i.external_id for i in items if i.lead_id is None and i.external_id}
    if exts:
        for pk, ext, domain in visible.filter(external_id__in=exts).values_list("pk", "external_id", "account__domain"):
            by_ext.setdefault(ext, []).append((pk, (domain or "").lower()))
    by_email: dict[str, list[tuple[int, str]]] = {}
    emails = {i.email for i in items if i.lead_id is None and not i.external_id and i.email}
    if emails:
        for pk, email, domain in visible.filter(email__in=emails).values_list(
            "pk", "email", "account__domain"
        ):
            by_email.setdefault(email.lower(), []).append((pk, (domain or "").lower()))
    for item in items:
        if item.errors:
            continue
        if item.lead_id is not None:
            if item.lead_id not in found_ids:
                item.fail("lead", "Lead not found.")
            continue
        key, table = (item.external_id, by_ext) if item.external_id else (item.email, by_email)
        candidates = table.get(key if item.external_id else key.lower(), [])
        if item.domain:
            candidates = [c for c in candidates if c[1] == item.domain]
        if not candidates:
            item.fail("lead", "Lead not found.")
        elif len(candidates) > 1:
            item.fail("lead", f"{len(candidates)} leads match; add account_domain to say which.")
        else:
            item.lead_id = candidates[0][0]


def ingest_events(user: User, payload: Any, *, now: datetime.datetime | None = None) -> dict[str, Any]:
    """Validate, resolve and store a batch; queue scoring for the leads that got new events.
    Raises BatchError for an unusable request (nothing stored)."""
    if isinstance(payload, dict) and "events" in payload:
        payload = payload["events"]
    if not isinstance(payload, list):
        raise BatchError("Send a list of events (or {\"events\": [...]}).")
    if len(payload) > MAX_BATCH:
        raise BatchError(f"At most {MAX_BATCH} events per request; this one has {len(payload)}.")
    now = now or timezone.now()
    items = [parse_item(i, raw, now) for i, raw in enumerate(payload)]
    for item in items:
        if item.client_id.startswith(SEGMENT_CLIENT_IDS):
            item.fail("client_id", f"Client ids starting with “{SEGMENT_CLIENT_IDS}” are the Segment-compatible API's.")
    _resolve(user, items)
    store_items(items, now=now)
    counts = {"created": 0, "duplicate": 0, "error": 0}
    for item in items:
        counts[item.status] += 1
    return {
        "created": counts["created"],
        "duplicates": counts["duplicate"],
        "errors": counts["error"],
        "results": [item.result() for item in items],
    }


def store_items(items: list[Item], *, now: datetime.datetime) -> None:
    """Insert the items without errors (their lead_id resolved) in one statement, and set every
    item's status: created, duplicate (its client id is already stored for the lead's team, or
    came earlier in this batch) or error. Queues the scoring of the touched leads after commit.
    The caller has checked that the leads are the sender's to write."""
    for item in items:
        if item.errors:
            item.status = "error"
    good = [i for i in items if not i.errors]
    if not good:
        return
    lead_ids = sorted({i.lead_id for i in good})
    with transaction.atomic():  # connects, so connection.connection is there
        # Server-side parameters, arrays in binary: Django's default client-side binding would
        # quote a thousand JSON strings into the SQL text, a third of this function's time.
        with psycopg.Cursor(connection.connection) as cur:
            # FOR SHARE before the INSERT allocates ids: see qualify/scoring/scores.py, "Locking protocol".
            # The same statement reads each lead's team, the scope of its events' client ids.
            cur.execute(
                "SELECT id, team_id FROM leads_lead WHERE id = ANY(%b::bigint[]) ORDER BY id FOR SHARE", [lead_ids]
            )
            insert_locked(cur, good, dict(cur.fetchall()), now=now)


def insert_locked(cur: psycopg.Cursor, items: list[Item], team_of: dict[int, int], *, now: datetime.datetime) -> None:
    """store_items' second half, for a caller that has locked the items' leads FOR SHARE in this
    transaction itself (the Segment door does so in the statement that finds them): the INSERT,
    the statuses, and the scoring queued after commit. `items` have no errors; `team_of` maps
    each locked lead to its team, and an item whose lead is not in it is "Lead not found"."""
    seen: set[tuple[int, str]] = set()
    kept: list[Item] = []
    for item in items:
        if item.lead_id not in team_of:  # deleted since it was resolved
            item.fail("lead", "Lead not found.")
            item.status = "error"
        elif (team_of[item.lead_id], item.client_id) in seen:
            item.status = "duplicate"  # the same id twice in one request counts once
        else:
            seen.add((team_of[item.lead_id], item.client_id))
            kept.append(item)
    if not kept:
        return
    good = sorted(kept, key=lambda i: (i.lead_id, i.index))
    cur.execute(
        """INSERT INTO leads_event (lead_id, team_id, type, properties, occurred_at, received_at, client_id)
           SELECT v.lead_id, v.team_id, v.type, v.props::jsonb, v.occurred_at, %b, v.client_id
           FROM unnest(%b::bigint[], %b::bigint[], %b::text[], %b::text[], %b::timestamptz[], %b::text[])
                AS v(lead_id, team_id, type, props, occurred_at, client_id)
           ON CONFLICT (team_id, client_id) WHERE client_id <> '' DO NOTHING
           RETURNING id, client_id, lead_id, team_id""",
        [
            now,
            [i.lead_id for i in good],
            [team_of[i.lead_id] for i in good],
            [i.type for i in good],
            [i.properties_json for i in good],
            [i.occurred_at for i in good],
            [i.client_id for i in good],
        ],
    )
    created = {(team, client_id): (pk, lead_id) for pk, client_id, lead_id, team in cur.fetchall()}
    touched = sorted({lead_id for _, lead_id in created.values()})
    if touched:
        transaction.on_commit(lambda: _enqueue(touched))
    for item in good:
        hit = created.get((team_of[item.lead_id], item.client_id))
        if hit is not None and hit[1] == item.lead_id:
            item.status, item.event_id = "created", hit[0]
        else:
            item.status = "duplicate"


def _enqueue(lead_ids: list[int]) -> None:
    """Queue the scoring of freshly committed events. The events are stored whatever happens here,
    so a broker outage must not turn the request into a 500: a client retrying it would only see
    duplicates and queue nothing. The reconciler (qualify/scoring/reconcile.py) scores these leads
    from the database within minutes."""
    from .tasks import score_leads

    try:
        score_leads.delay(lead_ids)
    except Exception:
        log.exception("Could not queue scoring for %s leads; the reconciler will score them", len(lead_ids))
