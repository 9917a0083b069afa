"""Ids read from forms and query strings (a reason, a sub-stage, the AE to hand to, red flags,
the calibration page's model and team, a lead's id in a URL, a query string or a request body).

`str.isdigit()` is true for "²" and "١", and int("²") raises: a superscript two posted as the AE
to hand to, a verdict's red flag or the calibration page's ?days= was a 500; `filter(pk="abc")`
raises too (a reject's reason, an opportunity's sub-stage). And int("١٢") and int("１２") are 12:
/api/leads/١٢/ answered lead 12. Only ASCII digits make an id here, and nothing beyond
PostgreSQL's bigint.
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


def given_id(raw: object) -> int | None:
    """posted_id, and a whole number already an int (a URL converter's, a JSON body's) as it is."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw if 0 <= raw <= MAX_ID else None
    return posted_id(raw)
