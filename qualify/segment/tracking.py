"""Segment messages (identify, group, alias, track, page, screen) as leads, accounts and events.

Leads and accounts change only through qualify.leads.records; events go through the same
functions as POST /api/events/ (scoring.ingest: encode_properties, insert_locked, store_items), so
they share its properties rules, its one INSERT per batch, its per-team dedupe, its locking and
the scoring it queues.

Who a message is about: `userId` is the lead's external id in the source's team; an
`anonymousId` is looked up in AnonymousId, which identify and alias fill. An event whose sender is
not a lead yet is kept in PendingEvent and moved into Event when identify or alias links it.

Cost of a batch of events: the page rules when it has pages, then one transaction of two
statements: the lookup of the senders (anonymous ids and external ids, bound as arrays), which
also locks their leads, and the INSERT; a batch with senders who are no lead yet adds
_keep_pending's few statements. Identify,
group and alias are a few queries each, in a transaction each, so one that fails changes nothing
and the others still apply.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from qualify.dedupe.rules import FREE_MAIL
from qualify.errors import DomainError
from qualify.leads import records
from qualify.leads.models import Account, EventType, Lead, Source as LeadSource
from qualify.scoring.ingest import EARLIEST, MAX_DEPTH, Item, encode_properties, insert_locked, parse_item, store_items
from qualify.storable import has_nul, has_surrogate, nested_deeper

from .models import AnonymousId, PageRule, PendingEvent, Source

IDENTITY_TYPES = ("identify", "group", "alias")
EVENT_TYPES = ("track", "page", "screen")
TYPES = frozenset(IDENTITY_TYPES + EVENT_TYPES)


class Rejected(ValueError):
    """This message cannot be used; the others of its batch still are."""


@dataclass
class Message:
    index: int
    raw: dict[str, Any]
    type: str
    message_id: str
    user_id: str
    anonymous_id: str
    occurred_at: datetime.datetime
    error: str = ""
    # What was skipped of a message that was otherwise applied (an invalid email trait): the
    # answer lists them as `warnings`, by index and messageId, beside a 200.
    warnings: list[str] = field(default_factory=list)


def _id(raw: dict[str, Any], key: str, limit: int) -> str:
    value = raw.get(key)
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Rejected(f"{key} must be a string.")
    text = str(value).strip()
    if len(text) > limit:
        raise Rejected(f"{key} is longer than {limit} characters.")
    return text


def _moment(raw: dict[str, Any], now: datetime.datetime) -> datetime.datetime:
    """`timestamp` (or `originalTimestamp`), else now; a device clock ahead of ours is clamped to now,
    and a date before 1970 is refused (ingest.EARLIEST says why)."""
    for key in ("timestamp", "originalTimestamp"):
        value = raw.get(key)
        if isinstance(value, str):
            try:
                moment = parse_datetime(value)
            except ValueError:
                moment = None
            if moment is None:
                raise Rejected(f"{key} is not an ISO 8601 date-time.")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            if moment < EARLIEST:
                raise Rejected(f"{key} is before 1970.")
            return min(moment, now)
    return now


def parse(index: int, raw: Any, now: datetime.datetime, kind: str | None = None, *, nul_possible: bool = True,
          surrogate_possible: bool = True) -> Message:
    """One message of a batch (or the body of /v1/<kind>), validated alone. `nul_possible=False`
    (the body has no \\u0000) skips walking the message for NUL characters, and
    `surrogate_possible=False` for lone surrogates."""
    msg = Message(index, raw if isinstance(raw, dict) else {}, "", "", "", "", now)
    try:
        if not isinstance(raw, dict):
            raise Rejected("Each message must be an object.")
        if nested_deeper(raw, MAX_DEPTH):  # before the NUL walk, which recurses
            raise Rejected(f"The message is nested more than {MAX_DEPTH} levels deep.")
        if nul_possible and has_nul(raw):
            raise Rejected("The message contains a NUL character (\\u0000), which cannot be stored.")
        if surrogate_possible and has_surrogate(raw):
            raise Rejected("The message contains a lone surrogate (\\ud800-\\udfff), which is no character and cannot be stored.")
        kind = kind or raw.get("type")
        msg.type = kind if isinstance(kind, str) else ""
        if msg.type not in TYPES:
            raise Rejected(f"Unknown type; one of: {', '.join(sorted(TYPES))}.")
        # Source.client_id hashes an id too long for Event.client_id.
        msg.message_id = _id(raw, "messageId", 200) or f"qualify-{uuid.uuid4()}"
        msg.user_id = _id(raw, "userId", 100)
        msg.anonymous_id = _id(raw, "anonymousId", 200)
        if msg.type == "alias":
            if not msg.user_id or not _id(raw, "previousId", 200):
                raise Rejected("alias needs userId and previousId.")
        elif not msg.user_id and not msg.anonymous_id:
            raise Rejected("Every message needs a userId or an anonymousId.")
        if msg.type == "track" and not (isinstance(raw.get("event"), str) and raw["event"].strip()):
            raise Rejected("track needs an event name.")
        if msg.type == "group" and not _id(raw, "groupId", 200) and not isinstance(raw.get("traits"), dict):
            raise Rejected("group needs a groupId or traits.")
        for key in ("properties", "traits", "context"):
            if raw.get(key) is not None and not isinstance(raw[key], dict):
                raise Rejected(f"{key} must be an object.")
        msg.occurred_at = _moment(raw, now)
    except Rejected as e:
        msg.error = str(e)
    return msg


def receive(source: Source, messages: list[Message], *, now: datetime.datetime) -> None:
    """Apply the valid messages of one request; sets `error` on those that could not be applied.
    Identities first, so a batch that identifies a user and then tracks them needs no second pass."""
    for msg in messages:
        if not msg.error and msg.type in IDENTITY_TYPES:
            try:
                with transaction.atomic():
                    {"identify": _identify, "group": _group, "alias": _alias}[msg.type](source, msg, now)
            except (DomainError, Rejected) as e:
                msg.error = str(e)
    _events(source, [m for m in messages if not m.error and m.type in EVENT_TYPES], now)


# --- events -----------------------------------------------------------------------------------


def _page_rules(team_id: int) -> list[PageRule]:
    return list(PageRule.objects.filter(Q(team_id=team_id) | Q(team__isnull=True)))


def _as_event(msg: Message, rules: list[PageRule] | None) -> tuple[str, dict[str, Any]]:
    """The Qualify event type and properties of a track, page or screen message."""
    props = dict(msg.raw.get("properties") or {})
    if msg.type == "track":
        props["event"] = msg.raw["event"].strip()
        return EventType.TRACK, props
    name = msg.raw.get("name") if isinstance(msg.raw.get("name"), str) else ""
    path = props.get("path") if isinstance(props.get("path"), str) else ""
    if msg.type == "page":
        props.setdefault("name", name)
    else:
        props["screen"] = name
    category = next((r.category for r in rules or () if r.matches(name, path)), "")
    if category:
        props["page_category"] = category
    return EventType.PAGE_VIEW, props


def _events(source: Source, msgs: list[Message], now: datetime.datetime) -> None:
    """Store the events of a batch: one transaction finds the senders' leads, locks them and
    inserts the events (insert_locked); those of senders who are no lead yet wait in
    PendingEvent (_keep_pending). Items are built here directly rather than through parse_item:
    parse() has checked what parse_item would, but for the properties this builds (encoded once)."""
    if not msgs:
        return
    team_id = source.team_id
    rules = _page_rules(team_id) if any(m.type != "track" for m in msgs) else None
    items: list[tuple[Message, Item, dict[str, Any]]] = []
    for msg in msgs:
        etype, props = _as_event(msg, rules)
        encoded, error = encode_properties(props)
        if error:
            msg.error = f"properties: {error}"
            continue
        item = Item(msg.index, client_id=source.client_id(msg.message_id), type=etype,
                    occurred_at=msg.occurred_at, properties_json=encoded)
        items.append((msg, item, props))
    if not items:
        return
    waiting: list[tuple[Message, Item, dict[str, Any]]] = []
    with transaction.atomic():  # connects, so connection.connection is there
        with psycopg.Cursor(connection.connection) as cur:
            leads, team_of = _lock_leads(cur, team_id, {m.user_id for m, _, _ in items if m.user_id},
                                         {m.anonymous_id for m, _, _ in items if m.anonymous_id})
            found = []
            for msg, item, props in items:
                item.lead_id = _lead_of(msg, leads)
                if item.lead_id is None:
                    waiting.append((msg, item, props))
                else:
                    found.append(item)
            if found:
                insert_locked(cur, found, team_of, now=now)
    if waiting:
        # Apart, after the commit: the pending path takes advisory locks before leads' row locks.
        resolved = _keep_pending(team_id, waiting, now)
        store_items([item for _, item in resolved], now=now)
    for msg, item, _ in items:
        if item.status == "error":
            msg.error = "; ".join(f"{k}: {' '.join(v)}" for k, v in item.errors.items())


def _lead_of(msg: Message, leads: dict[tuple[str, str], int]) -> int | None:
    lead_id = leads.get(("u", msg.user_id)) if msg.user_id else None
    if lead_id is None and msg.anonymous_id:
        lead_id = leads.get(("a", msg.anonymous_id))
    return lead_id


def _keep_pending(team_id: int, waiting: list[tuple[Message, Item, dict[str, Any]]],
                  now: datetime.datetime) -> list[tuple[Message, Item]]:
    """Store as PendingEvent the events whose sender is no lead yet; return those whose sender
    became one meanwhile (stored as events by the caller).

    The race this closes: an identify linking anon-7 commits between this request's lookup and
    its insert of anon-7's pending event, after the identify read the pending events to attach:
    the event would wait forever. Both sides take the ids' advisory locks (`_lock_ids`) and hold
    them to commit: here before looking the ids up again and inserting, in identify before
    reading what to attach. Whichever commits first, the other sees it. Costs one lookup of
    the ids' known user ids, one lock statement and one more lookup, only for batches with
    pending events; a sweep (attach_linked) catches what no lock covers (an alias racing both)."""
    anonymous = {m.anonymous_id for m, _, _ in waiting if m.anonymous_id}
    users = {m.user_id for m, _, _ in waiting if m.user_id}
    # An alias may have named the user of an anonymous id: identify(user) attaches its events too.
    users |= set(AnonymousId.objects.filter(team_id=team_id, anonymous_id__in=anonymous)
                 .exclude(user_id="").values_list("user_id", flat=True))
    resolved: list[tuple[Message, Item]] = []
    with transaction.atomic():
        _lock_ids(team_id, anonymous, users)
        leads = _leads_for(team_id, {m.user_id for m, _, _ in waiting if m.user_id}, anonymous)
        pending = []
        for msg, item, props in waiting:
            if (lead_id := _lead_of(msg, leads)) is not None:
                item.lead_id = lead_id
                resolved.append((msg, item))
            else:
                pending.append(PendingEvent(team_id=team_id, anonymous_id=msg.anonymous_id, user_id=msg.user_id,
                                            client_id=item.client_id, type=item.type, properties=props,
                                            occurred_at=item.occurred_at, received_at=now))
        PendingEvent.objects.bulk_create(pending, ignore_conflicts=True)  # a retry of a pending message
    return resolved


def _lock_ids(team_id: int, anonymous_ids: Iterable[str], user_ids: Iterable[str]) -> None:
    """Transaction-level advisory locks on these ids of the team, taken in one sorted pass (so two
    callers never wait on each other in a circle). Keys are 64-bit hashes: a collision only
    serialises two unrelated requests."""
    keys = sorted({_key(team_id, "a", a) for a in anonymous_ids if a} | {_key(team_id, "u", u) for u in user_ids if u})
    if keys:
        with connection.cursor() as cur:
            cur.execute("SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT unnest(%s::bigint[]) AS k ORDER BY 1) s", [keys])


def _key(team_id: int, kind: str, value: str) -> int:
    digest = hashlib.blake2b(f"segment:{team_id}:{kind}:{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# ("a", anonymousId, lead id) and ("u", userId, lead id) of the team's known senders, the ids
# bound as two arrays (Django's `__in` would put a thousand parameters into the SQL text).
# Anonymous ids are probed one by one through the unique index (LATERAL ... LIMIT 1 keeps the
# planner from flattening it into a join): with `anonymous_id = ANY(...)`, a table that has grown
# since it was last analyzed (a burst of new visitors; autovacuum off) was read whole, every batch:
# 67 ms per 1,000 ids against 13 ms over 1,000,000 anonymous ids.
_SENDERS = """SELECT 'a' AS kind, a.anonymous_id AS key, coalesce(a.lead_id, l.id) AS lead_id
              FROM unnest(%b::text[]) AS k(anonymous_id)
              CROSS JOIN LATERAL (SELECT a.anonymous_id, a.lead_id, a.user_id, a.team_id FROM segment_anonymousid a
                                  WHERE a.team_id = %b AND a.anonymous_id = k.anonymous_id LIMIT 1) a
              LEFT JOIN leads_lead l ON a.lead_id IS NULL AND l.team_id = a.team_id
                   AND l.external_id = a.user_id AND l.external_id <> ''
              UNION ALL
              SELECT 'u', external_id, id FROM leads_lead
              WHERE team_id = %b AND external_id = ANY(%b::text[]) AND external_id <> ''"""


def _leads_for(team_id: int, user_ids: set[str], anonymous_ids: set[str]) -> dict[tuple[str, str], int]:
    """("u", userId) and ("a", anonymousId) → lead id, for the leads known in the team. One statement."""
    if not user_ids and not anonymous_ids:
        return {}
    with transaction.atomic():  # connects, so connection.connection is there
        with psycopg.Cursor(connection.connection) as cur:
            cur.execute(_SENDERS, [list(anonymous_ids), team_id, team_id, list(user_ids)])
            return {(kind, key): lead_id for kind, key, lead_id in cur.fetchall() if lead_id is not None}


def _lock_leads(cur: psycopg.Cursor, team_id: int, user_ids: set[str],
                anonymous_ids: set[str]) -> tuple[dict[tuple[str, str], int], dict[int, int]]:
    """_leads_for and ingestion's lock in one statement: the senders' leads, locked FOR SHARE in id
    order (as store_items locks them, see qualify/scoring/scores.py, "Locking protocol"), and each
    locked lead's team. Saves a transaction and a second read of the leads per batch."""
    if not user_ids and not anonymous_ids:
        return {}, {}
    cur.execute(
        f"""SELECT s.kind, s.key, l.id, l.team_id FROM ({_SENDERS}) s
            JOIN leads_lead l ON l.id = s.lead_id ORDER BY l.id FOR SHARE OF l""",
        [list(anonymous_ids), team_id, team_id, list(user_ids)],
    )
    leads: dict[tuple[str, str], int] = {}
    team_of: dict[int, int] = {}
    for kind, key, lead_id, lead_team in cur.fetchall():
        leads[(kind, key)] = lead_id
        team_of[lead_id] = lead_team
    return leads, team_of


def _attach(team_id: int, lead: Lead, *, anonymous_ids: Iterable[str] = (), user_ids: Iterable[str] = (),
            now: datetime.datetime) -> int:
    """Move the pending events of these ids onto `lead`, through the same ingestion. Returns how many."""
    anonymous_ids, user_ids = [a for a in anonymous_ids if a], [u for u in user_ids if u]
    if not anonymous_ids and not user_ids:
        return 0
    rows = list(
        PendingEvent.objects.select_for_update()
        .filter(Q(anonymous_id__in=anonymous_ids) | Q(user_id__in=user_ids), team_id=team_id)
    )
    if not rows:
        return 0
    items = [
        parse_item(i, {"client_id": r.client_id, "type": r.type, "occurred_at": r.occurred_at,
                       "properties": r.properties, "lead_id": lead.pk}, now)
        for i, r in enumerate(rows)
    ]
    store_items(items, now=now)
    PendingEvent.objects.filter(pk__in=[r.pk for r in rows]).delete()
    return len(rows)


# --- identities -------------------------------------------------------------------------------


def _traits(msg: Message) -> dict[str, Any]:
    traits = msg.raw.get("traits")
    if not isinstance(traits, dict):
        traits = (msg.raw.get("context") or {}).get("traits")
    return traits if isinstance(traits, dict) else {}


def _text(traits: dict[str, Any], *keys: str, limit: int = 200) -> str:
    for key in keys:
        value = traits.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:limit]
    return ""


def _find_lead(team_id: int, msg: Message, email: str = "") -> Lead | None:
    if msg.user_id:
        lead = Lead.objects.filter(team_id=team_id, external_id=msg.user_id).first()
        if lead:
            return lead
    if msg.anonymous_id:
        found = _leads_for(team_id, set(), {msg.anonymous_id}).get(("a", msg.anonymous_id))
        if found:
            return Lead.objects.get(pk=found)
    if email:
        # Exact match on the lower-cased email, as POST /api/events/ matches it: the lead_email index.
        return Lead.objects.filter(team_id=team_id, email=email).order_by("pk").first()
    return None


def _domain(value: str) -> str:
    """The bare host accounts store (records.clean_domain); "" for what is no domain, so a junk
    website trait files the person by company name instead of refusing the message."""
    try:
        return records.clean_domain(value)
    except DomainError:
        return ""


def _account(source: Source, traits: dict[str, Any], email: str = "") -> Account:
    """The team's account for these company traits (by domain, else by name), created if new and
    updated with what the traits say. Without company traits the e-mail's domain names the
    company, unless it is a free-mail provider's (dedupe's list): gmail.com is nobody's company,
    so such a person gets an account of their own, named by their address, until `group` files
    them under their company."""
    domain = _domain(_text(traits, "domain", "website"))
    if not domain and email and "@" in email:
        email_domain = _domain(email.rsplit("@", 1)[1])
        domain = "" if email_domain in FREE_MAIL else email_domain
    # An address may be 254 characters, a name 200: cut, or a long free-mail address was a 500.
    name = (_text(traits, "name", "company") or domain or email or "Unknown company")[:200]
    values: dict[str, Any] = {"name": name}
    if industry := _text(traits, "industry", limit=100):
        values["industry"] = industry
    employees = traits.get("employees", traits.get("employee_count"))
    if isinstance(employees, int) and not isinstance(employees, bool) and 0 <= employees < 2**31:
        values["employee_count"] = employees
    lookup = {"domain": domain} if domain else {"domain": "", "name": name}
    account = Account.objects.select_for_update().filter(team_id=source.team_id, **lookup).order_by("pk").first()
    if account is None:
        return records.create_account(by=None, team_id=source.team_id, domain=domain, **values)
    if not _text(traits, "name", "company"):
        values.pop("name")  # a domain-only call never renames the account
    records.edit_account(account, by=None, **values)
    return account


def _email(msg: Message, traits: dict[str, Any]) -> str:
    """The email trait as records.clean_email stores it; "" when there is none. One that is no
    email address is skipped and said on the message: the rest of the identify still applies,
    and a stored email is never overwritten with it (nor is a lead or an account found by it)."""
    value = traits.get("email")
    if value is None or value == "":
        return ""
    try:
        if not isinstance(value, str):
            raise DomainError("not a string", field="email")
        return records.clean_email(value)
    except DomainError:
        msg.warnings.append("traits.email is not a valid email address; it was not stored.")
        return ""


def _identify(source: Source, msg: Message, now: datetime.datetime) -> None:
    traits = _traits(msg)
    email = _email(msg, traits)
    first, last = _text(traits, "firstName", "first_name", limit=100), _text(traits, "lastName", "last_name", limit=100)
    if not first and (name := _text(traits, "name")):
        first, _, last = name.partition(" ")
        first, last = first[:100], last.strip()[:100]
    values: dict[str, Any] = {k: v for k, v in {
        "first_name": first, "last_name": last, "email": email,
        "title": _text(traits, "title"), "phone": _text(traits, "phone", limit=40),
    }.items() if v}
    lead = _find_lead(source.team_id, msg, email)
    if lead is None:
        company = traits.get("company")
        account = _account(source, company if isinstance(company, dict) else {"name": _text(traits, "company")}, email)
        values.setdefault("first_name", email.split("@")[0][:100] if email else "Unknown")
        lead = records.create_lead(by=None, team_id=source.team_id, account=account, source=LeadSource.INBOUND,
                                   external_id=msg.user_id, **values)
    else:
        if msg.user_id and not lead.external_id:
            values["external_id"] = msg.user_id
        records.edit_lead(lead, by=None, **values)
    _link(source, msg.anonymous_id, msg.user_id, lead, now)


def _link(source: Source, anonymous_id: str, user_id: str, lead: Lead, now: datetime.datetime) -> None:
    """Link the ids to `lead` (with any anonymous id an earlier alias gave this user) and attach
    their pending events."""
    user_id = user_id or lead.external_id
    # Held to commit: an event of these ids stored as pending meanwhile is either seen by
    # _attach below or finds the link (see _keep_pending).
    _lock_ids(source.team_id, [anonymous_id], [user_id])
    anonymous_ids = [anonymous_id]
    if anonymous_id:
        AnonymousId.objects.update_or_create(
            team_id=source.team_id, anonymous_id=anonymous_id,
            defaults={"user_id": user_id, "lead": lead, "linked_at": now},
        )
    if user_id:
        waiting = AnonymousId.objects.filter(team_id=source.team_id, user_id=user_id, lead__isnull=True)
        anonymous_ids += list(waiting.values_list("anonymous_id", flat=True))
        waiting.update(lead=lead, linked_at=now)
    _attach(source.team_id, lead, anonymous_ids=anonymous_ids, user_ids=[user_id], now=now)


def _group(source: Source, msg: Message, now: datetime.datetime) -> None:
    traits = dict(_traits(msg))
    if not _text(traits, "name", "company", "domain", "website"):
        traits["name"] = _id(msg.raw, "groupId", 200)
    account = _account(source, traits)
    lead = _find_lead(source.team_id, msg)
    if lead is not None and lead.account_id != account.pk:
        records.edit_lead(lead, by=None, account=account)


def _alias(source: Source, msg: Message, now: datetime.datetime) -> None:
    previous = _id(msg.raw, "previousId", 200)
    lead = _find_lead(source.team_id, msg)
    if lead is None:
        lead = _find_lead(source.team_id, Message(msg.index, {}, "", "", previous[:100], previous, now))
        if lead is not None and not lead.external_id:
            records.edit_lead(lead, by=None, external_id=msg.user_id)
    if lead is None:
        # Neither id is a lead yet: remember the link, so identify(userId) later attaches both.
        AnonymousId.objects.update_or_create(team_id=source.team_id, anonymous_id=previous,
                                             defaults={"user_id": msg.user_id, "lead": None, "linked_at": now})
        return
    _link(source, previous, msg.user_id, lead, now)


# --- the sweep ----------------------------------------------------------------------------------

SWEEP_GRACE = datetime.timedelta(seconds=30)
# The races it repairs are milliseconds wide; a day also covers a worker down for hours. Older
# pending events are anonymous visitors nobody identified (there may be millions): not scanned.
SWEEP_WINDOW = datetime.timedelta(days=1)
SWEEP_BATCH = 5000


def attach_linked(*, grace: datetime.timedelta = SWEEP_GRACE, now: datetime.datetime | None = None) -> int:
    """Attach pending events whose sender is a lead by now (the beat sweep behind _keep_pending's
    locks: an alias racing an event and an identify, a crash between commit and attach). Pending
    events younger than `grace` are left to the requests in flight. Returns the events attached.
    Costs one statement to find them (its joins use the same unique keys as the live lookup), then
    per lead the attach of identify (lock, store, delete)."""
    now = now or timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            """SELECT DISTINCT p.team_id, coalesce(lu.id, a.lead_id, la.id), p.anonymous_id, p.user_id
               FROM segment_pendingevent p
               LEFT JOIN leads_lead lu ON p.user_id <> '' AND lu.team_id = p.team_id AND lu.external_id = p.user_id
               LEFT JOIN segment_anonymousid a ON p.anonymous_id <> '' AND a.team_id = p.team_id
                    AND a.anonymous_id = p.anonymous_id
               LEFT JOIN leads_lead la ON a.lead_id IS NULL AND a.user_id <> '' AND la.team_id = p.team_id
                    AND la.external_id = a.user_id
               WHERE p.received_at >= %s AND p.received_at < %s AND coalesce(lu.id, a.lead_id, la.id) IS NOT NULL
               LIMIT %s""",
            [now - SWEEP_WINDOW, now - grace, SWEEP_BATCH],
        )
        rows = cur.fetchall()
    by_lead: dict[tuple[int, int], tuple[set[str], set[str]]] = {}
    for team_id, lead_id, anonymous_id, user_id in rows:
        anonymous, users = by_lead.setdefault((team_id, lead_id), (set(), set()))
        anonymous.add(anonymous_id)
        users.add(user_id)
    attached = 0
    for (team_id, lead_id), (anonymous, users) in by_lead.items():
        with transaction.atomic():
            _lock_ids(team_id, anonymous, users)
            lead = Lead.objects.filter(pk=lead_id, team_id=team_id).first()
            if lead is not None:  # deleted since
                attached += _attach(team_id, lead, anonymous_ids=anonymous, user_ids=users, now=now)
    return attached
