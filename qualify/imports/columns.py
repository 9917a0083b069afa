"""Which CSV columns mean which fields, and which cell values mean which choices.

Common CRM export headers (Salesforce, HubSpot, Pipedrive: "First Name", "Email Address",
"Company", "Lead Source", "Lead Status", "Created Date", "Close Date", "Lead Owner"...) are
recognised by `propose_mapping`; the user can change the mapping before running. Values are
mapped too: "Closed Won" → won, "Web" → inbound, "Mid-Market" → mid_market (the tables below;
parsing.py turns them into parsers). A value that cannot be mapped makes its row bad, with the
column and the reason; nothing is guessed silently.
"""

from __future__ import annotations

import re

from qualify.leads.models import Persona, RevenueBand, Segment, Seniority, Source, Stage

from .models import ImportKind

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
