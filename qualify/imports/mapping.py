"""The parts of a mapping beyond "column → built-in field": custom properties and value maps.

- A column mapped to `prop:<key>` fills the custom property `key` of the import's entity (leads
  for a leads or outcomes import, accounts for an accounts import). A key that does not exist yet
  is defined in the job's `new_properties` (its kind inferred from the column's values by
  leads/properties.infer and confirmed by the user); it is created only when rows are written.
- `value_maps` maps a column's cell values to stages or sources ({"stage": {"1": "won", "0":
  "lost"}}), for files whose outcome column is a flag (UCI `y`, a `Converted` column).
- A leads file with no identifying column (no name, email or id: the UCI file) gets generated
  external ids `<file name>-<row>`, so its rows import, and importing the same file twice is
  refused row by row as duplicates instead of doubling the leads.

Everything is checked when the job is created or started (DomainError, nothing stored).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from qualify.errors import DomainError
from qualify.leads import properties as custom
from qualify.leads.models import Property, PropertyEntity, Source, Stage

from .columns import norm
from .models import ImportKind

PREFIX = "prop:"
VALUE_MAP_FIELDS = {"stage": Stage, "source": Source}
MAX_NEW_PROPERTIES = 100
MAX_VALUE_MAP = 500
MAX_MAPPED_TEXT = 200
IDENTITY_FIELDS = ("external_id", "first_name", "full_name", "email")
# Distinct values the mapping page shows for a column (to map them to stages or sources).
PROFILE_VALUES = 30


def entity_of(kind: str) -> str:
    return PropertyEntity.ACCOUNT if kind == ImportKind.ACCOUNTS else PropertyEntity.LEAD


def property_key(name: str) -> str | None:
    return name.removeprefix(PREFIX) if name.startswith(PREFIX) else None


def check_new_properties(kind: str, new_properties: Any) -> dict[str, dict[str, Any]]:
    """Cleaned definitions of the properties the job will create, or DomainError."""
    if not new_properties:
        return {}
    if not isinstance(new_properties, dict) or len(new_properties) > MAX_NEW_PROPERTIES:
        raise DomainError(f"New properties are an object of at most {MAX_NEW_PROPERTIES} key: definition.", field="properties")
    entity = entity_of(kind)
    existing = set(Property.objects.filter(entity=entity, key__in=list(new_properties)).values_list("key", flat=True))
    clean = {}
    for key, spec in new_properties.items():
        if not isinstance(spec, dict):
            raise DomainError(f"The definition of {str(key)[:50]} must be an object.", field="properties")
        if key in existing:
            raise DomainError(f"The {entity} property “{key}” already exists: map the column to it.", field="properties")
        kind_ = spec.get("kind", "text")
        label = spec.get("label") or key
        choices = custom.validate_definition(key=key, label=label, entity=entity, kind=kind_, choices=spec.get("choices", []))
        clean[key] = {"label": str(label).strip(), "kind": kind_, "choices": choices,
                      "known_after_contact": bool(spec.get("known_after_contact", False))}
    return clean


def check_value_maps(value_maps: Any) -> dict[str, dict[str, str]]:
    """{field: {cell value: choice}} for stage and source, or DomainError."""
    if not value_maps:
        return {}
    if not isinstance(value_maps, dict):
        raise DomainError("Value maps are an object of field: {value: choice}.", field="value_maps")
    clean: dict[str, dict[str, str]] = {}
    for field, table in value_maps.items():
        if field not in VALUE_MAP_FIELDS:
            raise DomainError(f"Values can be mapped for {' and '.join(VALUE_MAP_FIELDS)}, not “{str(field)[:40]}”.", field="value_maps")
        if not isinstance(table, dict) or len(table) > MAX_VALUE_MAP:
            raise DomainError(f"The {field} value map is an object of at most {MAX_VALUE_MAP} entries.", field="value_maps")
        choices = VALUE_MAP_FIELDS[field]
        out = {}
        for raw, target in table.items():
            if not target:
                continue
            if len(str(raw)) > MAX_MAPPED_TEXT:
                raise DomainError(f"A mapped {field} value is longer than {MAX_MAPPED_TEXT} characters.", field="value_maps")
            if target not in choices.values:
                raise DomainError(f"“{str(target)[:40]}” is not a {field} (use one of {', '.join(choices.values)}).", field="value_maps")
            out[str(raw).strip()] = target
        if out:
            clean[field] = out
    return clean


def resolve_properties(kind: str, mapping: dict[str, str], new_properties: dict[str, dict[str, Any]]) -> dict[str, Property]:
    """The Property of every `prop:<key>` the mapping uses (unsaved for new ones), or DomainError
    for a key that is neither an active property of the entity nor defined in the job."""
    keys = [k for k in (property_key(f) for f in mapping.values() if f) if k is not None]
    if not keys:
        return {}
    entity = entity_of(kind)
    known = {p.key: p for p in Property.objects.filter(entity=entity, active=True, key__in=keys)}
    out = {}
    for key in keys:
        if key in known:
            out[key] = known[key]
        elif key in new_properties:
            out[key] = Property(key=key, entity=entity, **new_properties[key])
        else:
            raise DomainError(f"No active {entity} property “{key[:50]}”: define it as a new property.", field="mapping")
    return out


def needs_generated_ids(kind: str, mapping: dict[str, str], defaults: dict[str, str]) -> bool:
    """A leads file that maps no column a lead can be known by (name, email, external id)."""
    if kind != ImportKind.LEADS:
        return False
    mapped = set(mapping.values()) | {k for k, v in defaults.items() if v}
    return not any(f in mapped for f in IDENTITY_FIELDS)


def generated_id(filename: str, row: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", filename.rsplit(".", 1)[0]).strip("-")[:80] or "import"
    return f"{stem}-{row}"


def mapped(table: dict[str, str], text: str) -> str | None:
    """A cell's mapped choice: the exact value first, then compared like headers (case, spaces)."""
    if text in table:
        return table[text]
    folded = norm(text)
    return next((v for k, v in table.items() if norm(k) == folded), None)


def profile(header: list[str], rows: list[list[str]]) -> list[dict[str, Any]]:
    """Per column: its inferred property kind and choices, and its most frequent values (for the
    mapping page). Reads the rows given (the caller passes a bounded sample)."""
    out = []
    for i, column in enumerate(header):
        values = [r[i] for r in rows if i < len(r)]
        counts = Counter(v.strip() for v in values if v.strip())
        kind, choices = custom.infer(values)
        out.append({
            "column": column, "kind": kind, "choices": choices, "distinct": len(counts),
            "top": [v for v, _ in counts.most_common(PROFILE_VALUES)], "key": custom.make_key(column), "all": list(counts),
        })
    return out
