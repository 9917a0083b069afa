"""Reading the uploaded bytes as CSV rows, and turning cell text into typed values (or Bad).

Nothing an upload contains costs data silently: a file that is not a CSV is refused with a
sentence and no job; a row that cannot be read is a bad row with its line and why. Cell text is
kept as typed (a leading "=" or "+" included); exports neutralise formulas (qualify/exports.py).
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from qualify.errors import DomainError
from qualify.leads.models import Persona, RevenueBand, Seniority
from qualify.leads.records import EMPLOYEES_MAX, clean_domain, clean_email
from qualify.leads.properties import coerce

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
from .mapping import PREFIX as PROPERTY_PREFIX
from .mapping import mapped


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
    except OverflowError:  # "1e400" is an infinite float
        n = EMPLOYEES_MAX + 1
    if n < 0:
        raise Bad(f"'{value}' is negative")
    if n > EMPLOYEES_MAX:  # the column's limit: past it the job's one write failed every row
        raise Bad(f"'{value}' is too large (at most {EMPLOYEES_MAX:,})")
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
    """The bare host, as every account stores it (records.clean_domain, which the import's
    create_account and edit_account call again)."""
    try:
        host = clean_domain(value)
    except DomainError:
        host = ""
    if not host:
        raise Bad(f"'{value}' is not a website or domain")
    return host


def parse_email(value: str) -> str:
    """records.clean_email, the one email rule (the Segment door's too)."""
    try:
        email = clean_email(value)
    except DomainError:
        email = ""
    if not email:
        raise Bad(f"'{value}' is not an email address")
    return email


PARSERS: dict[str, Callable[[str], Any]] = {
    "email": parse_email, "seniority": parse_seniority, "persona": parse_persona, "domain": parse_domain,
    "employees": parse_int, "revenue": parse_revenue, "country": parse_country, "segment": parse_segment,
    "source": parse_source, "stage": parse_stage, "created": parse_datetime, "mql_date": parse_datetime,
    "close_date": parse_datetime, "recycle_on": lambda v: parse_datetime(v).date(),
}
MAX_LENGTH = {"external_id": 100, "first_name": 100, "last_name": 100, "phone": 40, "title": 200, "department": 64,
              "company": 200, "industry": 100, "region": 32, "campaign": 200}


# --- reading the file ----------------------------------------------------------------------------

# Files people upload by mistake, by their first bytes: refused with a sentence naming them.
MAGIC = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) workbook"),
    (b"\x1f\x8b", "a gzip-compressed file"),
]
BOMS = [(b"\xef\xbb\xbf", "utf-8-sig", "UTF-8"), (b"\xff\xfe", "utf-16", "UTF-16"), (b"\xfe\xff", "utf-16", "UTF-16")]
SAVE_AS = "Save it from your spreadsheet as “CSV UTF-8” and upload that."
DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
# Within the 50 MB limit a file can still be too much: 50,000 columns made a job page of 166 MB
# (a mapping row each) that took 100 s to render, and 5,000,000 one-letter rows took 1.8 GB to
# read, in the request. Real exports stay far below (Olist 8,000 rows, UCI 41,188 rows of 21
# columns: 41 s and 429 MB to import). Lines are counted before the text is split: each one is a
# string in memory, blank or not; a quoted value over several lines is one row of several lines.
MAX_COLUMNS = 1_000
MAX_ROWS = 100_000
MAX_LINES = 500_000


class NotACsv(DomainError):
    """The upload is not a CSV file we can read; the message says what it looks like instead."""

    def __init__(self, message: str):
        super().__init__(message, field="file")


def decode(content: bytes) -> tuple[str, str]:
    """The file's text and the name of its encoding, or NotACsv.

    Rules, in order: known binary signatures (PNG, PDF, ZIP/xlsx...) are refused by name; a
    byte-order mark decides UTF-8 or UTF-16 (LE or BE: the BOM says which); NUL bytes without a
    BOM mean a binary file or BOM-less UTF-16, both refused; then strict UTF-8; then
    Windows-1252 (what Excel's plain "CSV" writes on Windows), strictly, so the five bytes it
    does not define are refused rather than turned into something else.

    Why not charset-normalizer: it guesses from letter statistics, so a short file of names can
    come back as cp1250 or mac_roman depending on its content and the library's version, and a
    wrong guess silently changes letters. The files people upload come from a handful of
    exporters whose encodings are exactly the ones above, and a UTF-8 attempt never
    "succeeds" by accident on Windows-1252 text with accents. Known limit: a Mac Roman file
    (very old Excel for Mac) is read as Windows-1252, so its accented letters come out wrong.
    """
    if not content.strip():
        raise NotACsv("The file is empty or has no header row.")
    for magic, what in MAGIC:
        if content.startswith(magic):
            raise NotACsv(f"This file is {what}, not a CSV file. {SAVE_AS}")
    for bom, codec, name in BOMS:
        if content.startswith(bom):
            try:
                text = content.decode(codec)
            except UnicodeDecodeError as e:
                raise NotACsv(f"The file starts like {name} text but byte {e.start} is not {name}. {SAVE_AS}")
            break
    else:
        if b"\x00" in content:
            raise NotACsv("The file contains NUL bytes, so it is not a CSV file: a binary file, or UTF-16 text "
                          f"without a byte-order mark. {SAVE_AS}")
        try:
            text, name = content.decode("utf-8"), "UTF-8"
        except UnicodeDecodeError:
            try:
                text, name = content.decode("cp1252"), "Windows-1252"
            except UnicodeDecodeError as e:
                raise NotACsv(f"The file is neither UTF-8 nor Windows-1252 text (byte {e.start} is 0x{content[e.start]:02x}). "
                              f"{SAVE_AS}")
    if "\x00" in text:
        raise NotACsv(f"The file contains NUL characters, so it is not a CSV file. {SAVE_AS}")
    sample = text[:65536]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\f")
    # Text exporters write none; a binary file decoded as Windows-1252 is full of them.
    if controls > max(3, len(sample) // 100):
        raise NotACsv(f"The file contains control characters, so it is not a CSV file. {SAVE_AS}")
    return text, name


def _unquoted_count(line: str, ch: str) -> int:
    count, quoted = 0, False
    for c in line:
        if c == '"':
            quoted = not quoted
        elif c == ch and not quoted:
            count += 1
    return count


def detect_delimiter(first_line: str) -> str:
    """Comma, semicolon or tab: whichever the header line has most of outside quotes (a comma
    when none: a one-column file). Read from the header only, which is predictable where
    csv.Sniffer guesses from the whole sample and sometimes picks a quote or a space."""
    counts = {d: _unquoted_count(first_line, d) for d in DELIMITERS}
    best = max(counts.values())
    return next(d for d in DELIMITERS if counts[d] == best) if best else ","


@dataclass
class Record:
    line: int  # the physical line it starts on, 1-based (the header is line 1)
    cells: list[str]
    problem: str = ""  # why it cannot be read as a row; it is then a bad row with this message


@dataclass
class CsvFile:
    header: list[str]
    rows: list[Record]
    encoding: str
    delimiter: str

    @property
    def description(self) -> str:
        return f"{self.encoding}, {DELIMITERS[self.delimiter]}-separated"


def _records(lines: list[str], delimiter: str) -> list[Record]:
    """Every record with the line it starts on. A record that spans several lines is a quoted
    value with line breaks, unless its quotes do not balance (a quote never closed swallows the
    rest of the file) or it has a different number of cells than the header (a stray quote that
    merged the lines up to the next quote). Such a record becomes a bad row for its first line
    and reading starts again on the next line, so the rows it swallowed are not lost."""
    out: list[Record] = []
    pos = 0
    while pos < len(lines):
        reader = csv.reader(lines[pos:], delimiter=delimiter)
        consumed, restart = 0, None
        while True:
            first = pos + consumed + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as e:  # e.g. a swallowed tail longer than the field size limit
                out.append(Record(first, [], f"cannot be read as CSV ({e}); a quote that is never closed?"))
                restart = first
                break
            consumed = reader.line_num
            if not out and len(cells) > MAX_COLUMNS:
                raise NotACsv(f"The file has {len(cells):,} columns; at most {MAX_COLUMNS:,} are read. "
                              "Remove the columns you do not import.")
            last = pos + consumed
            if last > first:
                problem = ""
                if "".join(lines[first - 1:last]).count('"') % 2:
                    problem = (f"a quote opened on line {first} is never closed, so lines {first}–{last} read as one value; "
                               "close the quote or double it (\"\")")
                elif out and len(cells) != len(out[0].cells):
                    problem = (f"a quote on line {first} runs to line {last}, which gives {len(cells)} cells where the "
                               f"header has {len(out[0].cells)}; close the quote or double it (\"\")")
                if problem:
                    out.append(Record(first, [], problem))
                    restart = first
                    break
            out.append(Record(first, cells))
        if restart is None:
            break
        pos = restart
    return out


def read_csv(content: bytes) -> CsvFile:
    """The header and the non-blank rows of an upload, or NotACsv. Encoding: see decode();
    line endings \\r\\n, \\n and \\r (Excel for Mac) alike; delimiter: see detect_delimiter().
    A row with more non-empty cells than the header has a problem, not silently dropped cells."""
    text, encoding = decode(content)
    if text.count("\n") + text.count("\r") - text.count("\r\n") > MAX_LINES:
        raise NotACsv(f"The file has more than {MAX_LINES:,} lines; split it.")
    lines = io.StringIO(text, newline="").readlines()  # splits on \r\n, \n and \r, keeps them
    delimiter = detect_delimiter(lines[0] if lines else "")
    records = _records(lines, delimiter)
    if not records or not any(cell.strip() for cell in records[0].cells):
        raise NotACsv("The file is empty or has no header row.")
    header = [h.strip() for h in records[0].cells]
    rows = []
    for r in records[1:]:
        if r.problem:
            rows.append(r)
        elif any(cell.strip() for cell in r.cells):
            extra = [c for c in r.cells[len(header):] if c.strip()]
            if extra:
                r.problem = (f"{len(r.cells)} cells where the header has {len(header)}: a value containing a "
                             f"{DELIMITERS[delimiter]} without quotes around it?")
            rows.append(r)
    if len(rows) > MAX_ROWS:
        raise NotACsv(f"The file has more than {MAX_ROWS:,} rows; split it into files of at most that many.")
    return CsvFile(header, rows, encoding, delimiter)


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


class RowReader:
    """parse_row with a job's custom properties (`prop:<key>` → values["properties"][key],
    coerced by leads/properties.py), its value maps (a stage or source cell looked up in the
    job's table before the built-in one) and, for leads, unknown sources kept: a source no table
    knows takes the job's default source (else Inbound) and is kept as the campaign/channel when
    the row has none, so it never makes a row bad."""

    def __init__(self, props: dict[str, Any], value_maps: dict[str, dict[str, str]], *, keep_unknown_source: bool,
                 default_source: str = ""):
        self.props, self.value_maps, self.keep_unknown_source = props, value_maps, keep_unknown_source
        self.default_source = default_source

    def __call__(self, raw: dict[str, str], columns: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        plain = {k: v for k, v in raw.items() if not k.startswith(PROPERTY_PREFIX)}
        for name, table in self.value_maps.items():
            if name in plain and (hit := mapped(table, plain[name])) is not None:
                plain[name] = hit
        unknown_source = ""
        if self.keep_unknown_source and "source" in plain:
            try:
                parse_source(plain["source"])
            except Bad:
                unknown_source = plain.pop("source")
                if self.default_source:
                    plain["source"] = self.default_source
        values, problems = parse_row(plain, columns)
        if unknown_source and not values.get("campaign"):
            values["campaign"] = unknown_source[: MAX_LENGTH["campaign"]]
        found = {}
        for name, text in raw.items():
            if not name.startswith(PROPERTY_PREFIX):
                continue
            prop = self.props[name.removeprefix(PROPERTY_PREFIX)]
            try:
                value = coerce(prop, text)
            except DomainError as e:
                problems.append((columns.get(name, name), e.message))
                continue
            if value is not None:
                found[prop.key] = value
        if found:
            values["properties"] = found
        return values, problems


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
