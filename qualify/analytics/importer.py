"""CSV import of leads, accounts and outcomes, with a column mapping, a dry run, and all-or-nothing.

Columns. Common CRM export headers (Salesforce, HubSpot, Pipedrive: "First Name", "Email Address",
"Company", "Lead Source", "Lead Status", "Created Date", "Close Date", "Lead Owner"...) are
recognised by `propose_mapping`; the user can change the mapping before running. Values are
mapped too: "Closed Won" → won, "Web" → inbound, "Mid-Market" → mid_market. A value that cannot
be mapped makes its row bad, with the column and the reason; nothing is guessed silently.

Runs. Every run validates every row first (a dry run stops there and reports). A real run then
either writes all good rows in one transaction, or, in "all or nothing" mode with any bad row,
writes nothing. Leads and stage history are written with bulk_create under
`pghistory.context(source="import", import_job=<id>)`, so the audit trail names the job.

Stage history (what the importer does instead of calling lifecycle.move_stage per row):
- a new lead gets a StageChange "" → new at its created date, then one row per step along the
  funnel to its imported stage: new → [mql] → working → handed off → accepted → opportunity →
  won | lost; nurture and disqualified are side exits straight from new. MQL is a step only when
  the file gives an MQL date or the lead is imported *as* an MQL (nothing is invented: an
  outbound lead imported as Working never was an MQL);
- an outcome (won/lost) of an existing lead continues from its current stage the same way;
- every consecutive pair is checked against lifecycle.ALLOWED: a step the lifecycle would refuse
  (e.g. Won for a disqualified lead) makes the row bad;
- steps have the file's dates: created → new, MQL date → mql, close date → won/lost. Steps in
  between carry the close date (else the last known date) and say so in `why` ("step inferred");
- Disqualified needs a reason that exists; Nurture takes the file's recycle date or the reason
  "Nurture — recycle later"'s delay; Won and Lost need a close date. A close date before the
  created date is accepted with a warning on the job (the Olist data has one).
Imports do not start SLA clocks, route leads or send notifications: imported history is the past.
New leads, and the leads of accounts whose fit fields changed, are scored after the commit
(qualify/scoring/triggers.py), at most 1,000 leads per task message.
Owner and AE must be reps of the job's team (looked up by email, username or full name).
"""

from __future__ import annotations

import csv
import datetime
import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pghistory
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role, User
from qualify.leads.lifecycle import ALLOWED
from qualify.leads.models import (
    Account,
    DisqualifyReason,
    Lead,
    Persona,
    RevenueBand,
    Segment,
    Seniority,
    Source,
    Stage,
    StageChange,
)
from qualify.leads.changes import AccountSaved, LeadSaved, OwnerChanged, StageChanged, publish
from qualify.leads.records import changed_fields

from .models import ImportJob, ImportKind, ImportMode, ImportStatus

log = logging.getLogger(__name__)

MAX_ERRORS_STORED = 1000
PROGRESS_EVERY = 500
NURTURE_REASON = "Nurture — recycle later"
S = Stage


def norm(header: str) -> str:
    """'E-mail Address ' → 'emailaddress': how headers and values are compared."""
    return re.sub(r"[^a-z0-9]", "", (header or "").lower())


# --- fields and the headers that mean them -----------------------------------------------------

FIELDS: dict[str, tuple[str, list[str]]] = {
    # field: (label, header aliases)
    "external_id": ("External id", ["lead id", "record id", "contact id", "id", "external id", "mql id", "lead number"]),
    "first_name": ("First name", ["first name", "firstname", "given name"]),
    "last_name": ("Last name", ["last name", "lastname", "surname", "family name"]),
    "full_name": ("Full name", ["name", "full name", "contact name", "lead name", "person name", "contact person"]),
    "email": ("Email", ["email", "email address", "e-mail", "work email", "primary email", "email 1"]),
    "phone": ("Phone", ["phone", "phone number", "mobile", "mobile phone", "work phone", "mobile phone number"]),
    "title": ("Job title", ["title", "job title", "position"]),
    "department": ("Department", ["department"]),
    "seniority": ("Seniority", ["seniority", "job level", "management level"]),
    "persona": ("Persona", ["persona", "buyer persona", "buying role"]),
    "company": ("Company", ["company", "company name", "account name", "organization", "organization name", "account"]),
    "domain": ("Website / domain", ["website", "company domain name", "domain", "company website", "web site", "company domain"]),
    "industry": ("Industry", ["industry", "business segment"]),
    "employees": ("Employees", ["employees", "number of employees", "no of employees", "employee count", "company size", "num employees"]),
    "revenue": ("Annual revenue", ["annual revenue", "revenue", "company revenue"]),
    "country": ("Country", ["country", "country region", "billing country", "company country"]),
    "region": ("Region", ["region", "sales region", "territory"]),
    "segment": ("Segment", ["segment", "market segment", "company segment"]),
    "source": ("Lead source", ["lead source", "source", "original source", "lead source type"]),
    "campaign": ("Campaign / channel", ["campaign", "campaign name", "utm campaign", "channel", "lead channel", "marketing channel", "origin"]),
    "stage": ("Lead status / stage", ["lead status", "status", "stage", "lifecycle stage", "lead stage", "deal stage", "outcome"]),
    "created": ("Created date", ["created date", "create date", "created", "created at", "lead created date", "date created",
                                 "creation date", "first contact date", "lead creation date", "add time"]),
    "mql_date": ("MQL date", ["mql date", "became a marketing qualified lead date", "marketing qualified date", "date became mql"]),
    "close_date": ("Close date", ["close date", "closed date", "won date", "won time", "lost time", "closed won date", "close time",
                                  "date closed", "closed at"]),
    "owner": ("Owner / SDR", ["lead owner", "owner", "contact owner", "sdr", "sdr id", "assigned to", "sales development rep",
                              "owner email", "account owner"]),
    "ae": ("AE / deal owner", ["ae", "account executive", "deal owner", "opportunity owner", "closer", "sr id", "sales representative",
                               "sales rep"]),
    "reason": ("Disqualify / lost reason", ["disqualify reason", "disqualification reason", "lost reason", "reason",
                                            "unqualified reason", "closed lost reason"]),
    "recycle_on": ("Recycle date", ["recycle date", "nurture until", "recycle on"]),
}

KIND_FIELDS: dict[str, list[str]] = {
    ImportKind.LEADS: ["external_id", "first_name", "last_name", "full_name", "email", "phone", "title", "department", "seniority",
                       "persona", "company", "domain", "industry", "employees", "revenue", "country", "region", "segment", "source",
                       "campaign", "stage", "created", "mql_date", "close_date", "owner", "ae", "reason", "recycle_on"],
    ImportKind.ACCOUNTS: ["company", "domain", "industry", "employees", "revenue", "country", "region", "segment", "owner"],
    ImportKind.OUTCOMES: ["external_id", "email", "stage", "close_date", "owner", "ae", "reason"],
}
ALIASES = {norm(alias): name for name, (_, aliases) in FIELDS.items() for alias in aliases}


def propose_mapping(header: list[str], kind: str) -> dict[str, str]:
    """Recognised CSV columns → fields of `kind`; unknown columns are left out (ignored)."""
    allowed, mapping, taken = set(KIND_FIELDS[kind]), {}, set()
    for column in header:
        name = ALIASES.get(norm(column))
        if name is None and " - " in column:
            # Pipedrive prefixes the entity: "Person - Email", "Deal - Won time".
            name = ALIASES.get(norm(column.split(" - ", 1)[1]))
        if name and name in allowed and name not in taken:
            mapping[column] = name
            taken.add(name)
    return mapping


# --- values ------------------------------------------------------------------------------------

SOURCE_VALUES = {
    **dict.fromkeys(["inbound", "web", "website", "webform", "form", "organicsearch", "paidsearch", "directtraffic", "socialmedia",
                     "social", "email", "emailmarketing", "referral", "referrals", "advertisement", "ads", "paidsocial", "display",
                     "contactus", "content", "seo", "blog"], Source.INBOUND),
    **dict.fromkeys(["outbound", "coldcall", "coldemail", "prospecting", "outboundprospecting", "listimport", "purchasedlist",
                     "sdrsourced", "outreach"], Source.OUTBOUND),
    **dict.fromkeys(["partner", "partnerreferral", "reseller", "channelpartner", "referralpartner", "partnersourced"], Source.PARTNER),
    **dict.fromkeys(["event", "events", "tradeshow", "conference", "webinar", "seminar", "offlinesources", "meetup"], Source.EVENT),
    **dict.fromkeys(["product", "productled", "plg", "freetrial", "trial", "freemium", "signup", "selfserve"], Source.PRODUCT_LED),
}
STAGE_VALUES = {
    **dict.fromkeys(["new", "open", "opennotcontacted", "subscriber", "lead", "unworked", "notcontacted"], S.NEW),
    **dict.fromkeys(["mql", "marketingqualified", "marketingqualifiedlead"], S.MQL),
    **dict.fromkeys(["working", "workingcontacted", "contacted", "inprogress", "attemptedtocontact", "connected", "engaged"], S.WORKING),
    **dict.fromkeys(["accepted", "sal", "sql", "salesaccepted", "salesqualified", "salesqualifiedlead", "closedconverted",
                     "converted", "qualified"], S.ACCEPTED),
    **dict.fromkeys(["handedoff", "handoff"], S.HANDED_OFF),
    **dict.fromkeys(["opportunity", "opendeal", "deal", "proposal", "negotiation"], S.OPPORTUNITY),
    **dict.fromkeys(["won", "closedwon", "customer", "win"], S.WON),
    **dict.fromkeys(["lost", "closedlost", "loss"], S.LOST),
    **dict.fromkeys(["nurture", "nurturing", "recycled", "recycle"], S.NURTURE),
    **dict.fromkeys(["disqualified", "unqualified", "closednotconverted", "junk", "badfit"], S.DISQUALIFIED),
}
SEGMENT_VALUES = {
    **dict.fromkeys(["smb", "small", "smallbusiness", "smallmediumbusiness"], Segment.SMB),
    **dict.fromkeys(["midmarket", "mid", "mm", "mediumbusiness", "commercial"], Segment.MID_MARKET),
    **dict.fromkeys(["enterprise", "ent", "large", "strategic"], Segment.ENTERPRISE),
}
PERSONA_VALUES = {norm(label): value for value, label in Persona.choices if value} | {norm(v): v for v in Persona.values if v}
SENIORITY_VALUES = {norm(label): value for value, label in Seniority.choices if value} | {
    norm(v): v for v in Seniority.values if v} | {"ceo": "c_level", "cxo": "c_level", "clevel": "c_level", "vicepresident": "vp",
                                                 "ic": "individual", "staff": "individual"}
COUNTRY_NAMES = {
    "unitedstates": "US", "usa": "US", "us": "US", "unitedstatesofamerica": "US", "canada": "CA", "mexico": "MX", "brazil": "BR",
    "brasil": "BR", "argentina": "AR", "chile": "CL", "colombia": "CO", "unitedkingdom": "GB", "uk": "GB", "greatbritain": "GB",
    "england": "GB", "ireland": "IE", "france": "FR", "germany": "DE", "deutschland": "DE", "spain": "ES", "portugal": "PT",
    "italy": "IT", "netherlands": "NL", "belgium": "BE", "switzerland": "CH", "austria": "AT", "sweden": "SE", "norway": "NO",
    "denmark": "DK", "finland": "FI", "poland": "PL", "india": "IN", "china": "CN", "japan": "JP", "singapore": "SG",
    "australia": "AU", "newzealand": "NZ", "southafrica": "ZA", "israel": "IL", "unitedarabemirates": "AE", "uae": "AE",
}
REVENUE_BANDS = [(1e6, RevenueBand.UNDER_1M), (10e6, RevenueBand.M1_10), (50e6, RevenueBand.M10_50),
                 (250e6, RevenueBand.M50_250), (1e9, RevenueBand.M250_1B)]
DATE_FORMATS = ["%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f",
                "%m/%d/%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y", "%d.%m.%Y %H:%M"]


class Bad(Exception):
    """A value that cannot be imported; the message names the problem."""


def parse_datetime(value: str) -> datetime.datetime:
    """ISO dates/datetimes (offsets allowed), US m/d/Y and European d.m.Y; naive values are in
    the site's time zone. Slashed dates are read as month/day/year (Salesforce US exports)."""
    value = value.strip()
    try:
        dt = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for fmt in DATE_FORMATS:
            try:
                dt = datetime.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        else:
            raise Bad(f"'{value}' is not a date (use YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or MM/DD/YYYY)")
    return dt if timezone.is_aware(dt) else timezone.make_aware(dt, timezone.get_default_timezone())


def _choice(table: dict[str, str], what: str, options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        try:
            return table[norm(value)]
        except KeyError:
            raise Bad(f"unknown {what} '{value}' (expected {options})")

    return parse


parse_source = _choice(SOURCE_VALUES, "lead source", "inbound, outbound, partner, event, product-led or a common CRM value")
parse_stage = _choice(STAGE_VALUES, "status", "New, MQL, Working, SQL/Accepted, Opportunity, Won, Lost, Nurture, Disqualified")
parse_segment = _choice(SEGMENT_VALUES, "segment", "SMB, Mid-market or Enterprise")
parse_persona = _choice(PERSONA_VALUES, "persona", ", ".join(label for v, label in Persona.choices if v))
parse_seniority = _choice(SENIORITY_VALUES, "seniority", ", ".join(label for v, label in Seniority.choices if v))


def parse_int(value: str) -> int:
    cleaned = re.sub(r"[,\s_]", "", value)
    if m := re.fullmatch(r"(\d+)\s*-\s*(\d+)", cleaned):  # "51-200" → the middle
        return (int(m[1]) + int(m[2])) // 2
    try:
        n = int(float(cleaned.rstrip("+")))
    except ValueError:
        raise Bad(f"'{value}' is not a number")
    if n < 0:
        raise Bad(f"'{value}' is negative")
    return n


def parse_revenue(value: str) -> str:
    cleaned = norm(value)
    if cleaned in {norm(v) for v in RevenueBand.values}:
        return next(v for v in RevenueBand.values if norm(v) == cleaned)
    text = value.strip().lower().replace("$", "").replace("€", "").replace(",", "").strip()
    mult = 1.0
    if text.endswith(("b", "bn")):
        mult, text = 1e9, text.rstrip("bn")
    elif text.endswith("m"):
        mult, text = 1e6, text[:-1]
    elif text.endswith("k"):
        mult, text = 1e3, text[:-1]
    try:
        amount = float(text) * mult
    except ValueError:
        raise Bad(f"'{value}' is not an amount")
    return next((band for limit, band in REVENUE_BANDS if amount < limit), RevenueBand.OVER_1B)


def parse_country(value: str) -> str:
    v = value.strip()
    if re.fullmatch(r"[A-Za-z]{2}", v):
        return v.upper()
    try:
        return COUNTRY_NAMES[norm(v)]
    except KeyError:
        raise Bad(f"unknown country '{value}' (use a 2-letter ISO code)")


def parse_domain(value: str) -> str:
    v = value.strip().lower()
    v = re.sub(r"^[a-z]+://", "", v).split("/")[0].removeprefix("www.")
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", v):
        raise Bad(f"'{value}' is not a website or domain")
    return v


def parse_email(value: str) -> str:
    v = value.strip()
    try:
        validate_email(v)
    except ValidationError:
        raise Bad(f"'{value}' is not an email address")
    return v.lower()


PARSERS: dict[str, Callable[[str], Any]] = {
    "email": parse_email, "seniority": parse_seniority, "persona": parse_persona, "domain": parse_domain,
    "employees": parse_int, "revenue": parse_revenue, "country": parse_country, "segment": parse_segment,
    "source": parse_source, "stage": parse_stage, "created": parse_datetime, "mql_date": parse_datetime,
    "close_date": parse_datetime, "recycle_on": lambda v: parse_datetime(v).date(),
}
MAX_LENGTH = {"external_id": 100, "first_name": 100, "last_name": 100, "phone": 40, "title": 200, "department": 64,
              "company": 200, "industry": 100, "region": 32, "campaign": 200}


# --- reading and validating ----------------------------------------------------------------------


def read_csv(content: bytes) -> tuple[list[str], list[list[str]]]:
    """Header and rows. UTF-8 (with or without BOM), else Latin-1; delimiter sniffed (, ; tab)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        return [], []
    header = [h.strip() for h in rows[0]]
    return header, [r for r in rows[1:] if any(cell.strip() for cell in r)]


@dataclass
class RowError:
    row: int  # 1-based data row number; the header is row 0... shown as "line row+1" in the file
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "line": self.row + 1, "column": self.column, "message": self.message}


@dataclass
class Good:
    row: int
    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    # filled by validation:
    lead: Lead | None = None
    owner: User | None = None
    ae: User | None = None
    reason: DisqualifyReason | None = None
    path: list[str] = field(default_factory=list)


class Context:
    """Everything validation needs from the database, loaded once per job (a handful of queries
    whatever the number of rows)."""

    def __init__(self, job: ImportJob, rows: list[dict[str, Any]]):
        self.job, self.team_id = job, job.team_id
        reps = list(
            User.objects.filter(memberships__team_id=job.team_id, memberships__role__in=[Role.SDR, Role.AE, Role.MANAGER])
            .distinct()
        )
        self.users: dict[str, User] = {}
        for u in reps:
            for key in (u.username, u.email, u.get_full_name()):
                if key:
                    self.users.setdefault(key.strip().lower(), u)
        self.reasons = {norm(r.name): r for r in DisqualifyReason.objects.filter(active=True)}
        ext_ids = {r["external_id"] for r in rows if r.get("external_id")}
        emails = {r["email"] for r in rows if r.get("email")}
        domains = {r["domain"] for r in rows if r.get("domain")}
        leads = Lead.objects.filter(team_id=job.team_id).filter(Q(external_id__in=ext_ids) | Q(email__in=emails))
        self.leads_by_ext, self.leads_by_email = {}, {}
        for lead in leads:
            if lead.external_id:
                self.leads_by_ext[lead.external_id] = lead
            if lead.email:
                self.leads_by_email.setdefault(lead.email.lower(), lead)
        self.accounts_by_domain = {a.domain: a for a in Account.objects.filter(domain__in=domains)}
        self.seen_ext: set[str] = set()
        self.seen_domains_for_accounts: set[str] = set()

    def user(self, value: str, column: str) -> User:
        found = self.users.get(value.strip().lower())
        if found is None:
            raise Bad(f"'{value}' is not a rep of this team (match by email, username or full name)")
        return found


def cell_values(header: list[str], mapping: dict[str, str], raw: list[str], defaults: dict[str, str]) -> dict[str, str]:
    """The row's raw strings by field name (mapped columns, then job defaults for empty ones)."""
    out: dict[str, str] = {}
    for i, column in enumerate(header):
        name = mapping.get(column)
        if name and i < len(raw) and raw[i].strip():
            out[name] = raw[i].strip()
    for name, value in defaults.items():
        if value and not out.get(name):
            out[name] = value
    return out


def parse_row(raw: dict[str, str], columns: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Typed values and per-column problems."""
    values, problems = {}, []
    for name, text in raw.items():
        try:
            value = PARSERS[name](text) if name in PARSERS else text
            if name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
                raise Bad(f"longer than {MAX_LENGTH[name]} characters")
            values[name] = value
        except Bad as e:
            problems.append((columns.get(name, name), str(e)))
    return values, problems


# Where each imported stage's path goes after "new", in funnel order.
FUNNEL = [S.NEW, S.MQL, S.WORKING, S.HANDED_OFF, S.ACCEPTED, S.OPPORTUNITY]


def stage_path(current: str, target: str, *, with_mql: bool) -> list[str]:
    """Stages to step through from `current` to `target` (exclusive of current), or Bad.

    Funnel targets follow FUNNEL from where the lead is (skipping MQL unless `with_mql`); won and
    lost come after opportunity; nurture and disqualified are one step. Every step is checked
    against lifecycle.ALLOWED, so an import never makes a move the lifecycle would refuse."""
    if target == current:
        return []
    if target in (S.NURTURE, S.DISQUALIFIED, S.HANDED_OFF):
        if target == S.HANDED_OFF:
            raise Bad("'Handed off' cannot be imported (it needs a handoff packet); import it as Working or Accepted")
        path = [target]
    else:
        chain = [*FUNNEL, target] if target in (S.WON, S.LOST) else FUNNEL[: FUNNEL.index(target) + 1]
        if current == S.NURTURE:
            start = FUNNEL.index(S.WORKING)  # a nurtured lead comes back into the funnel as Working
        elif current in FUNNEL:
            start = FUNNEL.index(current) + 1
        else:
            raise Bad(f"this lead is {Stage(current).label}; it cannot become {Stage(target).label}")
        path = [s for s in chain[start:] if s != S.MQL or with_mql or target == S.MQL]
        if not path:
            raise Bad(f"this lead is already {Stage(current).label}, past {Stage(target).label}")
    prev = current
    for step in path:
        if step not in ALLOWED[prev]:
            raise Bad(f"the lifecycle does not allow {Stage(prev).label} → {Stage(step).label}")
        prev = step
    return path


def _path(current: str, target: str, with_mql: bool, column: str) -> list[str]:
    try:
        return stage_path(current, target, with_mql=with_mql)
    except Bad as e:
        raise Bad(str(e.args[0]), column)


def validate(ctx: Context, kind: str, n: int, values: dict[str, Any], columns: dict[str, str]) -> Good:
    """Raise Bad (with the column in args[1] when known) or return the good row."""
    good = Good(row=n, values=values)
    col = columns.get
    if kind == ImportKind.ACCOUNTS:
        if not values.get("company"):
            raise Bad("a company name is required", col("company", "company"))
        if d := values.get("domain"):
            if d in ctx.seen_domains_for_accounts:
                raise Bad(f"domain {d} appears twice in the file", col("domain"))
            ctx.seen_domains_for_accounts.add(d)
            existing = ctx.accounts_by_domain.get(d)
            if existing is not None and existing.team_id != ctx.team_id:
                raise Bad(f"{d} belongs to another team's account", col("domain"))
        if v := values.get("owner"):
            try:
                good.owner = ctx.user(v, col("owner"))
            except Bad as e:
                raise Bad(str(e), col("owner"))
        return good

    if v := values.get("owner"):
        try:
            good.owner = ctx.user(v, col("owner"))
        except Bad as e:
            raise Bad(str(e), col("owner"))
    if v := values.get("ae"):
        try:
            good.ae = ctx.user(v, col("ae"))
        except Bad as e:
            raise Bad(str(e), col("ae"))
    if v := values.get("reason"):
        good.reason = ctx.reasons.get(norm(v))
        if good.reason is None:
            raise Bad(f"unknown reason '{v}'", col("reason"))

    if kind == ImportKind.OUTCOMES:
        lead = None
        if ext := values.get("external_id"):
            lead = ctx.leads_by_ext.get(ext)
            if ext in ctx.seen_ext:
                raise Bad(f"lead {ext} appears twice in the file", col("external_id"))
            ctx.seen_ext.add(ext)
        elif email := values.get("email"):
            lead = ctx.leads_by_email.get(email)
        else:
            raise Bad("an external id or an email is needed to find the lead", col("external_id"))
        if lead is None:
            raise Bad("no lead of this team has this id or email", col("external_id") or col("email"))
        target = values.get("stage")
        if target not in (S.WON, S.LOST):
            raise Bad("an outcome must be Won or Lost", col("stage", "stage"))
        if not values.get("close_date"):
            raise Bad("an outcome needs a close date", col("close_date") or col("stage", "stage"))
        good.lead = lead
        good.path = _path(lead.stage, target, False, col("stage", "stage"))
        if not good.path:
            raise Bad(f"this lead is already {Stage(target).label}", col("stage", "stage"))
        if values["close_date"] < lead.created_at:
            good.warnings.append(f"closed {values['close_date']:%Y-%m-%d %H:%M} before the lead was created "
                                 f"({lead.created_at:%Y-%m-%d}); imported as given")
        return good

    # leads
    if not (values.get("first_name") or values.get("full_name") or values.get("email") or values.get("external_id")):
        raise Bad("a name, an email or an external id is required", col("first_name", "first_name"))
    if ext := values.get("external_id"):
        if ext in ctx.seen_ext:
            raise Bad(f"external id {ext} appears twice in the file", col("external_id"))
        ctx.seen_ext.add(ext)
        if ext in ctx.leads_by_ext:
            raise Bad(f"a lead with external id {ext} already exists in this team", col("external_id"))
    if d := values.get("domain"):
        existing = ctx.accounts_by_domain.get(d)
        if existing is not None and existing.team_id != ctx.team_id:
            raise Bad(f"{d} belongs to another team's account", col("domain"))
    target = values.get("stage", S.NEW)
    if target == S.DISQUALIFIED and good.reason is None:
        raise Bad("Disqualified needs a reason", col("reason") or col("stage", "stage"))
    if target in (S.WON, S.LOST) and not values.get("close_date"):
        raise Bad(f"{Stage(target).label} needs a close date", col("close_date") or col("stage", "stage"))
    good.path = _path(S.NEW, target, "mql_date" in values, col("stage", "stage"))
    created = values.get("created")
    if created and values.get("close_date") and values["close_date"] < created:
        good.warnings.append(f"closed {values['close_date']:%Y-%m-%d %H:%M} before it was created ({created:%Y-%m-%d}); imported as given")
    if created and created > timezone.now() + datetime.timedelta(days=1):
        raise Bad("the created date is in the future", col("created"))
    return good


# --- running a job -------------------------------------------------------------------------------


def run_job(job_id: int) -> ImportJob | None:
    """Validate (and, unless a dry run, apply) a pending job. Safe to call twice: the first call
    claims the job with a conditional UPDATE, the second finds it claimed and returns."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), processed_rows=0, good_rows=0, bad_rows=0,
        errors=[], warnings=[], created={}, message="",
    )
    if claimed != 1:
        return None
    job = ImportJob.objects.get(pk=job_id)
    try:
        _run(job)
    except Exception as e:  # the job page must say it failed, whatever happened
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, message=f"Failed: {e}", finished_at=timezone.now()
        )
    return ImportJob.objects.get(pk=job_id)


def _run(job: ImportJob) -> None:
    header, raw_rows = read_csv(bytes(job.content))
    columns = {name: column for column, name in job.mapping.items() if name}
    defaults = job.defaults if isinstance(job.defaults, dict) else {}
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(raw_rows))
    parsed: list[tuple[int, dict[str, Any], list[tuple[str, str]]]] = []
    for n, raw in enumerate(raw_rows, start=1):
        values, problems = parse_row(cell_values(header, job.mapping, raw, defaults), columns)
        parsed.append((n, values, problems))
    ctx = Context(job, [v for _, v, _ in parsed])
    goods: list[Good] = []
    errors: list[RowError] = []
    bad = 0
    for i, (n, values, problems) in enumerate(parsed, start=1):
        if problems:
            bad += 1
            errors += [RowError(n, c, msg) for c, msg in problems]
        else:
            try:
                goods.append(validate(ctx, job.kind, n, values, columns))
            except Bad as e:
                bad += 1
                errors.append(RowError(n, e.args[1] if len(e.args) > 1 and e.args[1] else "", str(e.args[0])))
        if i % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=i)
    warnings = [{"row": g.row, "line": g.row + 1, "message": w} for g in goods for w in g.warnings]
    report = {
        "processed_rows": len(parsed), "good_rows": len(goods), "bad_rows": bad,
        "errors": [e.as_dict() for e in errors[:MAX_ERRORS_STORED]], "warnings": warnings[:MAX_ERRORS_STORED],
    }
    if job.dry_run:
        message = f"Dry run: {len(goods)} good rows, {bad} bad rows. Nothing was written."
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, message=message, finished_at=timezone.now(), **report)
        return
    if bad and job.mode == ImportMode.ALL_OR_NOTHING:
        message = f"{bad} bad rows: nothing was imported (all or nothing). Fix them, or choose to skip bad rows."
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.REFUSED, message=message, finished_at=timezone.now(), **report)
        return
    with pghistory.context(source="import", import_job=job.pk), transaction.atomic():
        created = APPLY[job.kind](job, goods)
    skipped = f", {bad} bad rows skipped" if bad else ""
    message = "Imported " + ", ".join(f"{n} {what}" for what, n in created.items()) + skipped + "."
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE, message=message, created=created, finished_at=now, imported_at=now, **report
    )


# --- writing ---------------------------------------------------------------------------------------

BATCH = 2000


def _name(values: dict[str, Any]) -> tuple[str, str]:
    first, last = values.get("first_name", ""), values.get("last_name", "")
    if not first and values.get("full_name"):
        first, _, rest = values["full_name"].partition(" ")
        last = last or rest
    if not first and values.get("email"):
        first = values["email"].split("@")[0]
    if not first:
        first, last = "Lead", values.get("external_id", "")[:12]
    return first[:100], last[:100]


def _pk(user: User | None) -> int | None:
    return user.pk if user is not None else None


def _apply_accounts(job: ImportJob, goods: list[Good]) -> dict[str, int]:
    """Create accounts, or fill in the blanks of this team's account with the same domain."""
    fields = ["industry", "employees", "revenue", "country", "region", "segment"]
    attr = {"employees": "employee_count", "revenue": "revenue_band"}
    domains = [g.values["domain"] for g in goods if g.values.get("domain")]
    existing = {a.domain: a for a in Account.objects.filter(team_id=job.team_id, domain__in=domains)}
    new, changed, refit = [], [], []
    for g in goods:
        v = g.values
        account = existing.get(v.get("domain", ""))
        if account is None:
            new.append(Account(team_id=job.team_id, name=v["company"][:200], domain=v.get("domain", ""),
                               owner=g.owner, **{attr.get(f, f): v[f] for f in fields if f in v}))
        else:
            values = {attr.get(f, f): v[f] for f in fields if f in v}
            refit.append(AccountSaved(account.pk, False, frozenset(changed_fields(account, values)), job.created_by_id))
            for name, value in values.items():
                setattr(account, name, value)
            account.name = v["company"][:200]
            if g.owner:
                account.owner = g.owner
            changed.append(account)
    Account.objects.bulk_create(new, batch_size=BATCH)
    Account.objects.bulk_update(changed, ["name", "owner", *[attr.get(f, f) for f in fields]], batch_size=500)
    publish("account_saved", [*refit, *(AccountSaved(a.pk, True, by_id=job.created_by_id) for a in new)])
    return {"accounts created": len(new), "accounts updated": len(changed)}


def _history(lead: Lead, path: list[str], start: str, values: dict[str, Any], *, sdr_id: int | None, ae_id: int | None,
             reason: DisqualifyReason | None, job: ImportJob, row: int) -> list[StageChange]:
    """StageChange rows for `path` (see the module docstring for dates and authors)."""
    created = lead.created_at
    known = {S.MQL: values.get("mql_date"), S.WON: values.get("close_date"), S.LOST: values.get("close_date"),
             S.NURTURE: values.get("close_date"), S.DISQUALIFIED: values.get("close_date")}
    fallback = values.get("close_date") or values.get("mql_date") or created
    label = f"Imported from {job.filename or 'CSV'} (job {job.pk}, line {row + 1})"
    out, prev = [], start
    for step in path:
        at = known.get(step) or (created if step == S.MQL else None)
        inferred = at is None
        at = at or fallback
        by_id = sdr_id if step in (S.WORKING, S.HANDED_OFF) else ae_id if step in (S.ACCEPTED, S.OPPORTUNITY, S.WON, S.LOST) else None
        out.append(StageChange(
            lead=lead, from_stage=prev, to_stage=step, at=at, by_id=by_id,
            why=label + (": step inferred, its date is not in the file" if inferred else ""),
            reason=reason if step in (S.DISQUALIFIED, S.NURTURE, S.LOST) else None,
        ))
        prev = step
    return out


def _apply_leads(job: ImportJob, goods: list[Good]) -> dict[str, int]:
    now = timezone.now()
    fields = {"industry": "industry", "employees": "employee_count", "revenue": "revenue_band", "country": "country",
              "region": "region", "segment": "segment"}
    # Accounts: this team's by domain, then by name; rows sharing one share the account.
    domains = {g.values["domain"] for g in goods if g.values.get("domain")}
    by_domain = {a.domain: a for a in Account.objects.filter(team_id=job.team_id, domain__in=domains)}
    by_name: dict[str, Account] = {}
    for a in Account.objects.filter(team_id=job.team_id, name__in={g.values["company"] for g in goods if g.values.get("company")}):
        by_name.setdefault(a.name.lower(), a)
    new_accounts: list[Account] = []
    account_of: list[Account] = []
    for g in goods:
        v = g.values
        domain, company = v.get("domain", ""), v.get("company", "")
        account = by_domain.get(domain) if domain else by_name.get(company.lower()) if company else None
        if account is None:
            first, last = _name(v)
            account = Account(team_id=job.team_id, name=(company or f"{first} {last}".strip())[:200], domain=domain,
                              created_at=v.get("created", now), **{a: v[f] for f, a in fields.items() if f in v})
            new_accounts.append(account)
            if domain:
                by_domain[domain] = account
            elif company:
                by_name[company.lower()] = account
        account_of.append(account)
    Account.objects.bulk_create(new_accounts, batch_size=BATCH)

    reason_nurture = DisqualifyReason.objects.filter(name=NURTURE_REASON).first()
    leads, histories = [], []
    for g, account in zip(goods, account_of):
        v = g.values
        first, last = _name(v)
        target = g.path[-1] if g.path else S.NEW
        created = v.get("created", now)
        closed_or_accepted = target in (S.ACCEPTED, S.OPPORTUNITY, S.WON, S.LOST)
        reason = g.reason or (reason_nurture if target == S.NURTURE else None)
        recycle_on = None
        if target == S.NURTURE:
            recycle_on = v.get("recycle_on") or timezone.localdate() + datetime.timedelta(days=(reason.recycle_days if reason else 60))
        lead = Lead(
            team_id=job.team_id, account=account, first_name=first, last_name=last, email=v.get("email", ""),
            phone=v.get("phone", ""), title=v.get("title", ""), department=v.get("department", ""),
            seniority=v.get("seniority", ""), persona=v.get("persona", ""), source=v.get("source", Source.INBOUND),
            campaign=v.get("campaign", ""), external_id=v.get("external_id", ""),
            owner=(g.ae or g.owner) if closed_or_accepted else g.owner, ae=g.ae, stage=target,
            recycle_on=recycle_on, disqualify_reason=reason if target in (S.NURTURE, S.DISQUALIFIED, S.LOST) else None,
            created_at=created,
        )
        history = [StageChange(lead=lead, from_stage="", to_stage=S.NEW, at=created, by=None,
                               why=f"Imported from {job.filename or 'CSV'} (job {job.pk}, line {g.row + 1})")]
        history += _history(lead, g.path, S.NEW, v, sdr_id=_pk(g.owner), ae_id=_pk(g.ae), reason=reason, job=job, row=g.row)
        lead.stage_changed_at = history[-1].at
        leads.append(lead)
        histories += history
    Lead.objects.bulk_create(leads, batch_size=BATCH)
    for h in histories:
        h.lead_id = h.lead.pk
    StageChange.objects.bulk_create(histories, batch_size=BATCH)
    # Imported history is the past: recorded and scored, but nobody is routed, clocked or told.
    publish("account_saved", [AccountSaved(a.pk, True, by_id=job.created_by_id) for a in new_accounts])
    publish("lead_saved", [LeadSaved(lead.pk, True, by_id=job.created_by_id) for lead in leads])
    publish("owner_changed", [OwnerChanged(lead.pk, None, lead.owner_id, job.created_by_id, why=f"Imported (job {job.pk})",
                                           imported=True) for lead in leads if lead.owner_id])
    return {"leads": len(leads), "accounts": len(new_accounts), "stage changes": len(histories)}


def _apply_outcomes(job: ImportJob, goods: list[Good]) -> dict[str, int]:
    """Continue each lead's history to won/lost; set its AE (and owner when it had none)."""
    locked = {lead.pk: lead for lead in Lead.objects.select_for_update().filter(pk__in=[g.lead.pk for g in goods])}
    histories, changed = [], []
    before = {pk: (lead.stage, lead.owner_id) for pk, lead in locked.items()}
    for g in goods:
        lead = locked[g.lead.pk]
        if lead.stage != g.lead.stage:
            # Someone moved it since validation: re-derive the path from where it is now.
            g.path = stage_path(lead.stage, g.values["stage"], with_mql=False)
        rows = _history(lead, g.path, lead.stage, g.values, sdr_id=_pk(g.owner) or lead.owner_id,
                        ae_id=_pk(g.ae) or lead.ae_id, reason=g.reason, job=job, row=g.row)
        histories += rows
        lead.stage, lead.stage_changed_at = g.path[-1], rows[-1].at
        lead.ae_id = _pk(g.ae) or lead.ae_id
        lead.owner_id = lead.owner_id or _pk(g.owner)
        if g.path[-1] == S.LOST and g.reason:
            lead.disqualify_reason = g.reason
        changed.append(lead)
    Lead.objects.bulk_update(changed, ["stage", "stage_changed_at", "ae", "owner", "disqualify_reason", "updated_at"], batch_size=500)
    StageChange.objects.bulk_create(histories, batch_size=BATCH)
    # Outcomes close what is still open (a pending handoff, running clocks) through the listeners.
    why = f"Imported outcome (job {job.pk})"
    publish("stage_changed", [StageChanged(lead.pk, before[lead.pk][0], lead.stage, job.created_by_id, why, imported=True)
                              for lead in changed])
    publish("owner_changed", [OwnerChanged(lead.pk, before[lead.pk][1], lead.owner_id, job.created_by_id, why=why, imported=True)
                              for lead in changed if lead.owner_id != before[lead.pk][1]])
    won = sum(1 for lead in changed if lead.stage == S.WON)
    return {"won": won, "lost": len(changed) - won, "stage changes": len(histories)}


APPLY = {ImportKind.LEADS: _apply_leads, ImportKind.ACCOUNTS: _apply_accounts, ImportKind.OUTCOMES: _apply_outcomes}


# --- creating jobs ---------------------------------------------------------------------------------

INLINE_MAX_ROWS = 2000
MAX_BYTES = 50 * 1024 * 1024


def create_job(*, kind: str, team, by: User, content: bytes, filename: str = "", mapping: dict[str, str] | None = None,
               defaults: dict[str, str] | None = None) -> ImportJob:
    """Store an upload and propose a mapping. Refuses (DomainError) files it cannot read."""
    from qualify.errors import DomainError

    if kind not in ImportKind.values:
        raise DomainError("Choose what the file contains: leads, accounts or outcomes.", field="kind")
    if len(content) > MAX_BYTES:
        raise DomainError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", field="file")
    header, rows = read_csv(content)
    if not header or not any(header):
        raise DomainError("The file is empty or has no header row.", field="file")
    if len(set(header)) != len(header):
        raise DomainError("Two columns have the same name; rename one.", field="file")
    if mapping is not None:
        unknown = [c for c in mapping if c not in header]
        bad_fields = [f for f in mapping.values() if f and f not in KIND_FIELDS[kind]]
        if unknown:
            raise DomainError(f"Mapped columns not in the file: {', '.join(unknown)}.", field="mapping")
        if bad_fields:
            raise DomainError(f"Not fields of a {kind} import: {', '.join(bad_fields)}.", field="mapping")
    return ImportJob.objects.create(
        kind=kind, team=team, created_by=by, filename=filename[:255], content=content, header=header,
        mapping=mapping if mapping is not None else propose_mapping(header, kind), total_rows=len(rows),
        defaults={k: v for k, v in (defaults or {}).items() if v},
    )


def start(job: ImportJob, *, dry_run: bool, mode: str, mapping: dict[str, str] | None = None) -> ImportJob:
    """Queue a run of `job` (inline when small). A job that already imported cannot run again."""
    from qualify.errors import DomainError

    from .tasks import run_import

    if mode not in ImportMode.values:
        raise DomainError("Choose all-or-nothing or skip bad rows.", field="mode")
    if mapping is not None:
        unknown = [f for f in mapping.values() if f and f not in KIND_FIELDS[job.kind]]
        if unknown:
            raise DomainError(f"Not fields of a {job.kind} import: {', '.join(unknown)}.", field="mapping")
        chosen = [f for f in mapping.values() if f]
        if len(chosen) != len(set(chosen)):
            raise DomainError("Two columns are mapped to the same field.", field="mapping")
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().defer("content").get(pk=job.pk)
        if current.status in (ImportStatus.PENDING, ImportStatus.RUNNING):
            raise DomainError("This import is already running.")
        if current.imported_at is not None:
            raise DomainError("This file was already imported; upload it again to import it twice.")
        current.dry_run, current.mode, current.status = dry_run, mode, ImportStatus.PENDING
        if mapping is not None:
            current.mapping = {c: f for c, f in mapping.items() if f}
        current.save(update_fields=["dry_run", "mode", "status", "mapping"])
    if current.total_rows <= INLINE_MAX_ROWS:
        run_job(current.pk)
    else:
        transaction.on_commit(lambda: run_import.delay(current.pk))
    current.refresh_from_db()
    return current
