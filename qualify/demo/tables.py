"""The demo's vocabulary: the cast, countries and industries, titles, sources and campaigns, stage
weights, reason notes, pains and the evidence templates answers are written from. Data only."""

from __future__ import annotations

import zoneinfo

from accounts.models import Role
from qualify.frameworks.models import AnswerStatus
from qualify.leads.models import Persona, ReasonAction, RevenueBand, Seniority, Source, Stage, TouchKind, TouchOutcome

PASSWORD = "demo"
BATCH = 2000

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
