"""Reading the uploaded bytes as CSV rows, and turning cell text into typed values (or Bad)."""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from qualify.leads.models import Persona, RevenueBand, Seniority

from .columns import (
    COUNTRY_NAMES,
    DATE_FORMATS,
    PERSONA_VALUES,
    REVENUE_BANDS,
    SEGMENT_VALUES,
    SENIORITY_VALUES,
    SOURCE_VALUES,
    STAGE_VALUES,
    norm,
)


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
