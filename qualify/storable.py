"""What PostgreSQL cannot store, found before a write instead of as a 500 inside one.

Every door that parses JSON itself asks these (the API's parser, the CSV import's JSON fields,
event ingestion item by item, the Segment-compatible API message by message); the input guard
middleware refuses NUL in forms and query strings. Each walk costs microseconds for an ordinary
payload and stops at the first hit.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def nested_deeper(value: Any, limit: int) -> bool:
    """Whether lists and objects in `value` nest more than `limit` levels ({} is one). A loop, not
    recursion, so any depth the JSON parser let through is measured."""
    level = [value]
    for _ in range(limit):
        level = [v for x in level for v in (x.values() if isinstance(x, dict) else x if isinstance(x, list) else ())]
        if not any(isinstance(x, dict | list) for x in level):
            return False
    return True


def has_nul(value: Any) -> bool:
    """PostgreSQL text and jsonb cannot store U+0000; one in any string is that item's error."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False


def has_surrogate(value: Any) -> bool:
    """Whether a string in `value` holds a lone surrogate (JSON's "\\ud800" without its pair; a pair
    decodes to one character): no character at all, so neither UTF-8 nor PostgreSQL can store it,
    and one anywhere (an id, a trait, a property) made the whole request a 500."""
    if isinstance(value, str):
        return not value.isascii() and _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(has_surrogate(k) or has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_surrogate(v) for v in value)
    return False
