"""Custom properties: the one place their values are validated, coerced and compared.

Every door (pages, API, importer, admin) hands raw values to `clean_values`, which returns the new
JSON dict or raises a DomainError naming the property and the problem, so a wrong type or an
unknown choice changes nothing. Stored shapes: numbers as JSON numbers, yes/no as booleans, dates
as ISO strings, text and choices as strings. Filters (`containment`, `number_range`) build the
lookups the GIN jsonb_path_ops index on Lead.properties serves.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Q
from django.utils.text import slugify

from qualify.errors import DomainError

from .models import Property, PropertyEntity, PropertyKind

TEXT_MAX_LENGTH = 1000
CHOICE_MAX_LENGTH = 100
MAX_CHOICES = 200
# Beyond 2**53 a JSON number loses integer precision in browsers and in jsonb comparisons.
NUMBER_LIMIT = 2**53
KEY_MAX_LENGTH = 50

YES_WORDS = frozenset({"yes", "y", "true", "t", "1", "on", "oui", "si", "ja"})
NO_WORDS = frozenset({"no", "n", "false", "f", "0", "off", "non", "nein"})
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y")


def active(entity: str) -> list[Property]:
    """The properties shown, edited, filtered and imported for `entity` (one query)."""
    return list(Property.objects.filter(entity=entity, active=True))


def by_key(entity: str, *, include_inactive: bool = False) -> dict[str, Property]:
    qs = Property.objects.filter(entity=entity)
    if not include_inactive:
        qs = qs.filter(active=True)
    return {p.key: p for p in qs}


def make_key(label: str) -> str:
    """A property key from a column header: 'Time on site (s)' -> 'time_on_site_s'."""
    key = slugify(re.sub(r"[^\w]+", " ", label)).replace("-", "_")[:KEY_MAX_LENGTH].strip("_")
    if not key or key[0].isdigit():
        key = f"p_{key}"[:KEY_MAX_LENGTH]
    return key


def _number(prop: Property, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise DomainError(f"{prop.label} must be a number.", field=prop.key)
    if isinstance(raw, int | float):
        value = raw
    elif isinstance(raw, str):
        text = raw.strip().replace("\u00a0", "").replace(" ", "")
        # "1,5" (a decimal comma) when there is no dot; "1,234.5" (thousands) otherwise.
        text = text.replace(",", ".") if "." not in text and text.count(",") == 1 else text.replace(",", "")
        try:
            value = float(text) if re.search(r"[.eE]", text) else int(text)
        except ValueError:
            raise DomainError(f"{prop.label} must be a number, not “{raw[:40]}”.", field=prop.key) from None
    else:
        raise DomainError(f"{prop.label} must be a number.", field=prop.key)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DomainError(f"{prop.label} must be a finite number.", field=prop.key)
        if value.is_integer() and abs(value) < NUMBER_LIMIT:
            value = int(value)
    if abs(value) >= NUMBER_LIMIT:
        raise DomainError(f"{prop.label} is too large (at most {NUMBER_LIMIT:,}).", field=prop.key)
    return value


def _yesno(prop: Property, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
    raise DomainError(f"{prop.label} must be yes or no, not “{str(raw)[:40]}”.", field=prop.key)


def parse_date(raw: str) -> datetime.date | None:
    text = raw.strip()
    try:
        return datetime.date.fromisoformat(text[:10]) if len(text) >= 10 else None
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _date(prop: Property, raw: Any) -> str:
    if isinstance(raw, datetime.datetime):
        return raw.date().isoformat()
    if isinstance(raw, datetime.date):
        return raw.isoformat()
    day = parse_date(raw) if isinstance(raw, str) else None
    if day is None:
        raise DomainError(f"{prop.label} must be a date (YYYY-MM-DD), not “{str(raw)[:40]}”.", field=prop.key)
    return day.isoformat()


def _choice(prop: Property, raw: Any) -> str:
    if isinstance(raw, str):
        text = raw.strip()
        if text in prop.choices:
            return text
        # Exports change case ("Google" / "google"); the defined spelling is kept.
        folded = {c.casefold(): c for c in prop.choices}
        if text.casefold() in folded:
            return folded[text.casefold()]
    raise DomainError(
        f"“{str(raw)[:40]}” is not a choice of {prop.label} ({', '.join(prop.choices[:10])}"
        f"{'…' if len(prop.choices) > 10 else ''}).",
        field=prop.key,
    )


def _text(prop: Property, raw: Any) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        raise DomainError(f"{prop.label} must be text.", field=prop.key)
    text = str(raw).strip()
    if len(text) > TEXT_MAX_LENGTH:
        raise DomainError(f"{prop.label} is too long (at most {TEXT_MAX_LENGTH} characters).", field=prop.key)
    return text


_COERCE = {
    PropertyKind.TEXT: _text,
    PropertyKind.NUMBER: _number,
    PropertyKind.CHOICE: _choice,
    PropertyKind.YESNO: _yesno,
    PropertyKind.DATE: _date,
}


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def coerce(prop: Property, raw: Any) -> Any:
    """The stored JSON value of `raw` (a string from a form or a CSV, or a JSON value from the API),
    or None for empty. Raises DomainError naming the property when it does not fit its kind."""
    if is_empty(raw):
        return None
    return _COERCE[PropertyKind(prop.kind)](prop, raw)


def clean_values(
    entity: str, current: Mapping[str, Any], changes: Mapping[str, Any], *, known: Mapping[str, Property] | None = None
) -> dict[str, Any]:
    """`current` with `changes` applied: each value coerced to its property's kind, empty values
    removed. Unknown or retired keys and bad values raise DomainError and nothing is returned;
    values of retired properties already stored are kept untouched."""
    if not isinstance(changes, Mapping):
        raise DomainError("Properties must be an object of key: value.", field="properties")
    known = by_key(entity) if known is None else known
    unknown = sorted(str(k)[:KEY_MAX_LENGTH] for k in changes if k not in known)
    if unknown:
        raise DomainError(f"Unknown {entity} propert{'y' if len(unknown) == 1 else 'ies'}: {', '.join(unknown)}.", field="properties")
    result = dict(current or {})
    for key, raw in changes.items():
        value = coerce(known[key], raw)
        if value is None:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def display(prop: Property, value: Any) -> str:
    """A stored value in words for pages and CSV exports."""
    if value is None:
        return ""
    if prop.kind == PropertyKind.YESNO:
        return "Yes" if value else "No"
    return str(value)


def infer(values: Iterable[str], *, max_choices: int = 20) -> tuple[str, list[str]]:
    """A kind for a CSV column from its non-empty values (a sample is enough): yes/no when every
    value is a yes/no word, number when every value parses, date when every value is a date, choice
    when there are few distinct short values, text otherwise. Returns (kind, choices)."""
    seen = [v.strip() for v in values if v is not None and v.strip()]
    if not seen:
        return PropertyKind.TEXT, []
    distinct = list(dict.fromkeys(seen))
    lower = {v.lower() for v in distinct}
    if lower <= YES_WORDS | NO_WORDS and len(lower) <= 2 and not lower <= {"0", "1"}:
        return PropertyKind.YESNO, []
    probe = Property(key="probe", label="probe", kind=PropertyKind.NUMBER)
    try:
        for v in distinct:
            _number(probe, v)
        return PropertyKind.NUMBER, []
    except DomainError:
        pass
    if all(parse_date(v) is not None for v in distinct):
        return PropertyKind.DATE, []
    if len(distinct) <= max_choices and all(len(v) <= CHOICE_MAX_LENGTH for v in distinct):
        return PropertyKind.CHOICE, sorted(distinct, key=str.casefold)
    return PropertyKind.TEXT, []


def validate_definition(*, key: str, label: str, entity: str, kind: str, choices: Any) -> list[str]:
    """Checks a new or edited definition; returns the cleaned choices or raises DomainError."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,%d}" % (KEY_MAX_LENGTH - 1), key or ""):
        raise DomainError("A property key is lower-case letters, digits and _ and starts with a letter.", field="key")
    if not (label or "").strip() or len(label) > 100:
        raise DomainError("A property needs a label of at most 100 characters.", field="label")
    if entity not in PropertyEntity.values:
        raise DomainError(f"Unknown entity “{entity}”.", field="entity")
    if kind not in PropertyKind.values:
        raise DomainError(f"Unknown property kind “{kind}”.", field="kind")
    if kind != PropertyKind.CHOICE:
        return []
    if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c.strip() for c in choices):
        raise DomainError("A choice property needs a list of non-empty choices.", field="choices")
    cleaned = list(dict.fromkeys(c.strip() for c in choices))
    if len(cleaned) > MAX_CHOICES or any(len(c) > CHOICE_MAX_LENGTH for c in cleaned):
        raise DomainError(f"At most {MAX_CHOICES} choices of at most {CHOICE_MAX_LENGTH} characters.", field="choices")
    return cleaned


def containment(prefix: str, prop: Property, raw: Any) -> Q:
    """`<prefix>properties @> {key: value}` for one value (GIN jsonb_path_ops serves it)."""
    return Q(**{f"{prefix}properties__contains": {prop.key: coerce(prop, raw)}})


def number_range(prefix: str, prop: Property, low: Any, high: Any) -> Q:
    """A numeric range on a number property; either end may be empty."""
    q = Q(**{f"{prefix}properties__has_key": prop.key})
    if not is_empty(low):
        q &= Q(**{f"{prefix}properties__{prop.key}__gte": coerce(prop, low)})
    if not is_empty(high):
        q &= Q(**{f"{prefix}properties__{prop.key}__lte": coerce(prop, high)})
    return q
