"""What makes two leads (accounts) look like one: the normalised keys, in SQL and in Python, and
how sure each rule is. One home for both forms: detection (detect.py), the bulk finder
(finder.py) and the indexes (migration 0002) use the SQL below; the pages and tests use the Python,
and tests/dedupe/test_rules.py holds the two equal.

| rule | keys compared (same team only) | confidence |
| --- | --- | --- |
| email | the e-mail, lower-cased | 0.95 |
| external_id | the external id, lower-cased | 0.90 |
| phone | the last 9 digits of the phone (7 digits at least) | 0.60 |
| name_domain | same company e-mail domain (not a free-mail one) and the same name | 0.75 |
| similar_name_domain | same domain and a similar name: same last name and first initial, or pg_trgm similarity ≥ 0.6 where the server has pg_trgm | 0.55 |
| account domain | the domain without scheme, `www.` and path | 0.90 |
| account name | the name lower-cased, without punctuation and a legal suffix (Inc, GmbH...) | 0.70 |
| account similar_name | pg_trgm similarity of those names ≥ 0.7 (only where pg_trgm is installed) | 0.50 |

Several rules on one pair combine as independent evidence: 1 − Π(1 − cᵢ), at most 0.99.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from django.db import connection

from qualify.leads.records import domain_key

CONFIDENCE = {
    "email": 0.95,
    "external_id": 0.90,
    "phone": 0.60,
    "name_domain": 0.75,
    "similar_name_domain": 0.55,
    "domain": 0.90,
    "name": 0.70,
    "similar_name": 0.50,
}
LEAD_SIMILARITY = 0.6
ACCOUNT_SIMILARITY = 0.7
MAX_CONFIDENCE = 0.99

# Providers whose domain says nothing about the company: the name+domain rules skip them.
FREE_MAIL = (
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "msn.com", "icloud.com",
    "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "yandex.ru", "mail.ru",
    "qq.com", "163.com",
)

# --- SQL (over a leads_lead / leads_account row aliased by {t}) ---------------------------------

LEAD_EMAIL = "lower({t}.email)"
LEAD_DOMAIN = "split_part(lower({t}.email), '@', 2)"
LEAD_PHONE = "right(regexp_replace({t}.phone, '[^0-9]', '', 'g'), 9)"
LEAD_PHONE_OK = "length(regexp_replace({t}.phone, '[^0-9]', '', 'g')) >= 7"
LEAD_EXTERNAL = "lower({t}.external_id)"
LEAD_NAME = "lower(btrim({t}.first_name || ' ' || {t}.last_name))"
LEAD_LAST = "lower(btrim({t}.last_name))"
LEAD_INITIAL = "left(lower(btrim({t}.first_name)), 1)"
ACCOUNT_DOMAIN = r"regexp_replace(lower(btrim({t}.domain)), '^([a-z]+://)?(www\.)?|[/:?#].*$', '', 'g')"
_SUFFIXES = "inc|incorporated|llc|ltd|limited|gmbh|corp|corporation|co|company|sa|ag|plc|bv|srl|sas|oy|ab"
ACCOUNT_NAME = (
    "btrim(regexp_replace(regexp_replace(lower({t}.name), '[^a-z0-9 ]', '', 'g'), "
    rf"'(\s+({_SUFFIXES}))+\s*$', ''))"
)


def sql(expr: str, t: str) -> str:
    return expr.format(t=t)


# --- Python (the same keys) ------------------------------------------------------------------


def email_key(email: str) -> str:
    return email.lower()


def email_domain(email: str) -> str:
    return email.lower().split("@")[1] if "@" in email else ""


def phone_key(phone: str) -> str:
    digits = re.sub(r"[^0-9]", "", phone)
    return digits[-9:] if len(digits) >= 7 else ""


def name_key(first: str, last: str) -> str:
    return f"{first} {last}".strip().lower()


def account_domain(domain: str) -> str:
    """The core's domain key: accounts created or edited since store exactly this (records.clean_domain)."""
    return domain_key(domain)


def account_name(name: str) -> str:
    return re.sub(rf"(\s+({_SUFFIXES}))+\s*$", "", re.sub(r"[^a-z0-9 ]", "", name.lower())).strip()


def combine(confidences: Iterable[float]) -> float:
    """Independent evidence: 1 − Π(1 − c), capped below certainty (a person decides)."""
    rest = 1.0
    for c in confidences:
        rest *= 1.0 - c
    return round(min(MAX_CONFIDENCE, 1.0 - rest), 4)


COMBINE_SQL = "LEAST(%s, 1 - (1 - {a}) * (1 - {b}))" % MAX_CONFIDENCE


@cache
def has_trigram() -> bool:
    """Whether this database has pg_trgm installed (migration 0002 installs it where the server
    ships it; the embedded development server may not). Asked once per process."""
    with connection.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm')")
        return bool(cur.fetchone()[0])
