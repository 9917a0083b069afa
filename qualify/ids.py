"""Ids read from forms and query strings (a reason, a sub-stage, the AE to hand to, red flags,
the calibration page's model and team).

`str.isdigit()` is true for "²" and "١", and int("²") raises: a superscript two posted as the AE
to hand to, a verdict's red flag or the calibration page's ?days= was a 500; `filter(pk="abc")`
raises too (a reject's reason, an opportunity's sub-stage). Only ASCII digits make an id here,
and nothing beyond PostgreSQL's bigint.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1


def posted_id(raw: object) -> int | None:
    """`raw` as a whole number written in ASCII digits (surrounding blanks allowed) up to bigint's
    largest, else None: the caller treats it as an id that does not exist."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_ID else None
