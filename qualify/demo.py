"""Realistic, deterministic demo data: teams, users, accounts, leads, stage history, events, touches,
qualification answers and handoffs.

`seed()` builds everything in memory from one `random.Random(seed)` (plus seeded Faker instances),
then writes it with `bulk_create` in a single transaction. The same seed always produces the same
companies, people, stages, histories, answers and handoffs; only absolute times (and the dates
written in notes, like a next step's "Thu 14 Mar") move with "now".

Answers and handoffs follow the rules of the app: a lead was handed off only once every required
criterion of its framework was answered, each handoff carries the packet `build_packet` froze at
that moment, and every accept or rejection matches the stage change the lifecycle wrote for it.

The cast is fixed so docs and browser demos can name people (password `demo` for everyone):
North America: alice, bob (SDRs), erin, ethan (AEs), maria (manager), mark (marketing).
EMEA: charlie, chloe (SDRs), sam (AE), magnus (manager), mia (marketing).
rita: RevOps admin in both teams, staff and superuser.
"""

from __future__ import annotations

import datetime
import math
import random
import re
import time
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from typing import IO, Any

import pghistory
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from faker import Faker

from accounts.models import Membership, Role, Team, User
from qualify.frameworks.completeness import completeness
from qualify.frameworks.models import CLAIM_STATUSES, Answer, AnswerStatus, AnswerType, Criterion, Framework
from qualify.frameworks.selection import active_frameworks, choose_framework
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.packet import build_packet
from qualify.leads.models import (
    Account,
    DisqualifyReason,
    Event,
    EventType,
    Lead,
    Persona,
    ReasonAction,
    RevenueBand,
    Segment,
    Seniority,
    Source,
    Stage,
    StageChange,
    Touch,
    TouchKind,
    TouchOutcome,
)

PASSWORD = "demo"
BATCH = 2000
URL_HINT = "Run `python manage.py runserver` and open http://127.0.0.1:8000/ to sign in."

NA, EMEA = "North America", "EMEA"
TEAMS = (NA, EMEA)

# username, first name, last name, team (None = every team), role
CAST: tuple[tuple[str, str, str, str | None, str], ...] = (
    ("alice", "Alice", "Adams", NA, Role.SDR),
    ("bob", "Bob", "Brown", NA, Role.SDR),
    ("erin", "Erin", "Evans", NA, Role.AE),
    ("ethan", "Ethan", "Edwards", NA, Role.AE),
    ("maria", "Maria", "Moreno", NA, Role.MANAGER),
    ("mark", "Mark", "Miller", NA, Role.MARKETING),
    ("charlie", "Charlie", "Chen", EMEA, Role.SDR),
    ("chloe", "Chloe", "Clarke", EMEA, Role.SDR),
    ("sam", "Sam", "Scott", EMEA, Role.AE),
    ("magnus", "Magnus", "Lindqvist", EMEA, Role.MANAGER),
    ("mia", "Mia", "Meyer", EMEA, Role.MARKETING),
    ("rita", "Rita", "Ross", None, Role.REVOPS),
)
DEFAULT_AE = {NA: "erin", EMEA: "sam"}
DEMO_USERNAMES = tuple(row[0] for row in CAST)
# People act in working hours (Mon-Fri 08:00-18:00) of their team's time zone.
TEAM_TZ = {NA: zoneinfo.ZoneInfo("America/New_York"), EMEA: zoneinfo.ZoneInfo("Europe/London")}
TZ_LABEL = {NA: "ET", EMEA: "UK time"}

# ---------------------------------------------------------------------------------------------
# Firmographics
# ---------------------------------------------------------------------------------------------

# country: (weight, team, region, Faker locale, top-level domain)
COUNTRIES: dict[str, tuple[int, str, str, str, str]] = {
    "US": (45, NA, "NA", "en_US", "com"),
    "CA": (8, NA, "NA", "en_CA", "ca"),
    "BR": (7, NA, "LATAM", "pt_BR", "com.br"),
    "GB": (14, EMEA, "EMEA", "en_GB", "co.uk"),
    "DE": (10, EMEA, "EMEA", "de_DE", "de"),
    "FR": (6, EMEA, "EMEA", "fr_FR", "fr"),
    "NL": (4, EMEA, "EMEA", "nl_NL", "nl"),
    "SE": (3, EMEA, "EMEA", "sv_SE", "se"),
    "ES": (3, EMEA, "EMEA", "es_ES", "es"),
}

# industry: (weight, name suffixes for bare surnames, revenue per employee range in $k)
INDUSTRIES: dict[str, tuple[int, tuple[str, ...], tuple[int, int]]] = {
    "Software": (20, ("Software", "Labs", "Systems", "Cloud", "Technologies"), (150, 400)),
    "Financial services": (12, ("Capital", "Financial", "Bank", "Insurance"), (200, 600)),
    "Healthcare": (10, ("Health", "Medical", "Care", "Clinics"), (80, 250)),
    "Manufacturing": (10, ("Industries", "Manufacturing", "Components", "Werks"), (150, 400)),
    "Retail": (8, ("Retail", "Stores", "Brands", "Outfitters"), (100, 350)),
    "Logistics": (7, ("Logistics", "Freight", "Transport", "Supply"), (120, 350)),
    "Education": (5, ("Learning", "Academy", "Education", "Institute"), (50, 150)),
    "Media": (5, ("Media", "Studios", "Publishing", "Digital"), (120, 350)),
    "Telecommunications": (5, ("Telecom", "Networks", "Communications"), (250, 600)),
    "Energy": (5, ("Energy", "Power", "Renewables", "Utilities"), (300, 900)),
    "Government": (3, ("Agency",), (60, 160)),
    "Professional services": (10, ("Consulting", "Advisory", "Partners", "Group"), (100, 300)),
}
ICP_INDUSTRIES = {"Software", "Financial services", "Healthcare", "Telecommunications", "Professional services"}

REVENUE_BANDS = (  # upper bound in $, band
    (1_000_000, RevenueBand.UNDER_1M),
    (10_000_000, RevenueBand.M1_10),
    (50_000_000, RevenueBand.M10_50),
    (250_000_000, RevenueBand.M50_250),
    (1_000_000_000, RevenueBand.M250_1B),
)

GOV_TLD = {"US": "gov", "GB": "gov.uk"}

LEGAL_WORDS = {
    "inc", "llc", "ltd", "plc", "group", "and", "sons", "gmbh", "ag", "co", "kg", "kgaa", "ohg", "ev", "sa",
    "sas", "sarl", "bv", "nv", "ab", "hb", "sl", "slu", "scoop", "ltda", "me", "epp", "eireli", "s", "a",
    "hnos", "et", "fils", "cie", "en", "comercializadora", "the", "of", "y", "e", "und", "de", "la", "le",
    "da", "do", "dos", "das", "del", "van", "von", "der", "den", "ei", "groep", "hb", "kb", "scs", "snc", "sca",
}

# ---------------------------------------------------------------------------------------------
# People
# ---------------------------------------------------------------------------------------------

# seniority: list of (title, department, personas with weights)
TITLES: dict[str, tuple[tuple[str, str, tuple[tuple[str, int], ...]], ...]] = {
    Seniority.C_LEVEL: (
        ("CEO", "Executive", ((Persona.ECONOMIC_BUYER, 1),)),
        ("CFO", "Finance", ((Persona.ECONOMIC_BUYER, 1),)),
        ("CTO", "Engineering", ((Persona.ECONOMIC_BUYER, 3), (Persona.TECHNICAL_EVALUATOR, 1))),
        ("CIO", "IT", ((Persona.ECONOMIC_BUYER, 3), (Persona.TECHNICAL_EVALUATOR, 1))),
        ("COO", "Operations", ((Persona.ECONOMIC_BUYER, 1),)),
        ("Chief Revenue Officer", "Sales", ((Persona.ECONOMIC_BUYER, 1),)),
        ("CMO", "Marketing", ((Persona.ECONOMIC_BUYER, 1),)),
    ),
    Seniority.VP: (
        ("VP of Sales", "Sales", ((Persona.ECONOMIC_BUYER, 3), (Persona.CHAMPION, 1))),
        ("VP of Sales Operations", "Sales Operations", ((Persona.ECONOMIC_BUYER, 2), (Persona.CHAMPION, 2))),
        ("VP of Revenue Operations", "Revenue Operations", ((Persona.ECONOMIC_BUYER, 2), (Persona.CHAMPION, 2))),
        ("VP of Marketing", "Marketing", ((Persona.ECONOMIC_BUYER, 2), (Persona.INFLUENCER, 1))),
        ("VP of Demand Generation", "Marketing", ((Persona.CHAMPION, 2), (Persona.ECONOMIC_BUYER, 1))),
        ("VP of Engineering", "Engineering", ((Persona.TECHNICAL_EVALUATOR, 1), (Persona.INFLUENCER, 1))),
        ("VP of IT", "IT", ((Persona.ECONOMIC_BUYER, 1), (Persona.TECHNICAL_EVALUATOR, 1))),
        ("VP of Customer Success", "Customer Success", ((Persona.INFLUENCER, 2), (Persona.CHAMPION, 1))),
        ("VP of Finance", "Finance", ((Persona.ECONOMIC_BUYER, 1),)),
    ),
    Seniority.DIRECTOR: (
        ("Director of Sales Operations", "Sales Operations", ((Persona.CHAMPION, 3), (Persona.INFLUENCER, 1))),
        ("Head of Revenue Operations", "Revenue Operations", ((Persona.CHAMPION, 3), (Persona.ECONOMIC_BUYER, 1))),
        ("Director of Demand Generation", "Marketing", ((Persona.CHAMPION, 2), (Persona.INFLUENCER, 1))),
        ("Head of Sales Development", "Sales", ((Persona.CHAMPION, 3), (Persona.INFLUENCER, 1))),
        ("Head of IT", "IT", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.INFLUENCER, 1))),
        ("Head of Data", "Data", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.INFLUENCER, 1))),
        ("Director of Engineering", "Engineering", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.INFLUENCER, 1))),
        ("Director of Finance", "Finance", ((Persona.INFLUENCER, 2), (Persona.ECONOMIC_BUYER, 1))),
        ("Director of Marketing Operations", "Marketing", ((Persona.CHAMPION, 2), (Persona.TECHNICAL_EVALUATOR, 1))),
    ),
    Seniority.MANAGER: (
        ("Marketing Manager", "Marketing", ((Persona.INFLUENCER, 2), (Persona.CHAMPION, 1))),
        ("Sales Operations Manager", "Sales Operations", ((Persona.CHAMPION, 2), (Persona.INFLUENCER, 1))),
        ("Revenue Operations Manager", "Revenue Operations", ((Persona.CHAMPION, 2), (Persona.TECHNICAL_EVALUATOR, 1))),
        ("SDR Manager", "Sales", ((Persona.CHAMPION, 2), (Persona.END_USER, 1))),
        ("Sales Manager", "Sales", ((Persona.INFLUENCER, 2), (Persona.CHAMPION, 1))),
        ("IT Manager", "IT", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.INFLUENCER, 1))),
        ("Data Engineering Manager", "Data", ((Persona.TECHNICAL_EVALUATOR, 1),)),
        ("CRM Manager", "Sales Operations", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.CHAMPION, 1))),
        ("Finance Manager", "Finance", ((Persona.INFLUENCER, 1),)),
    ),
    Seniority.INDIVIDUAL: (
        ("Senior Data Engineer", "Data", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.END_USER, 1))),
        ("Data Analyst", "Data", ((Persona.END_USER, 2), (Persona.TECHNICAL_EVALUATOR, 1))),
        ("Software Engineer", "Engineering", ((Persona.TECHNICAL_EVALUATOR, 1), (Persona.END_USER, 1))),
        ("Sales Development Representative", "Sales", ((Persona.END_USER, 1),)),
        ("Account Executive", "Sales", ((Persona.END_USER, 2), (Persona.INFLUENCER, 1))),
        ("Sales Operations Analyst", "Sales Operations", ((Persona.END_USER, 2), (Persona.TECHNICAL_EVALUATOR, 1))),
        ("Salesforce Administrator", "Sales Operations", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.END_USER, 1))),
        ("Marketing Specialist", "Marketing", ((Persona.END_USER, 2), (Persona.INFLUENCER, 1))),
        ("Systems Administrator", "IT", ((Persona.TECHNICAL_EVALUATOR, 2), (Persona.END_USER, 1))),
        ("Financial Analyst", "Finance", ((Persona.END_USER, 1),)),
    ),
    Seniority.STUDENT: (
        ("Student", "", ((Persona.UNKNOWN, 1),)),
        ("MBA Candidate", "", ((Persona.UNKNOWN, 1),)),
    ),
}
SENIORITY_WEIGHTS = {
    Source.INBOUND: (6, 11, 18, 27, 35, 3),
    Source.OUTBOUND: (10, 22, 32, 24, 12, 0),
    Source.PARTNER: (9, 18, 28, 27, 18, 0),
    Source.PRODUCT_LED: (2, 5, 12, 26, 54, 1),
    Source.EVENT: (8, 16, 26, 28, 20, 2),
}
SENIORITY_ORDER = (
    Seniority.C_LEVEL, Seniority.VP, Seniority.DIRECTOR, Seniority.MANAGER, Seniority.INDIVIDUAL, Seniority.STUDENT,
)

SOURCES = (
    (Source.INBOUND, 45), (Source.OUTBOUND, 25), (Source.PARTNER, 10), (Source.PRODUCT_LED, 12), (Source.EVENT, 8),
)

INBOUND_CAMPAIGNS = (
    "Ebook: The Lead Qualification Playbook",
    "Pricing page retargeting",
    "Google Ads — lead scoring software",
    "G2 category page",
    "Webinar: MEDDIC without the paperwork",
    "Newsletter — RevOps Weekly",
    "Free SLA calculator",
    "Organic search",
    "LinkedIn Ads — speed to lead",
)
EVENT_CAMPAIGNS = {
    NA: ("SaaStr Annual", "RevOps Summit Chicago", "Pavilion CRO Dinner Toronto", "Webinar: Handoffs AEs accept"),
    EMEA: ("SaaStock Dublin", "RevOps Summit London", "Web Summit Lisbon", "Webinar: Handoffs AEs accept"),
}
EMAIL_CAMPAIGNS = (
    "Nurture: scoring basics #1",
    "Nurture: scoring basics #2",
    "Nurture: SLA benchmarks",
    "Product newsletter",
    "Webinar invite: MEDDIC without the paperwork",
    "Customer story: speed to lead",
)
OUTBOUND_SEQUENCES = ("Outbound: RevOps leaders", "Outbound: Sales Ops managers", "Outbound: SaaS CROs")
PARTNERS = (
    ("Northwind Consulting", "northwindconsulting.example"),
    ("Crestline Partners", "crestline.example"),
    ("Bluewave Solutions", "bluewave.example"),
    ("Meridian Cloud Partners", "meridiancloud.example"),
    ("Apex Revenue Advisory", "apexrevenue.example"),
)
PERSONAL_DOMAINS = ("gmail.com", "gmail.com", "outlook.com", "yahoo.com")

# ---------------------------------------------------------------------------------------------
# Funnel
# ---------------------------------------------------------------------------------------------

STAGE_WEIGHTS = {
    # Handed off is a short wait (an AE decides within a day or two), so few leads sit there at once:
    # about 25 of 2000, which gives erin ~10 packets in her inbox.
    Stage.NEW: 16, Stage.MQL: 12, Stage.WORKING: 22, Stage.HANDED_OFF: 1.25, Stage.ACCEPTED: 5,
    Stage.OPPORTUNITY: 7, Stage.WON: 4, Stage.LOST: 5, Stage.NURTURE: 12, Stage.DISQUALIFIED: 11,
}
STUDENT_STAGE_WEIGHTS = {Stage.NEW: 35, Stage.DISQUALIFIED: 55, Stage.NURTURE: 10}
# Average behavioural events per lead, by current stage: engagement deepens down the funnel.
EVENTS_PER_STAGE = {
    Stage.NEW: 15, Stage.MQL: 36, Stage.WORKING: 43, Stage.HANDED_OFF: 58, Stage.ACCEPTED: 62,
    Stage.OPPORTUNITY: 72, Stage.WON: 82, Stage.LOST: 56, Stage.NURTURE: 30, Stage.DISQUALIFIED: 17,
}
# Time spent in the current stage so far, in days (log-uniform range).
TAIL_DAYS = {
    Stage.NEW: (0.02, 4), Stage.MQL: (0.05, 5), Stage.WORKING: (0.3, 18), Stage.HANDED_OFF: (0.05, 4),
    Stage.ACCEPTED: (0.5, 10), Stage.OPPORTUNITY: (2, 40), Stage.WON: (0.5, 45), Stage.LOST: (0.5, 45),
    Stage.NURTURE: (0.5, 50), Stage.DISQUALIFIED: (0.5, 60),
}
UNASSIGNED_SHARE = 0.5  # of leads still in New/MQL: they sit in the team pool (about 15% of all leads)

REASON_NOTES = {
    "No ICP fit": (
        "Five-person agency with no sales team; outside our ICP.",
        "Hardware reseller, no outbound motion; not a fit.",
        "Sole proprietor looking for a CRM, not qualification tooling.",
    ),
    "No budget": (
        "Budget frozen until the next fiscal year; revisit at planning.",
        "Headcount cuts this quarter, no tooling budget until H2.",
        "Interested, but spend is locked after their reorg.",
    ),
    "No authority": (
        "Analyst with no line to the buyer; multi-thread to the VP of Sales Ops.",
        "Contact cannot sign or sponsor; need the RevOps lead in the room.",
    ),
    "Bad timing": (
        "Mid-migration to a new CRM; no bandwidth before next quarter.",
        "Real pain, but they are closing the year; call back in the new quarter.",
        "Hiring freeze on SDRs; project parked for two quarters.",
    ),
    "Competitor locked in": (
        "Signed a two-year contract with a competitor in the spring; recycle before renewal.",
        "Just renewed their current scoring vendor; renewal date noted.",
    ),
    "Compliance blocker": (
        "Needs on-prem deployment and in-country data residency we cannot offer.",
        "Security review requires FedRAMP; not on our roadmap.",
    ),
    "Nurture — recycle later": (
        "Early research only; keep on the nurture track.",
        "Engagement dropped below the MQL threshold; back to nurture.",
        "Downloaded content but no project yet; nurture.",
    ),
    "Duplicate": ("Duplicate of an existing lead at the same account.", "Same person already in the pipeline."),
    "Bad data": ("Email bounced and the phone number is disconnected.", "Fake name on the form; no such person."),
    "Not enough discovery": (
        "Handed off before pain and timeline were confirmed; needs another discovery call.",
        "No confirmed decision process yet; please finish discovery.",
    ),
    "Other": ("Contact moved to a different business unit; restart with the new owner of the process.",),
}
GENERIC_NOTES = {
    ReasonAction.CLOSE: ("Not a fit for us; closing out.",),
    ReasonAction.NURTURE: ("Not ready yet; nurture and recycle later.",),
    ReasonAction.BACK_TO_SDR: ("Needs more qualification before it comes back to sales.",),
}
CLOSE_EARLY = ("Bad data", "Duplicate", "No ICP fit")

PAINS = (
    "routing leads by hand from a shared spreadsheet",
    "SDRs chasing MQLs that never convert",
    "no visibility into why AEs reject handoffs",
    "a scoring model nobody trusts",
    "demo requests waiting a day for first touch",
    "two regions using different definitions of qualified",
    "no SLA reporting for the board",
)
NEXT_STEPS = (
    "demo with the VP of Sales on Thursday",
    "security questionnaire sent",
    "pricing call with finance next week",
    "technical deep dive with their Salesforce admin",
    "pilot scoped for one SDR pod",
)
COMPETITORS = ("an incumbent CRM add-on", "a homegrown spreadsheet process", "a larger sales-engagement suite")
LOSS_NOTES = (
    "Closed lost: chose {competitor}.",
    "Closed lost: no decision, project deprioritised.",
    "Closed lost: price; budget approved at half our quote.",
    "Closed lost: champion left the company.",
)

# ---------------------------------------------------------------------------------------------
# Qualification answers
# ---------------------------------------------------------------------------------------------

C, P, U, N = AnswerStatus.CONFIRMED, AnswerStatus.PARTIAL, AnswerStatus.UNKNOWN, AnswerStatus.NEGATIVE
# Criterion keys of the shipped frameworks, by what they ask; other criteria get generic notes.
FAMILIES = {
    "need": ("need", "identify-pain", "challenges", "problem-severity"),
    "budget": ("budget", "money"),
    "authority": ("authority", "economic-buyer", "economic-buyer-access"),
    "timeline": ("timeline", "urgency", "compelling-event", "prioritization"),
    "process": ("decision-process",),
    "criteria": ("decision-criteria",),
    "metrics": ("metrics",),
    "champion": ("champion",),
}
FAMILY_OF_KEY = {key: family for family, keys in FAMILIES.items() for key in keys}
# DisqualifyReason.dimension -> the kind of criterion that reason contradicts ("No budget" -> Budget).
REASON_FAMILY = {
    "budget": "budget", "authority": "authority", "timeline": "timeline", "competition": "timeline",
    "need": "need", "fit": "need", "decision criteria": "criteria",
}
# {src} is where it was heard, e.g. "call, Thu 14 Mar"; {when} a date some weeks after that.
EVIDENCE: dict[str, dict[str, tuple[str, ...]]] = {
    "need": {
        C: ("{first} ({title}): {pain}; about {hours} rep-hours a week lost ({src}).",
            "{first} walked us through {pain}; {n} inbound leads a month wait over a day for a first touch ({src}).",
            "{first} confirmed {pain}; their CRO raised it at the last QBR ({src})."),
        P: ("{first} mentioned {pain} but couldn't put a number on it yet ({src}).",
            "Pain heard from {first} only ({pain}); their manager hasn't confirmed it ({src})."),
        U: ("Asked; {first} says they are 'just exploring options' ({src}).", ""),
        N: ("{first}: the current process works fine, no appetite to change ({src}).",),
    },
    "budget": {
        C: ("{buyer} confirmed ${amount}k budget approved for this fiscal year ({src}).",
            "${amount}k line for sales tooling already approved; {first} shared the budget sheet ({src}).",
            "{first} confirmed our ${amount}k range fits the RevOps budget; the {buyer} signs off ({src})."),
        P: ("{first} thinks ${amount}k can come from the sales-tools budget; finance hasn't confirmed ({src}).",
            "Budget exists for 'pipeline tooling' but isn't sized yet; {first} is checking with the {buyer} ({src})."),
        U: ("Pricing not discussed yet; {first} deferred it to finance ({src}).", ""),
        N: ("{first}: budget frozen until the next fiscal year ({src}).",),
    },
    "authority": {
        C: ("{buyer_name} ({buyer}) signs; joined the call with {first} and confirmed how they buy ({src}).",
            "Economic buyer: {buyer_name}, {buyer}. {first} reports to them and set up the intro ({src})."),
        P: ("{buyer_name} ({buyer}) signs; not met yet, {first} offered an intro ({src}).",),
        U: ("Unclear who signs; {first} was vague about approvals ({src}).", ""),
        N: ("{first} can't sponsor or sign and has no line to the buyer ({src}).",),
    },
    "authority-self": {  # the lead is the economic buyer
        C: ("{first} is the {title} and signs for tools in this range; confirmed ({src}).",
            "{first} ({title}) owns the budget and the decision; said so directly ({src})."),
    },
    "timeline": {
        C: ("Needs to be live before {when}, when {event}; confirmed by {first} ({src}).",
            "Go-live target {when}: {event} then. {first} confirmed ({src})."),
        P: ("{first} wants something in place by {when}, no firm reason behind the date yet ({src}).",),
        U: ("'Sometime this year'; no date yet ({src}).", ""),
        N: ("No project before next fiscal year, per {first} ({src}).",),
    },
    "process": {
        C: ("RevOps evaluation, security review, legal, then {buyer} signature by {when}; {first} mapped it "
            "({src}).",
            "Steps agreed: pilot with one SDR pod, security questionnaire, procurement; decision by {when} ({src})."),
        P: ("Security review and procurement are involved; order and dates not known yet ({src}).",),
        U: ("'Waiting on internal alignment'; no names or dates yet ({src}).", ""),
        N: ("No buying process for new tools this year; {first} couldn't name one ({src}).",),
    },
    "criteria": {
        C: ("Must sync with {crm}, SSO via Okta and a SOC 2 report; {first} shared their scorecard ({src}).",),
        P: ("Needs {crm} sync; security requirements not shared yet ({src}).",),
        U: ("Evaluation criteria not discussed yet ({src}).", ""),
        N: ("Requires on-prem deployment, which we don't offer ({src}).",),
    },
    "metrics": {
        C: ("Cut speed to lead from {hours} hours to under one; {first} owns the target ({src}).",
            "Raise MQL-to-SQL conversion from 12% to 20% this year; {first}'s team is measured on it ({src})."),
        P: ("Wants faster speed to lead; no baseline yet ({src}).",),
        U: ("No success metric agreed yet ({src}).", ""),
        N: ("{first} won't commit to any measurable outcome ({src}).",),
    },
    "champion": {
        C: ("Champion: {first} ({title}), owns the rollout; set up the meeting with the {buyer} ({src}).",
            "Champion: {first}, pushed the security review forward and shared the org chart ({src})."),
        P: ("{first} is engaged but hasn't pushed anything internally yet ({src}).",),
        U: ("No internal sponsor yet ({src}).", ""),
        N: ("{first} has gone quiet and no one else is sponsoring us ({src}).",),
    },
    "other": {
        C: ("{first} confirmed the {dimension} question in detail ({src}).",),
        P: ("{first} gave some detail on {dimension}; not confirmed yet ({src}).",),
        U: ("Not covered yet ({src}).", ""),
        N: ("{first} ruled it out ({src}).",),
    },
}
COMPELLING_EVENTS = (
    "their current vendor contract renews", "a new SDR cohort starts", "the board reviews pipeline metrics",
    "their CRM migration cuts over", "the new CRO's 90-day plan is due",
)
CONVERSATIONS = (TouchOutcome.CONNECTED, TouchOutcome.REPLIED, TouchOutcome.MEETING_BOOKED)
HEARD_ON = {TouchKind.CALL: "call", TouchKind.EMAIL: "email", TouchKind.LINKEDIN: "LinkedIn",
            TouchKind.MEETING: "meeting", TouchKind.OTHER: "chat"}
READY_SHARE = 0.3  # of Working leads with a conversation: every required criterion answered, ready to hand off
MIN_READY = 3  # each SDR has at least this many, so a demo can hand one off end to end


@dataclass
class _Step:
    to: str
    actor: str  # "system", "sdr" or "ae"
    why: str = ""
    reason: DisqualifyReason | None = None
    at: datetime.datetime | None = None
    raw: datetime.datetime | None = None  # before moving into working hours
    note: str = ""  # a handoff's note to the AE (the next step itself is `why`, as hand_off writes it)
    meet_in: int = 0  # a handoff's next step is this many business days after it


@dataclass
class _Plan:
    lead: Lead
    steps: list[_Step]
    sdr: User | None
    ae: User | None
    mql_trigger: str = ""  # "demo_request" when a demo request made it an MQL
    events: list[Event] = field(default_factory=list)
    touches: list[Touch] = field(default_factory=list)


class _AsOf:
    """A lead as build_packet saw it at the moment it was handed off: its events and touches up to
    then. The seeded history already holds what came later; the real hand_off runs at that moment."""

    def __init__(self, lead: Lead, when: datetime.datetime) -> None:
        self._lead = lead
        self.events = Event.objects.filter(lead=lead, occurred_at__lte=when)
        self.touches = Touch.objects.filter(lead=lead, occurred_at__lte=when)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._lead, name)


def _line(stdout: IO[str], message: str = "") -> None:
    stdout.write(message + "\n")  # Django's OutputWrapper does not add a second newline


LEGAL_FORMS = {
    "inc", "llc", "ltd", "plc", "group", "gmbh", "ag", "kg", "kgaa", "ev", "sa", "sas", "sarl", "bv", "nv", "ab",
    "hb", "kb", "sl", "slu", "scoop", "scom", "ltda", "me", "epp", "eireli", "ei", "snc", "sca", "scs", "sa.",
}


def _with_suffix(name: str, suffix: str) -> str:
    """'Margraf GmbH' + 'Bank' -> 'Margraf Bank GmbH': the industry word goes before the legal form."""
    head, dash, tail = name.partition(" - ")
    tokens = head.split(" ")
    for i, token in enumerate(tokens[1:], start=1):
        if re.sub(r"[^a-z]", "", _ascii(token)) in LEGAL_FORMS:
            return " ".join([*tokens[:i], suffix, *tokens[i:]]) + dash + tail
    return f"{head} {suffix}{dash}{tail}"


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("æ", "ae").replace("ø", "o")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _day(day: datetime.date) -> str:
    """How reps write a date in a note: 'Thu 14 Mar'."""
    return f"{day:%a} {day.day} {day:%b}"


def _business_days_after(day: datetime.date, n: int) -> datetime.date:
    while n > 0:
        day += datetime.timedelta(days=1)
        n -= day.weekday() < 5
    return day


def _log_uniform(rng: random.Random, lo: float, hi: float) -> float:
    return lo * (hi / lo) ** rng.random()


def _pick(rng: random.Random, weighted: tuple[tuple[Any, float], ...] | list[tuple[Any, float]]) -> Any:
    items, weights = zip(*weighted, strict=True)
    return rng.choices(items, weights=weights)[0]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


def has_data() -> bool:
    return Lead.objects.exists()


def print_logins(stdout: IO[str]) -> None:
    """The URL hint and the table of demo logins (all with password `demo`)."""
    found = User.objects.filter(username__in=DEMO_USERNAMES).prefetch_related("memberships__team")
    users = {u.username: u for u in found}
    _line(stdout)
    _line(stdout, URL_HINT)
    _line(stdout, f"Demo logins (password for all: {PASSWORD}):")
    _line(stdout, f"  {'username':<10} {'role':<14} team")
    _line(stdout, f"  {'-' * 10} {'-' * 14} {'-' * 24}")
    for username, *_ in CAST:
        user = users.get(username)
        if user is None:
            continue
        memberships = sorted(user.memberships.all(), key=lambda m: m.team.name, reverse=True)
        roles = sorted({m.get_role_display() for m in memberships})
        teams = list(dict.fromkeys(m.team.name for m in memberships))
        _line(stdout, f"  {username:<10} {', '.join(roles) or '-':<14} {', '.join(teams) or '-'}")


def seed(
    *, leads: int = 2000, accounts: int = 300, days: int = 90, seed: int = 42, stdout: IO[str] | None = None
) -> dict[str, int]:
    """Create the demo cast and a realistic funnel; returns how many rows of each kind were created."""
    started = time.monotonic()
    with pghistory.context(source="seed_demo"), transaction.atomic():
        counts = _Generator(leads=leads, accounts=accounts, days=days, seed=seed, stdout=stdout).run()
    __import__("qualify.scoring.runs").scoring.runs.recompute_all(promote=False)  # real scores replace the rough ones
    if stdout is not None:
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        _line(stdout, f"Seeded in {time.monotonic() - started:.1f}s: {summary}")
    return counts


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


class _Generator:
    def __init__(self, *, leads: int, accounts: int, days: int, seed: int, stdout: IO[str] | None) -> None:
        if days < 1:
            raise ValueError("days must be at least 1")
        self.n_leads, self.n_accounts, self.days = max(leads, 0), max(accounts, 1), days
        self.rng = random.Random(seed)
        # Shifting times into working hours depends on what day "now" is; it draws from its own
        # stream so that everything else (people, stages, counts, notes) is the same on any day.
        self.time_rng = random.Random(seed * 7919 + 1)
        # Answers are planned after everything else, from a stream of their own (see plan_answers).
        self.qual_rng = random.Random(seed * 104729 + 3)
        self.fakers: dict[str, Faker] = {}
        for i, (_, _, _, locale, _) in enumerate(COUNTRIES.values()):
            fake = Faker(locale)
            fake.seed_instance(seed * 1000 + i)
            self.fakers[locale] = fake
        self.stdout = stdout
        self.now = timezone.now().replace(microsecond=0)
        self.today = timezone.localdate(self.now)
        # A few minutes inside the window, so "within the last `days`" still holds when checked later.
        self.window_start = self.now - datetime.timedelta(days=days) + datetime.timedelta(minutes=10)
        self.year = self.today.year

    def say(self, message: str) -> None:
        if self.stdout is not None:
            _line(self.stdout, message)

    def run(self) -> dict[str, int]:
        users = self.create_cast()
        self.load_reasons()
        accounts = self.create_accounts()
        plans = self.plan_leads(accounts)
        Lead.objects.bulk_create([p.lead for p in plans], batch_size=BATCH)
        self.say(f"  {len(plans)} leads")
        changes = [
            StageChange(lead=p.lead, from_stage=prev, to_stage=s.to, by=self.actor(p, s.actor), at=s.at,
                        why=s.why, reason=s.reason)
            for p in plans
            for prev, s in zip(["", *[s.to for s in p.steps]], p.steps, strict=False)
        ]
        StageChange.objects.bulk_create(changes, batch_size=BATCH)
        self.say(f"  {len(changes)} stage changes")
        touches = [t for p in plans for t in p.touches]
        Touch.objects.bulk_create(touches, batch_size=BATCH)
        self.say(f"  {len(touches)} touches")
        n_events = 0
        chunk: list[Event] = []
        for p in plans:
            chunk.extend(p.events)
            if len(chunk) >= BATCH:
                Event.objects.bulk_create(chunk, batch_size=BATCH)
                n_events += len(chunk)
                chunk = []
        Event.objects.bulk_create(chunk, batch_size=BATCH)
        n_events += len(chunk)
        self.say(f"  {n_events} events")
        self.configure_frameworks()
        n_answers, n_handoffs = self.write_answers_and_handoffs(plans, self.plan_answers(plans))
        return {
            "teams": len(TEAMS), "users": len(users), "accounts": len(accounts), "leads": len(plans),
            "stage_changes": len(changes), "touches": len(touches), "events": n_events, "answers": n_answers,
            "handoffs": n_handoffs,
        }

    # --- cast --------------------------------------------------------------------------------

    def create_cast(self) -> dict[str, User]:
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in TEAMS}
        password = make_password(PASSWORD)  # hash once, reuse: hashing is deliberately slow
        users: dict[str, User] = {}
        for username, first, last, team_name, role in CAST:
            admin = role == Role.REVOPS
            user, _ = User.objects.update_or_create(
                username=username,
                defaults=dict(first_name=first, last_name=last, email=f"{username}@qualify.example", password=password,
                              is_active=True, is_staff=admin, is_superuser=admin),
            )
            users[username] = user
            for name in [team_name] if team_name else TEAMS:
                Membership.objects.get_or_create(user=user, team=teams[name], role=role)
        for name, username in DEFAULT_AE.items():
            if teams[name].default_ae_id != users[username].pk:
                teams[name].default_ae = users[username]
                teams[name].save(update_fields=["default_ae"])
        self.teams = teams
        self.sdrs = {name: [users[u] for u, _, _, t, r in CAST if t == name and r == Role.SDR] for name in TEAMS}
        self.aes = {name: [users[u] for u, _, _, t, r in CAST if t == name and r == Role.AE] for name in TEAMS}
        self.default_ae = {name: users[u] for name, u in DEFAULT_AE.items()}
        self.say(f"  {len(users)} demo users in {len(teams)} teams")
        return users

    def load_reasons(self) -> None:
        self.reasons: dict[str, list[DisqualifyReason]] = {}
        for action in ReasonAction.values:
            found = list(DisqualifyReason.objects.filter(action=action, active=True).order_by("position", "name"))
            if not found:  # the data migration ships them; an admin may have retired all of one kind
                found = [DisqualifyReason.objects.get_or_create(
                    name=f"Demo: {ReasonAction(action).label}", defaults=dict(action=action, note_required=False),
                )[0]]
            self.reasons[action] = found

    def reason(self, action: str, prefer: tuple[str, ...] = ()) -> DisqualifyReason:
        options = self.reasons[action]
        preferred = [r for r in options if r.name in prefer]
        if preferred and self.rng.random() < 0.8:
            return self.rng.choice(preferred)
        return self.rng.choice(options)

    def note(self, reason: DisqualifyReason) -> str:
        notes = REASON_NOTES.get(reason.name) or GENERIC_NOTES[reason.action]
        note = self.rng.choice(notes)
        if len(note) < reason.min_note_length:
            note = f"{note} (see activity timeline for details)"
        return note

    # --- accounts ----------------------------------------------------------------------------

    def create_accounts(self) -> list[Account]:
        rng = self.rng
        used_domains = set(Account.objects.exclude(domain="").values_list("domain", flat=True))
        used_names: set[str] = set()
        country_choices = [(c, spec[0]) for c, spec in COUNTRIES.items()]
        industry_choices = [(i, spec[0]) for i, spec in INDUSTRIES.items()]
        accounts: list[Account] = []
        for _ in range(self.n_accounts):
            country = _pick(rng, country_choices)
            _, team_name, region, locale, tld = COUNTRIES[country]
            industry = _pick(rng, industry_choices)
            if industry == "Government":
                tld = GOV_TLD.get(country, tld)
            fake = self.fakers[locale]
            name = self.company_name(fake, industry, used_names)
            employees = max(3, min(250_000, int(math.exp(rng.gauss(5.6, 1.6)))))
            segment = Segment.SMB if employees < 200 else Segment.MID_MARKET if employees < 2000 else Segment.ENTERPRISE
            low, high = INDUSTRIES[industry][2]
            revenue = employees * rng.uniform(low, high) * 1000
            band = next((b for limit, b in REVENUE_BANDS if revenue < limit), RevenueBand.OVER_1B)
            owner_chance = {Segment.SMB: 0.2, Segment.MID_MARKET: 0.45, Segment.ENTERPRISE: 0.85}[segment]
            owner = rng.choice(self.aes[team_name]) if rng.random() < owner_chance else None
            accounts.append(Account(
                name=name, domain=self.domain(name, tld, used_domains), industry=industry, employee_count=employees,
                revenue_band=band, country=country, region=region, segment=segment, team=self.teams[team_name],
                owner=owner, created_at=self.now - datetime.timedelta(days=days_ago(rng, self.days)),
            ))
        Account.objects.bulk_create(accounts, batch_size=BATCH)
        self.say(f"  {len(accounts)} accounts")
        return accounts

    def company_name(self, fake: Faker, industry: str, used: set[str]) -> str:
        rng = self.rng
        suffixes = INDUSTRIES[industry][1]
        for attempt in range(50):
            if industry == "Government":
                city = fake.city()
                name = rng.choice((f"City of {city}", f"{city} County", f"{city} Transit Authority",
                                   f"{city} Public Works"))
            else:
                name = fake.company()
                bare = not re.search(r"[\s\-&,]", name)
                if bare or rng.random() < 0.3 or attempt > 10:
                    name = _with_suffix(name, rng.choice(suffixes))
            if name not in used:
                used.add(name)
                return name
        raise RuntimeError("could not find a unique company name")  # pragma: no cover

    def domain(self, name: str, tld: str, used: set[str]) -> str:
        words = [w for w in re.findall(r"[a-z0-9]+", _ascii(name)) if w not in LEGAL_WORDS and len(w) > 2]
        words = words or ["company"]
        first = words[0]
        bases = [first]
        if len(words) > 1:
            second = words[1]
            bases = [first + second, first, f"{first}-{second}"] if self.rng.random() < 0.5 else [first, first + second]
        bases += [f"{first}hq", f"get{first}", f"{first}group"]
        for base in bases:
            domain = f"{base}.{tld}"
            if domain not in used:
                used.add(domain)
                return domain
        n = 2
        while f"{first}{n}.{tld}" in used:
            n += 1
        used.add(f"{first}{n}.{tld}")
        return f"{first}{n}.{tld}"

    # --- leads -------------------------------------------------------------------------------

    def plan_leads(self, accounts: list[Account]) -> list[_Plan]:
        rng = self.rng
        # Every account gets a lead when there are enough; bigger companies get more of the rest.
        targets = list(accounts[: self.n_leads])
        weights = [(a.employee_count or 10) ** 0.35 for a in accounts]
        targets += rng.choices(accounts, weights=weights, k=self.n_leads - len(targets))
        rng.shuffle(targets)
        emails: set[str] = set()
        plans = [self.plan_lead(account, emails) for account in targets]
        self.say("  planned leads, histories, touches and events")
        return plans

    def plan_lead(self, account: Account, emails: set[str]) -> _Plan:
        rng = self.rng
        team_name = account.team.name
        locale = COUNTRIES[account.country][3]
        fake = self.fakers[locale if rng.random() < 0.85 else rng.choice(("en_US", "en_GB"))]
        first, last = fake.first_name(), fake.last_name()
        source = _pick(rng, SOURCES)
        seniority = SENIORITY_ORDER[rng.choices(range(6), weights=SENIORITY_WEIGHTS[source])[0]]
        title, department, personas = rng.choice(TITLES[seniority])
        persona = _pick(rng, personas) if rng.random() > 0.05 else Persona.UNKNOWN
        student = seniority == Seniority.STUDENT

        email = self.email(first, last, account.domain, personal=student or rng.random() < 0.02, taken=emails)
        campaign = partner_name = partner_contact = ""
        if source == Source.INBOUND:
            campaign = rng.choice(INBOUND_CAMPAIGNS)
        elif source == Source.EVENT:
            campaign = rng.choice(EVENT_CAMPAIGNS[team_name])
            if not campaign.startswith("Webinar"):
                campaign = f"{campaign} {self.year}"
        elif source == Source.PARTNER:
            partner_name, partner_domain = rng.choice(PARTNERS)
            contact = self.fakers["en_US" if team_name == NA else "en_GB"]
            pfirst, plast = contact.first_name(), contact.last_name()
            handle = ".".join(re.sub(r"[^a-z]", "", _ascii(part)) for part in (pfirst, plast))
            partner_contact = f"{pfirst} {plast} <{handle}@{partner_domain}>"

        stage = _pick(rng, list((STUDENT_STAGE_WEIGHTS if student else STAGE_WEIGHTS).items()))
        sdr = rng.choice(self.sdrs[team_name])
        ae = account.owner or (self.default_ae[team_name] if rng.random() < 0.6 else rng.choice(self.aes[team_name]))
        steps, mql_trigger = self.path(stage, source, student, first)
        to_stages = [s.to for s in steps]
        accepted = Stage.ACCEPTED in to_stages
        system_only = all(s.actor == "system" for s in steps)
        unassigned = system_only and (stage in (Stage.NEW, Stage.MQL) and rng.random() < UNASSIGNED_SHARE
                                      or stage == Stage.DISQUALIFIED)
        lead = Lead(
            first_name=first, last_name=last, email=email,
            phone=fake.phone_number() if rng.random() < 0.7 and not student else "",
            title=title, seniority=seniority, department=department, persona=persona, source=source,
            campaign=campaign, partner_name=partner_name, partner_contact=partner_contact,
            account=account, team=account.team, stage=stage,
            owner=None if unassigned else ae if accepted else sdr,
            # A rejected handoff clears the AE (workflow.reject); an accepted one makes them the owner.
            ae=ae if accepted or stage == Stage.HANDED_OFF else None,
        )
        plan = _Plan(lead=lead, steps=steps, sdr=None if unassigned else sdr, ae=ae, mql_trigger=mql_trigger)
        self.schedule(plan)
        last = steps[-1]
        lead.created_at, lead.stage_changed_at = steps[0].at, last.at
        tz = TEAM_TZ.get(team_name, datetime.UTC)
        for step in steps:  # the next step's date, now that the handoff has a time
            if step.to == Stage.HANDED_OFF:
                meeting = _business_days_after(step.at.astimezone(tz).date(), step.meet_in)
                step.why = step.why.format(date=_day(meeting), tz=TZ_LABEL[team_name])
        if stage == Stage.NURTURE:
            recycle = last.at.date() + datetime.timedelta(days=last.reason.recycle_days or 60)
            if recycle <= self.today:  # it would have been recycled already; the rep pushed the date out
                recycle = self.today + datetime.timedelta(days=self.time_rng.randint(3, 45))
            lead.recycle_on = recycle
        for step in steps:  # the reason field follows the same rules as lifecycle.move_stage
            if step.to in (Stage.NURTURE, Stage.DISQUALIFIED) or step.reason is not None:
                lead.disqualify_reason = step.reason
            elif step.to in (Stage.NEW, Stage.MQL, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON):
                lead.disqualify_reason = None
        self.plan_touches(plan)
        self.plan_events(plan)
        lead.last_touch_at = max((t.occurred_at for t in plan.touches), default=None)
        lead.score = self.score(plan)
        return plan

    def email(self, first: str, last: str, domain: str, *, personal: bool, taken: set[str]) -> str:
        rng = self.rng
        f, l = re.sub(r"[^a-z]", "", _ascii(first)) or "info", re.sub(r"[^a-z]", "", _ascii(last)) or "contact"
        if personal:
            local = rng.choice((f"{f}.{l}", f"{f}{l}{rng.randint(1, 99)}", f"{f[0]}{l}{rng.randint(80, 99)}"))
            domain = rng.choice(PERSONAL_DOMAINS)
        else:
            local = rng.choice((f"{f}.{l}", f"{f}.{l}", f"{f[0]}{l}", f"{f}"))
        email, n = f"{local}@{domain}", 2
        while email in taken:
            email, n = f"{local}{n}@{domain}", n + 1
        taken.add(email)
        return email

    def path(self, stage: str, source: str, student: bool, first: str) -> tuple[list[_Step], str]:
        """An allowed route from New to `stage`, with who moved it and why."""
        rng = self.rng
        origin = {Source.INBOUND: "web form", Source.OUTBOUND: "SDR prospecting", Source.PARTNER: "partner referral",
                  Source.PRODUCT_LED: "product sign-up", Source.EVENT: "event list import"}[source]
        steps = [_Step(Stage.NEW, "system", f"Created from {origin}")]
        trigger = ""

        def to_mql() -> None:
            nonlocal trigger
            if source in (Source.INBOUND, Source.PRODUCT_LED, Source.EVENT) and rng.random() < 0.3:
                trigger = "demo_request"
                steps.append(_Step(Stage.MQL, "system", "Hard trigger: demo request"))
            else:
                threshold = rng.choice((50, 60, 65))
                steps.append(_Step(Stage.MQL, "system",
                                   f"Score {threshold + rng.randint(1, 25)} crossed the MQL threshold ({threshold})"))

        def to_working() -> None:
            if source != Source.OUTBOUND and rng.random() < 0.75:
                to_mql()
            steps.append(_Step(Stage.WORKING, "sdr", "First touch"))  # completed by plan_touches
            detour = rng.random()
            if detour < 0.07:  # handed off too early; the AE sent it back
                steps.append(self.handoff_step(first))
                r = self.reason(ReasonAction.BACK_TO_SDR, ("Not enough discovery", "No authority"))
                steps.append(_Step(Stage.WORKING, "ae", self.note(r), r))
            elif detour < 0.12:  # parked in nurture, then re-engaged
                r = self.reason(ReasonAction.NURTURE)
                steps.append(_Step(Stage.NURTURE, "sdr", self.note(r), r))
                steps.append(_Step(Stage.WORKING, "sdr", "Re-engaged: replied to a nurture email"))

        def to_handed_off() -> None:
            to_working()
            steps.append(self.handoff_step(first))

        def to_accepted() -> None:
            to_handed_off()
            steps.append(_Step(Stage.ACCEPTED, "ae", rng.choice((
                "Accepted: budget and timeline confirmed on discovery.",
                "Accepted: champion confirmed, economic buyer identified.",
                "Accepted: clear pain and a compelling event this quarter.",
            ))))

        def to_opportunity() -> None:
            to_accepted()
            seats = rng.choice((10, 15, 25, 40, 60, 120))
            steps.append(_Step(Stage.OPPORTUNITY, "ae",
                               f"Opportunity created: {seats} seats, next step {rng.choice(NEXT_STEPS)}."))

        if stage == Stage.NEW:
            pass
        elif stage == Stage.MQL:
            to_mql()
        elif stage == Stage.WORKING:
            to_working()
        elif stage == Stage.HANDED_OFF:
            to_handed_off()
        elif stage == Stage.ACCEPTED:
            to_accepted()
        elif stage == Stage.OPPORTUNITY:
            to_opportunity()
        elif stage == Stage.WON:
            to_opportunity()
            steps.append(_Step(Stage.WON, "ae", rng.choice((
                "Closed won: annual contract signed.", "Closed won: two-year deal, starts next month.",
                "Closed won: signed after security review.",
            ))))
        elif stage == Stage.LOST:
            (to_opportunity if rng.random() < 0.75 else to_accepted)()
            steps.append(_Step(Stage.LOST, "ae", rng.choice(LOSS_NOTES).format(competitor=rng.choice(COMPETITORS))))
        elif stage == Stage.NURTURE:
            base = Stage.NEW if student else _pick(rng, ((Stage.NEW, 12), (Stage.MQL, 22), (Stage.WORKING, 44),
                                                         (Stage.HANDED_OFF, 12), (Stage.LOST, 10)))
            actor = "sdr"
            if base == Stage.MQL:
                to_mql()
                actor = "system" if rng.random() < 0.4 else "sdr"
            elif base == Stage.WORKING:
                to_working()
            elif base == Stage.HANDED_OFF:
                to_handed_off()
                actor = "ae"
            elif base == Stage.LOST:
                (to_opportunity if rng.random() < 0.6 else to_accepted)()
                steps.append(_Step(Stage.LOST, "ae", rng.choice(LOSS_NOTES).format(competitor=rng.choice(COMPETITORS))))
                actor = "ae"
            r = self.reason(ReasonAction.NURTURE, ("Nurture — recycle later",) if actor == "system" else ())
            why = "Engagement decayed below the MQL threshold" if actor == "system" else self.note(r)
            steps.append(_Step(Stage.NURTURE, actor, why, r))
        elif stage == Stage.DISQUALIFIED:
            base = Stage.NEW if student else _pick(rng, ((Stage.NEW, 28), (Stage.MQL, 10), (Stage.WORKING, 37),
                                                         (Stage.HANDED_OFF, 12), (Stage.ACCEPTED, 5),
                                                         (Stage.OPPORTUNITY, 8)))
            actor, prefer = "sdr", ("No ICP fit", "Compliance blocker", "Bad data")
            if base == Stage.NEW:
                actor, prefer = ("system" if rng.random() < 0.5 else "sdr"), CLOSE_EARLY
            elif base == Stage.MQL:
                to_mql()
                prefer = CLOSE_EARLY
            elif base == Stage.WORKING:
                to_working()
            elif base == Stage.HANDED_OFF:
                to_handed_off()
                actor, prefer = "ae", ("No ICP fit", "Compliance blocker")
            elif base == Stage.ACCEPTED:
                to_accepted()
                actor, prefer = "ae", ("Compliance blocker", "No ICP fit")
            else:
                to_opportunity()
                actor, prefer = "ae", ("Compliance blocker",)
            if student:
                prefer = ("No ICP fit", "Bad data")
            r = self.reason(ReasonAction.CLOSE, prefer)
            steps.append(_Step(Stage.DISQUALIFIED, actor, self.note(r), r))
        return steps, trigger

    def handoff_step(self, first: str) -> _Step:
        """The SDR's hand-off: the next step (with a `{date}` and `{tz}` filled in once the handoff has
        a time; hand_off records it as the stage change's why) and a note for the AE."""
        rng = self.rng
        who = rng.choice(("VP of Sales", "RevOps lead", "CRO", "Head of Sales Ops", "CFO"))
        at = rng.choice(("9:30", "10:00", "11:00", "13:30", "14:00", "15:30", "16:00"))
        next_step = rng.choice((
            f"Discovery call with {first} and their {who}, {{date}} {at} {{tz}}",
            f"Demo for {first}'s team on {{date}} at {at} {{tz}}; {first} is bringing their {who}",
            f"Pricing call with {first} and finance, {{date}} {at} {{tz}}",
            f"Technical deep dive with their Salesforce admin, {{date}} {at} {{tz}}; {first} attends",
            f"Intro call: {first} + {who}, booked for {{date}} {at} {{tz}}",
        ))
        note = rng.choice((
            f"Pain: {rng.choice(PAINS)}. {first} wants it fixed this quarter.",
            f"{first} described {rng.choice(PAINS)} and pulled in their {who}.",
            f"Pain: {rng.choice(PAINS)}. Budget owner engaged; {rng.choice(NEXT_STEPS)} after the call.",
            "",
        ))
        return _Step(Stage.HANDED_OFF, "sdr", next_step, note=note, meet_in=rng.randint(1, 6))

    # --- time --------------------------------------------------------------------------------

    def gap_days(self, before: str, after: str) -> float:
        """How long a lead typically sits in `before` before moving to `after` (days)."""
        rng, S = self.rng, Stage
        if after == S.MQL:
            return _log_uniform(rng, 0.01, 3)
        if after == S.WORKING and before in (S.NEW, S.MQL):
            return _log_uniform(rng, 0.01, 1.5)
        if after == S.WORKING:
            return _log_uniform(rng, 0.1, 2) if before == S.HANDED_OFF else _log_uniform(rng, 7, 40)
        if after == S.HANDED_OFF:
            return _log_uniform(rng, 2, 21)
        if before == S.HANDED_OFF:
            return _log_uniform(rng, 0.05, 2)
        if after == S.OPPORTUNITY:
            return _log_uniform(rng, 1, 10)
        if after in (S.WON, S.LOST):
            return _log_uniform(rng, 3, 20) if before == S.ACCEPTED else _log_uniform(rng, 10, 60)
        if after == S.NURTURE:
            return _log_uniform(rng, 1, 14) if before == S.LOST else _log_uniform(rng, 3, 30)
        if after == S.DISQUALIFIED:
            return _log_uniform(rng, 0.02, 5) if before == S.NEW else _log_uniform(rng, 2, 25)
        return _log_uniform(rng, 0.5, 10)  # pragma: no cover

    def schedule(self, plan: _Plan) -> None:
        """Give each step a time: increasing, ending before now, starting within the window."""
        rng, steps = self.rng, plan.steps
        gaps = [self.gap_days(a.to, b.to) for a, b in zip(steps, steps[1:], strict=False)]
        tail = _log_uniform(rng, *TAIL_DAYS[steps[-1].to])
        total = sum(gaps) + tail
        limit = self.days * 0.97
        if total > limit:
            scale = limit * rng.uniform(0.55, 1.0) / total
            gaps, tail, total = [g * scale for g in gaps], tail * scale, total * scale
        at = self.now - datetime.timedelta(days=total)
        steps[0].at = steps[0].raw = previous = at.replace(microsecond=0)
        tz = TEAM_TZ.get(plan.lead.team.name, datetime.UTC)
        for step, gap in zip(steps[1:], gaps, strict=True):
            at += datetime.timedelta(days=gap)
            step.raw = at
            when = self.working_time(at, tz, floor=previous) if step.actor != "system" else at
            # At least a second after the previous step, so the history has a strict order.
            step.at = previous = max(when.replace(microsecond=0), previous + datetime.timedelta(seconds=1))

    def working_time(self, when: datetime.datetime, tz: datetime.tzinfo, *, floor: datetime.datetime,
                     limit: datetime.datetime | None = None) -> datetime.datetime:
        """`when` moved into working hours: forward if that stays before `limit` (default now), else
        back to the previous working day if that stays after `floor`, else unchanged."""
        local = when.astimezone(tz)
        if local.weekday() < 5 and 8 <= local.hour < 18:
            return when
        offset = datetime.timedelta(minutes=self.time_rng.uniform(0, 9 * 60))
        day = local.date() if local.hour < 8 else local.date() + datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day += datetime.timedelta(days=1)
        moved = (datetime.datetime.combine(day, datetime.time(8), tzinfo=tz) + offset).astimezone(datetime.UTC)
        if moved <= (limit or self.now):
            return moved
        day = local.date() if local.hour >= 18 else local.date() - datetime.timedelta(days=1)
        while day.weekday() >= 5:
            day -= datetime.timedelta(days=1)
        moved = (datetime.datetime.combine(day, datetime.time(8), tzinfo=tz) + offset).astimezone(datetime.UTC)
        return moved if moved > floor else when

    def work_moment(self, start: datetime.datetime, end: datetime.datetime, tz: datetime.tzinfo) -> datetime.datetime:
        """A random moment strictly inside (start, end), in working hours when the span has any."""
        span = (end - start).total_seconds()
        when = start
        for _ in range(12):
            when = start + datetime.timedelta(seconds=self.time_rng.uniform(0.02, 0.98) * span)
            local = when.astimezone(tz)
            if local.weekday() < 5 and 8 <= local.hour < 18:
                return when
        return self.working_time(when, tz, floor=start, limit=end)

    def actor(self, plan: _Plan, actor: str) -> User | None:
        return {"sdr": plan.sdr, "ae": plan.ae}.get(actor)

    # --- touches -----------------------------------------------------------------------------

    def plan_touches(self, plan: _Plan) -> None:
        """SDR touches while Working (the first one is what moved it to Working), AE touches after acceptance."""
        rng, steps = self.rng, plan.steps
        tz = TEAM_TZ.get(plan.lead.team.name, datetime.UTC)
        for i, step in enumerate(steps):
            end = steps[i + 1].at if i + 1 < len(steps) else self.now
            raw_end = steps[i + 1].raw if i + 1 < len(steps) else self.now
            nxt = steps[i + 1].to if i + 1 < len(steps) else ""
            if step.to == Stage.WORKING and plan.sdr is not None:
                first_touch = steps[i - 1].to in (Stage.NEW, Stage.MQL)
                span = (raw_end - step.raw).total_seconds()  # unshifted times: same count whatever "now" is
                n = rng.randint(1, max(1, min(8, int(span / 86400 / 2.5) + 1)))
                times = sorted(self.work_moment(step.at, end, tz) for _ in range(n))
                if first_touch:
                    kind, outcome = self.sdr_touch()
                    step.why = f"First touch: {TouchKind(kind).label}: {TouchOutcome(outcome).label}"
                    self.touch(plan, plan.sdr, step.at, kind, outcome)
                for j, when in enumerate(times):
                    kind, outcome = self.sdr_touch()
                    if j == len(times) - 1 and nxt == Stage.HANDED_OFF:
                        kind, outcome = rng.choice((TouchKind.CALL, TouchKind.EMAIL)), TouchOutcome.MEETING_BOOKED
                    elif j == len(times) - 1 and nxt in (Stage.NURTURE, Stage.DISQUALIFIED) and rng.random() < 0.5:
                        kind, outcome = TouchKind.CALL, TouchOutcome.NOT_INTERESTED
                    self.touch(plan, plan.sdr, when, kind, outcome)
            elif step.to in (Stage.ACCEPTED, Stage.OPPORTUNITY) and plan.ae is not None:
                span = (raw_end - step.raw).total_seconds()
                n = rng.randint(1, max(1, min(6, int(span / 86400 / 6) + 1)))
                for when in sorted(self.work_moment(step.at, end, tz) for _ in range(n)):
                    kind = _pick(rng, ((TouchKind.MEETING, 5), (TouchKind.EMAIL, 3), (TouchKind.CALL, 2)))
                    outcome = {TouchKind.MEETING: TouchOutcome.CONNECTED, TouchKind.CALL: TouchOutcome.CONNECTED}.get(
                        kind, rng.choice((TouchOutcome.SENT, TouchOutcome.REPLIED)))
                    self.touch(plan, plan.ae, when, kind, outcome, ae=True)

        plan.touches.sort(key=lambda t: t.occurred_at)

    def sdr_touch(self) -> tuple[str, str]:
        rng = self.rng
        kind = _pick(rng, ((TouchKind.CALL, 45), (TouchKind.EMAIL, 35), (TouchKind.LINKEDIN, 15), (TouchKind.OTHER, 2)))
        if kind == TouchKind.CALL:
            outcome = _pick(rng, ((TouchOutcome.NO_ANSWER, 34), (TouchOutcome.VOICEMAIL, 28),
                                  (TouchOutcome.CONNECTED, 28),
                                  (TouchOutcome.WRONG_CONTACT, 4), (TouchOutcome.NOT_INTERESTED, 6)))
        elif kind == TouchKind.OTHER:
            outcome = TouchOutcome.CONNECTED
        else:
            outcome = _pick(rng, ((TouchOutcome.SENT, 72), (TouchOutcome.REPLIED, 28)))
        return kind, outcome

    def touch(self, plan: _Plan, author: User, when: datetime.datetime, kind: str, outcome: str,
              ae: bool = False) -> None:
        when = min(when, self.now)
        plan.touches.append(Touch(lead=plan.lead, author=author, kind=kind, outcome=outcome,
                                  note=self.touch_note(plan.lead, kind, outcome, ae), occurred_at=when))

    def touch_note(self, lead: Lead, kind: str, outcome: str, ae: bool) -> str:
        rng, first = self.rng, lead.first_name
        if ae:
            if kind == TouchKind.MEETING:
                return rng.choice((
                    f"Discovery with {first}: {rng.choice(PAINS)}; decision by end of quarter.",
                    f"Demo for {first} and two SDR managers; asked about Salesforce sync.",
                    f"Pricing walkthrough with {first} and finance; they want annual terms.",
                    f"Security review kickoff with {first}'s IT team.",
                    f"Mutual action plan agreed with {first}; {rng.choice(NEXT_STEPS)}.",
                ))
            if kind == TouchKind.CALL:
                return rng.choice((f"Checked in with {first} on procurement timeline.",
                                   f"Call with {first}: legal redlines next week."))
            if outcome == TouchOutcome.REPLIED:
                return rng.choice((f"{first} replied with the security questionnaire.",
                                   f"{first} replied: legal is reviewing the MSA.",
                                   f"{first} replied: needs a reference customer in {lead.account.industry.lower()}."))
            return rng.choice(("Sent proposal and order form.", "Sent recap and mutual action plan.",
                               "Sent ROI model for their CFO."))
        notes = {
            TouchOutcome.CONNECTED: (
                f"Spoke with {first} for 15 min: {rng.choice(PAINS)}.",
                f"Connected; {first} is evaluating options this quarter.",
                f"{first} confirmed {rng.randint(4, 30)} SDRs and a {rng.choice(('Salesforce', 'HubSpot'))} stack.",
            ),
            TouchOutcome.VOICEMAIL: (
                "Left voicemail referencing their pricing page visits.", "Left VM; follow-up email queued.", "",
            ),
            TouchOutcome.NO_ANSWER: ("No answer; retry tomorrow morning.", "", "Straight to switchboard, no answer."),
            TouchOutcome.SENT: (
                "Sent customer story: 60% faster speed to lead.", "Follow-up #2 in sequence.",
                "Shared the SLA benchmark report.", "",
            ),
            TouchOutcome.REPLIED: (
                f"{first} replied: interested, asked for pricing.",
                f"{first} replied: looping in their RevOps lead.",
                f"{first} replied: not before next month, asked to reconnect.",
            ),
            TouchOutcome.MEETING_BOOKED: (
                f"Discovery call booked with {first} and their {rng.choice(('VP of Sales', 'RevOps lead', 'CRO'))}.",
                f"Meeting booked: demo for {first}'s team.",
            ),
            TouchOutcome.NOT_INTERESTED: (
                "Not a priority this year; happy with the current process.", f"{first} asked not to be contacted again.",
            ),
            TouchOutcome.WRONG_CONTACT: (
                "Not the right person; pointed us to the Head of Sales Ops.", "Left the company; new contact found.",
            ),
        }
        return rng.choice(notes[outcome])

    # --- events ------------------------------------------------------------------------------

    def plan_events(self, plan: _Plan) -> None:
        rng, lead, steps = self.rng, plan.lead, plan.steps
        stage = lead.stage
        student = lead.seniority == Seniority.STUDENT
        n = round(EVENTS_PER_STAGE[stage] * rng.uniform(0.5, 1.5) * (0.4 if student else 1.0))
        lo = max(self.window_start, lead.created_at - datetime.timedelta(days=14))
        closed = stage in (Stage.WON, Stage.LOST, Stage.DISQUALIFIED)
        hi = min(self.now, lead.stage_changed_at + datetime.timedelta(days=10)) if closed else self.now
        span = max((hi - lo).total_seconds(), 60)
        worked_from = next((s.at for s in steps if s.to == Stage.WORKING), None)
        deep = stage in (Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON, Stage.LOST)
        # Open leads: activity clusters in recent days ("why now"); nurtured ones have gone quiet.
        skew = 1.0 if closed else 1.6 if stage == Stage.NURTURE else 0.6

        def add(kind: str, when: datetime.datetime, props: dict[str, Any]) -> None:
            when = min(max(when, self.window_start), self.now).replace(microsecond=0)
            received = min(self.now, when + datetime.timedelta(seconds=rng.randint(1, 90)))
            plan.events.append(Event(lead=lead, type=kind, properties=props, occurred_at=when, received_at=received))

        # Anchors: what created the lead, and the demo request that made it an MQL.
        if lead.source == Source.INBOUND:
            add(EventType.FORM_FILL, lead.created_at,
                {"form": "ebook" if lead.campaign.startswith("Ebook") else "contact",
                                                       "campaign": lead.campaign})
        elif lead.source == Source.EVENT and lead.campaign.startswith("Webinar"):
            add(EventType.WEBINAR_REGISTERED, lead.created_at - datetime.timedelta(days=rng.uniform(2, 10)),
                {"webinar": lead.campaign})
            add(EventType.WEBINAR_ATTENDED, lead.created_at, {"webinar": lead.campaign, "minutes": rng.randint(12, 55)})
        elif lead.source == Source.PRODUCT_LED:
            add(EventType.PRODUCT_USAGE, lead.created_at, {"action": "signed_up", "plan": "free"})
        if plan.mql_trigger:
            mql_at = next(s.at for s in steps if s.to == Stage.MQL)
            add(EventType.DEMO_REQUEST, mql_at - datetime.timedelta(minutes=rng.randint(1, 20)),
                {"form": "demo", "page": "/demo"})

        types = [
            (EventType.PAGE_VIEW, 50), (EventType.EMAIL_OPEN, 22), (EventType.EMAIL_CLICK, 9),
            (EventType.FORM_FILL, 2), (EventType.WEBINAR_REGISTERED, 2), (EventType.WEBINAR_ATTENDED, 1),
            (EventType.INTENT_SURGE, 2 if not student else 0),
            (EventType.PRODUCT_USAGE, 22 if lead.source == Source.PRODUCT_LED else 1),
            (EventType.EMAIL_REPLY, 3 if worked_from else 0),
            (EventType.DEMO_REQUEST, 1 if deep else 0),
        ]
        if student:
            pages = (("careers", 45), ("blog", 45), ("product", 10))
        elif deep:
            pages = (("pricing", 24), ("product", 34), ("competitor_comparison", 14), ("blog", 25), ("careers", 3))
        else:
            pages = (("pricing", 12), ("product", 32), ("competitor_comparison", 8), ("blog", 40), ("careers", 8))
        for _ in range(n):
            kind = _pick(rng, types)
            when = lo + datetime.timedelta(seconds=span * rng.random() ** skew)
            u = rng.random()
            if kind == EventType.EMAIL_REPLY and worked_from is not None and worked_from < hi:
                when = worked_from + (hi - worked_from) * u  # replies only once someone wrote to them
            props: dict[str, Any]
            if kind == EventType.PAGE_VIEW:
                category = _pick(rng, pages)
                dwell = int(rng.lognormvariate(3.7 if category != "pricing" else 4.3, 0.9))
                props = {"page_category": category, "url": self.url(category),
                         "dwell_seconds": max(3, min(dwell, 1800))}
            elif kind in (EventType.EMAIL_OPEN, EventType.EMAIL_CLICK, EventType.EMAIL_REPLY):
                sequence = lead.source == Source.OUTBOUND and rng.random() < 0.6
                props = {"campaign": rng.choice(OUTBOUND_SEQUENCES if sequence else EMAIL_CAMPAIGNS)}
                if kind == EventType.EMAIL_CLICK:
                    props["url"] = self.url(rng.choice(("pricing", "product", "blog")))
            elif kind == EventType.FORM_FILL:
                props = {"form": rng.choice(("ebook", "ebook", "contact")), "campaign": rng.choice(INBOUND_CAMPAIGNS)}
            elif kind in (EventType.WEBINAR_REGISTERED, EventType.WEBINAR_ATTENDED):
                props = {"webinar": rng.choice(("Webinar: MEDDIC without the paperwork", "Webinar: Handoffs AEs accept",
                                                "Webinar: Scoring models that sales trusts"))}
            elif kind == EventType.DEMO_REQUEST:
                props = {"form": "demo", "page": "/demo"}
            elif kind == EventType.PRODUCT_USAGE:
                props = {"action": rng.choice(("created_scoring_rule", "imported_csv", "invited_teammate",
                                               "opened_queue",
                                               "configured_sla", "connected_crm")),
                         "active_users": rng.randint(1, 12)}
            else:  # intent surge
                props = {"topic": rng.choice(("lead scoring software", "sales engagement", "revenue operations",
                                              "lead routing")), "strength": rng.choice(("medium", "high"))}
            add(kind, when, props)

    def url(self, category: str) -> str:
        return self.rng.choice({
            "pricing": ("/pricing", "/pricing#enterprise"),
            "product": ("/product/scoring", "/product/handoffs", "/product/sla", "/product/routing"),
            "blog": ("/blog/what-is-an-mql", "/blog/bant-vs-meddic", "/blog/speed-to-lead",
                     "/blog/sdr-handoff-checklist"),
            "careers": ("/careers", "/careers/sdr"),
            "competitor_comparison": ("/compare/spreadsheets", "/compare/crm-add-ons"),
        }[category])

    # --- qualification answers ---------------------------------------------------------------

    def configure_frameworks(self) -> None:
        """Load the active frameworks and their criteria once. On an untouched install (only the
        default BANT active) MEDDIC is switched on for Enterprise accounts, so the demo shows a
        second framework at work; an admin's own set-up is left as it is."""
        if not Framework.objects.filter(active=True, is_default=False).exists():
            meddic = Framework.objects.filter(slug="meddic", active=False, segments=[], teams__isnull=True).first()
            if meddic is not None:
                meddic.active, meddic.segments = True, [Segment.ENTERPRISE]
                meddic.save(update_fields=["active", "segments"])
                self.say("  MEDDIC now applies to Enterprise accounts (BANT to the rest)")
        self.frameworks = active_frameworks()
        criteria = Criterion.objects.filter(framework__in=self.frameworks, active=True).order_by("position", "id")
        self.criteria: dict[int, list[Criterion]] = {f.pk: [] for f in self.frameworks}
        for criterion in criteria:
            self.criteria[criterion.framework_id].append(criterion)

    def framework(self, lead: Lead) -> Framework | None:
        return choose_framework(self.frameworks, team_id=lead.team_id, segment=lead.account.segment)

    def plan_answers(self, plans: list[_Plan]) -> list[list[Answer]]:
        """Every worked lead's answers, in time order, one list per plan.

        Draws from its own random stream, after everything else is planned, and never as many times
        as a time dictates, so the same seed gives the same answers (and the same leads, touches and
        events as without them) whatever day it is.
        """
        rng = self.qual_rng
        working = [p for p in plans if p.lead.stage == Stage.WORKING and p.sdr is not None]
        ready: set[int] = set()
        for i, p in enumerate(working):
            if rng.random() < READY_SHARE and self.conversations(p, len(p.steps) - 1):
                ready.add(i)
        for sdr in {p.sdr.pk: p.sdr for p in working}.values():
            mine = [i for i, p in enumerate(working) if p.sdr == sdr]
            for i in [i for i in mine if i not in ready][: max(0, MIN_READY - sum(i in ready for i in mine))]:
                ready.add(i)
        ready_plans = {id(working[i]) for i in ready}
        return [self.answers_for(p, ready=id(p) in ready_plans) for p in plans]

    def conversations(self, plan: _Plan, index: int) -> list[Touch]:
        """The SDR's touches that reached the person, while the lead was in the Working stage at `index`."""
        steps = plan.steps
        start, end = steps[index].at, steps[index + 1].at if index + 1 < len(steps) else self.now
        return [t for t in plan.touches
                if t.author == plan.sdr and t.outcome in CONVERSATIONS and start <= t.occurred_at <= end]

    def answers_for(self, plan: _Plan, *, ready: bool) -> list[Answer]:
        """The SDR qualifies while Working: every required criterion before a handoff, part of them
        otherwise. Nurturing or disqualifying writes the answer the reason contradicts (No budget ->
        Budget negative); an AE who rejects or closes a lead writes it too, just before."""
        framework = self.framework(plan.lead)
        criteria = self.criteria.get(framework.pk, []) if framework else []
        if not criteria or plan.sdr is None:
            return []
        rng, steps = self.qual_rng, plan.steps
        context = self.evidence_context(plan)
        current: dict[int, Answer] = {}
        out: list[Answer] = []

        def write(criterion: Criterion, status: str, at: datetime.datetime, by: User, evidence: str) -> None:
            status_type = criterion.answer_type == AnswerType.STATUS
            value = "" if status_type else self.value_for(criterion)
            answer = Answer(lead=plan.lead, criterion=criterion, criterion_version=criterion.version,
                            question_text=criterion.question, status=status if status_type else "", value=value,
                            evidence=evidence.strip(), author=by, created_at=at.replace(microsecond=0))
            current[criterion.pk] = answer
            out.append(answer)

        for i, step in enumerate(steps):
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            if step.actor == "ae" and step.reason is not None:
                # The AE writes down what the rejection or close is about, minutes before it.
                criterion = self.criterion_for(step.reason, criteria)
                if criterion is not None and criterion.answer_type == AnswerType.STATUS:
                    gap = (step.at - steps[i - 1].at) / 2
                    at = step.at - min(datetime.timedelta(minutes=rng.randint(2, 25)), gap)
                    status = U if step.reason.action == ReasonAction.BACK_TO_SDR else N
                    write(criterion, status, at, plan.ae, step.why)
            if step.to != Stage.WORKING:
                continue
            complete = nxt is None and ready or nxt is not None and nxt.to == Stage.HANDED_OFF
            # Handed off too early: the criterion the AE will send it back for is only partly answered.
            weak = None
            if complete and nxt is not None and i + 2 < len(steps) and steps[i + 2].to == Stage.WORKING:
                weak = self.criterion_for(steps[i + 2].reason, criteria)
            redo = None  # back from the AE: the SDR answers what was missing
            if step.actor == "ae" and step.reason is not None:
                redo = self.criterion_for(step.reason, criteria) or rng.choice(criteria)
            talks = self.conversations(plan, i)
            todo = self.period_answers(criteria, current, talks=len(talks), complete=complete, weak=weak, redo=redo)
            end = nxt.at if nxt is not None else self.now
            for (criterion, status), (at, touch) in zip(todo, self.answer_times(plan, step.at, end, talks, len(todo)),
                                                        strict=True):
                family = self.family(criterion, context)
                templates = EVIDENCE[family].get(status) or EVIDENCE["other"][status]
                write(criterion, status, at, plan.sdr, self.evidence(rng.choice(templates), context, criterion, at,
                                                                     touch))
            if nxt is not None and nxt.to in (Stage.NURTURE, Stage.DISQUALIFIED) and nxt.actor == "sdr":
                criterion = self.criterion_for(nxt.reason, criteria)
                if criterion is not None and criterion.answer_type == AnswerType.STATUS:
                    last = out[-1].created_at if out else step.at
                    at = max(nxt.at - datetime.timedelta(minutes=rng.randint(2, 25)), last + (nxt.at - last) / 2)
                    write(criterion, N, at, plan.sdr, nxt.why)
        return out

    def period_answers(self, criteria: list[Criterion], current: dict[int, Answer], *, talks: int, complete: bool,
                       weak: Criterion | None, redo: Criterion | None) -> list[tuple[Criterion, str]]:
        """What the SDR answers in one stretch of Working, in order: (criterion, status).

        `complete`: every required criterion ends satisfied (confirmed, or partial with evidence),
        some after an earlier unknown or partial answer. Otherwise one required criterion stays
        open, so the lead is not ready to hand off yet.
        """
        rng = self.qual_rng
        required = [c for c in criteria if c.required_for_handoff]
        held = None
        early: list[tuple[Criterion, str]] = []
        final: list[tuple[Criterion, str]] = []
        if not complete and required:
            still_open = [c for c in required if c != redo and not self.satisfied(current.get(c.pk))]
            held = rng.choice(still_open or required)
            if not still_open and held.answer_type == AnswerType.STATUS:
                final.append((held, U))  # reopened: what was confirmed before needs asking again
        for c in criteria:
            done = self.satisfied(current.get(c.pk))
            roll, pick = rng.random(), rng.random()
            if c == redo:
                final.append((c, C))
            elif c == weak:
                final.append((c, P))
            elif done:
                continue
            elif complete and c.required_for_handoff:
                if c.pk not in current and roll < 0.3 and c.answer_type == AnswerType.STATUS:
                    early.append((c, U if pick < 0.5 else P))
                final.append((c, C if pick < 0.8 else P))
            elif roll < min(0.85, (0.3 if c.required_for_handoff else 0.1) + 0.2 * talks):
                status = U if c == held else C if pick < 0.55 else P if pick < 0.8 else U
                if status == U and c.answer_type != AnswerType.STATUS:
                    continue  # a value-type criterion has no "unknown": it is simply not answered
                final.append((c, status))
        return early + final

    def answer_times(self, plan: _Plan, start: datetime.datetime, end: datetime.datetime, talks: list[Touch],
                     n: int) -> list[tuple[datetime.datetime, Touch | None]]:
        """`n` increasing moments in (start, end), each just after a conversation when there was one."""
        rng = self.qual_rng
        tz = TEAM_TZ.get(plan.lead.team.name, datetime.UTC)
        limit = min(end, self.now) - datetime.timedelta(seconds=1)
        moments = []
        for _ in range(n):
            if talks:
                touch = talks[rng.randrange(len(talks))]
                at = touch.occurred_at + datetime.timedelta(minutes=rng.uniform(2, 45))
                if at >= limit:
                    at = touch.occurred_at + (limit - touch.occurred_at) / 2
                moments.append((at, touch))
            else:
                moments.append((self.work_moment(start, limit, tz), None))
        return sorted(moments, key=lambda m: m[0])

    def evidence_context(self, plan: _Plan) -> dict[str, Any]:
        """The facts a lead's answers keep repeating (one budget figure, one buyer), drawn once."""
        rng, lead = self.qual_rng, plan.lead
        segment = lead.account.segment
        low, high, step = {Segment.SMB: (10, 30, 5), Segment.MID_MARKET: (30, 90, 5)}.get(segment, (80, 300, 10))
        buyer = rng.choice({Segment.SMB: ("CEO", "COO"), Segment.MID_MARKET: ("CFO", "VP of Sales", "CRO")}.get(
            segment, ("CFO", "CRO", "SVP of Sales")))
        fake = self.fakers[COUNTRIES[lead.account.country][3]]
        buyer_name = f"{fake.first_name()} {fake.last_name()}"
        is_buyer = lead.persona == Persona.ECONOMIC_BUYER and lead.seniority in (Seniority.C_LEVEL, Seniority.VP)
        if is_buyer:
            buyer, buyer_name = lead.title, lead.full_name
        return {
            "first": lead.first_name, "title": lead.title or "our contact", "pain": rng.choice(PAINS),
            "amount": rng.randrange(low, high + 1, step), "buyer": buyer, "buyer_name": buyer_name,
            "crm": rng.choice(("Salesforce", "HubSpot")), "hours": rng.randint(6, 40), "n": rng.randint(40, 400),
            "event": rng.choice(COMPELLING_EVENTS), "weeks": rng.randint(4, 16), "is_buyer": is_buyer,
            "tz": TEAM_TZ.get(lead.team.name, datetime.UTC),
        }

    def evidence(self, template: str, context: dict[str, Any], criterion: Criterion, at: datetime.datetime,
                 touch: Touch | None) -> str:
        day = at.astimezone(context["tz"]).date()
        src = f"{HEARD_ON[touch.kind]}, {_day(day)}" if touch is not None else f"notes, {_day(day)}"
        when = _day(_business_days_after(day, 5 * context["weeks"]))
        return template.format(**context, src=src, when=when, dimension=criterion.dimension.lower())

    def family(self, criterion: Criterion, context: dict[str, Any]) -> str:
        family = FAMILY_OF_KEY.get(criterion.key, "other")
        return "authority-self" if family == "authority" and context["is_buyer"] else family

    def criterion_for(self, reason: DisqualifyReason | None, criteria: list[Criterion]) -> Criterion | None:
        """The criterion a reason contradicts: same dimension name, else the same kind of question."""
        dimension = (reason.dimension if reason is not None else "").strip().lower()
        if not dimension:
            return None
        same = [c for c in criteria if c.dimension.lower() == dimension]
        kind = REASON_FAMILY.get(dimension)
        return (same or [c for c in criteria if kind and FAMILY_OF_KEY.get(c.key) == kind] or [None])[0]

    def value_for(self, criterion: Criterion) -> str:
        """An answer to a criterion that takes a value (admins' own criteria; the shipped ones take a status)."""
        rng = self.qual_rng
        if criterion.answer_type == AnswerType.CHOICE:
            return rng.choice(criterion.choices)
        if criterion.answer_type == AnswerType.NUMBER:
            return str(rng.randint(1, 100))
        return f"Discussed {criterion.dimension.lower()} in detail; see the call notes."

    @staticmethod
    def satisfied(answer: Answer | None) -> bool:
        if answer is None:
            return False
        if answer.criterion.answer_type == AnswerType.STATUS:
            return answer.status in CLAIM_STATUSES
        return bool(answer.value)

    # --- handoffs ----------------------------------------------------------------------------

    def write_answers_and_handoffs(self, plans: list[_Plan], answers: list[list[Answer]]) -> tuple[int, int]:
        """Insert the answers and one Handoff per hand-off in each lead's history.

        Each packet is built with build_packet from completeness() as of its handoff, so answers go
        in in phases: those before every lead's first handoff, then the first handoffs' packets,
        then the answers up to the second handoff, and so on (a lead sent back and handed off again
        has two). Costs 4 queries per handoff (criteria, answers, events, touches) and a few
        bulk inserts.
        """
        phases: dict[int, list[Answer]] = {}
        due: dict[int, list[tuple[_Plan, int]]] = {}
        for plan, mine in zip(plans, answers, strict=True):
            handed = [i for i, s in enumerate(plan.steps) if s.to == Stage.HANDED_OFF]
            for rank, i in enumerate(handed):
                due.setdefault(rank, []).append((plan, i))
            for answer in mine:
                phase = sum(plan.steps[i].at <= answer.created_at for i in handed)
                phases.setdefault(phase, []).append(answer)
        handoffs: list[Handoff] = []
        for phase in range(max([*phases, *due], default=-1) + 1):
            Answer.objects.bulk_create(phases.get(phase, []), batch_size=BATCH)
            handoffs += [self.handoff(plan, i) for plan, i in due.get(phase, [])]
        Handoff.objects.bulk_create(handoffs, batch_size=BATCH)
        n_answers = sum(len(a) for a in answers)
        pending = sum(h.status == HandoffStatus.PENDING for h in handoffs)
        self.say(f"  {n_answers} qualification answers")
        self.say(f"  {len(handoffs)} handoffs ({pending} waiting for an AE)")
        return n_answers, len(handoffs)

    def handoff(self, plan: _Plan, i: int) -> Handoff:
        """The Handoff that hand_off wrote at step `i`, decided as the next step says."""
        lead, step = plan.lead, plan.steps[i]
        nxt = plan.steps[i + 1] if i + 1 < len(plan.steps) else None
        framework = self.framework(lead)
        progress = completeness(lead, framework=framework) if framework else completeness(lead)
        handoff = Handoff(
            lead=lead, team_id=lead.team_id, from_user=plan.sdr, to_user=plan.ae, created_at=step.at,
            next_step=step.why, note=step.note, packet=build_packet(_AsOf(lead, step.at), progress),
            source=lead.source,
        )
        if nxt is not None:
            handoff.decided_at, handoff.decided_by, handoff.decision_note = nxt.at, plan.ae, nxt.why
            if nxt.to == Stage.ACCEPTED:
                handoff.status = HandoffStatus.ACCEPTED
            else:  # back to the SDR, to nurture or out: the reason the stage change carries
                handoff.status, handoff.reason = HandoffStatus.REJECTED, nxt.reason
        return handoff

    # --- score -------------------------------------------------------------------------------

    EVENT_POINTS = {
        EventType.PAGE_VIEW: 1, EventType.EMAIL_OPEN: 0.5, EventType.EMAIL_CLICK: 2, EventType.EMAIL_REPLY: 5,
        EventType.FORM_FILL: 8, EventType.WEBINAR_REGISTERED: 3, EventType.WEBINAR_ATTENDED: 6,
        EventType.DEMO_REQUEST: 20, EventType.PRODUCT_USAGE: 1.5, EventType.INTENT_SURGE: 5,
    }
    PAGE_POINTS = {"pricing": 5, "competitor_comparison": 3, "product": 2, "blog": 0.5, "careers": -3}

    def score(self, plan: _Plan) -> int:
        """A plausible fit + decayed-engagement score; the scoring engine recomputes it later."""
        lead = plan.lead
        fit = {Seniority.C_LEVEL: 18, Seniority.VP: 20, Seniority.DIRECTOR: 17, Seniority.MANAGER: 12,
               Seniority.INDIVIDUAL: 6, Seniority.STUDENT: -40, Seniority.UNKNOWN: 0}[lead.seniority]
        fit += {Segment.ENTERPRISE: 12, Segment.MID_MARKET: 14, Segment.SMB: 6}.get(lead.account.segment, 0)
        fit += 6 if lead.account.industry in ICP_INDUSTRIES else 0
        engagement = 0.0
        for event in plan.events:
            points = self.EVENT_POINTS[event.type]
            if event.type == EventType.PAGE_VIEW:
                points = self.PAGE_POINTS[event.properties["page_category"]]
            age = (self.now - event.occurred_at).total_seconds() / 86400
            engagement += points * 0.5 ** (age / 21)  # three-week half-life
        engagement = 58 * (1 - math.exp(-max(engagement, 0) / 45))  # saturates: no lead is all engagement
        return max(0, min(100, round(fit + engagement)))


def days_ago(rng: random.Random, window: int) -> float:
    """Accounts predate their leads: created a little before the window up to two years before."""
    return window + _log_uniform(rng, 1, 730)
