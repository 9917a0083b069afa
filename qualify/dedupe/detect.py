"""Detection on arrival: new leads (accounts) compared with their team's existing ones, a batch per
statement, the matches stored as open candidates (never dropped, never merged automatically).

Costs: one SELECT for the whole batch (each rule probes an index of migration 0002 per new lead:
the e-mail domain, the phone, the external id) and one INSERT ... ON CONFLICT for its pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from . import rules as r
from .models import Kind
from .store import save_pairs

Pair = tuple[int, int]


# Each rule probes its index once per new lead (a LATERAL subquery that OFFSET 0 keeps from being
# flattened): joined plainly, a batch of 1,000 made the planner hash-join whole lead table scans
# (8.5 s at 1M leads, bench/dedupe.py), where the probes cost about a millisecond per lead.
def _lead_sql(trigram: bool) -> str:
    n, o = "n", "o"
    similar = (f"OR similarity({r.sql(r.LEAD_NAME, n)}, {r.sql(r.LEAD_NAME, o)}) >= {r.LEAD_SIMILARITY}"
               if trigram else "")
    same_team_domain = f"o.team_id = n.team_id AND {r.sql(r.LEAD_DOMAIN, o)} = {r.sql(r.LEAD_DOMAIN, n)} AND o.id <> n.id AND o.email <> ''"
    return f"""
    WITH n AS MATERIALIZED (SELECT * FROM leads_lead WHERE id = ANY(%(ids)s))
    SELECT n.team_id, n.id, o.id, 'email', lower(n.email)
      FROM n CROSS JOIN LATERAL (SELECT * FROM leads_lead o WHERE {same_team_domain} AND {r.sql(r.LEAD_EMAIL, o)} = {r.sql(r.LEAD_EMAIL, n)} OFFSET 0) o
     WHERE n.email <> ''
    UNION ALL
    SELECT n.team_id, n.id, o.id,
           CASE WHEN {r.sql(r.LEAD_NAME, o)} = {r.sql(r.LEAD_NAME, n)} THEN 'name_domain' ELSE 'similar_name_domain' END,
           {r.sql(r.LEAD_DOMAIN, n)}
      FROM n CROSS JOIN LATERAL (SELECT * FROM leads_lead o WHERE {same_team_domain}
       AND {r.sql(r.LEAD_EMAIL, o)} <> {r.sql(r.LEAD_EMAIL, n)}
       AND ({r.sql(r.LEAD_NAME, o)} = {r.sql(r.LEAD_NAME, n)}
            OR ({r.sql(r.LEAD_LAST, o)} = {r.sql(r.LEAD_LAST, n)} AND {r.sql(r.LEAD_LAST, n)} <> ''
                AND {r.sql(r.LEAD_INITIAL, o)} = {r.sql(r.LEAD_INITIAL, n)})
            {similar}) OFFSET 0) o
     WHERE n.email LIKE '%%@%%' AND {r.sql(r.LEAD_DOMAIN, n)} <> ALL(%(free)s)
    UNION ALL
    SELECT n.team_id, n.id, o.id, 'phone', n.phone
      FROM n CROSS JOIN LATERAL (SELECT * FROM leads_lead o WHERE o.team_id = n.team_id AND o.phone <> '' AND o.id <> n.id
       AND {r.sql(r.LEAD_PHONE, o)} = {r.sql(r.LEAD_PHONE, n)} OFFSET 0) o
     WHERE n.phone <> '' AND {r.sql(r.LEAD_PHONE_OK, n)}
    UNION ALL
    SELECT n.team_id, n.id, o.id, 'external_id', n.external_id
      FROM n CROSS JOIN LATERAL (SELECT * FROM leads_lead o WHERE o.team_id = n.team_id AND o.external_id <> '' AND o.id <> n.id
       AND {r.sql(r.LEAD_EXTERNAL, o)} = {r.sql(r.LEAD_EXTERNAL, n)} OFFSET 0) o
     WHERE n.external_id <> ''
    """


def _account_sql(trigram: bool) -> str:
    n, o = "n", "o"
    # Similar names: the trigram operator on UPPER(name) finds the candidates through the GIN index
    # account_name_trgm (leads 0017; similarity >= pg_trgm's 0.3 threshold), one probe per new
    # account; the team is checked on what the probe finds (through the team index the planner
    # would read every account of the team). Only those candidates are compared on the normalised
    # names. Comparing every pair took 98.8 s for a batch of 2,000 new accounts (an import; 2.8 s
    # now, with leads 0023) and 65 ms for one new account among 2,300 (12 ms now).
    similar = f"""
    UNION ALL
    SELECT n.team_id, n.id, o.id, 'similar_name', n.name
      FROM n CROSS JOIN LATERAL (SELECT * FROM leads_account o WHERE UPPER(o.name::text) %% UPPER(n.name::text)
       AND o.team_id + 0 = n.team_id AND o.id <> n.id  -- "+ 0": the trigram index, not the team's
       AND {r.sql(r.ACCOUNT_NAME, o)} <> {r.sql(r.ACCOUNT_NAME, n)}
       AND similarity({r.sql(r.ACCOUNT_NAME, o)}, {r.sql(r.ACCOUNT_NAME, n)}) >= {r.ACCOUNT_SIMILARITY} OFFSET 0) o
     WHERE n.name <> ''
    """ if trigram else ""
    return f"""
    WITH n AS MATERIALIZED (SELECT * FROM leads_account WHERE id = ANY(%(ids)s))
    SELECT n.team_id, n.id, o.id, 'domain', n.domain
      FROM n JOIN leads_account o ON o.team_id = n.team_id AND o.id <> n.id AND o.domain <> ''
       AND {r.sql(r.ACCOUNT_DOMAIN, o)} = {r.sql(r.ACCOUNT_DOMAIN, n)}
     WHERE {r.sql(r.ACCOUNT_DOMAIN, n)} <> ''
    UNION ALL
    SELECT n.team_id, n.id, o.id, 'name', n.name
      FROM n JOIN leads_account o ON o.team_id = n.team_id AND o.id <> n.id
       AND {r.sql(r.ACCOUNT_NAME, o)} = {r.sql(r.ACCOUNT_NAME, n)}
     WHERE {r.sql(r.ACCOUNT_NAME, n)} <> ''
    {similar}
    """


DETAIL = {
    "email": "same e-mail {}",
    "external_id": "same external id {}",
    "phone": "same phone {}",
    "name_domain": "same name at {}",
    "similar_name_domain": "similar name at {}",
    "domain": "same domain {}",
    "name": "same company name ({})",
    "similar_name": "similar company name ({})",
}


def _gather(rows) -> dict[Pair, dict]:
    """Rows (team, new id, other id, rule, value) → one entry per unordered pair with its reasons."""
    pairs: dict[Pair, dict] = {}
    for team_id, new_id, other_id, rule, value in rows:
        key = (min(new_id, other_id), max(new_id, other_id))
        entry = pairs.setdefault(key, {"team_id": team_id, "new_id": new_id, "reasons": {}})
        entry["reasons"].setdefault(rule, {"rule": rule, "detail": DETAIL[rule].format(value), "confidence": r.CONFIDENCE[rule]})
    for entry in pairs.values():
        entry["reasons"] = list(entry["reasons"].values())
        entry["confidence"] = r.combine(x["confidence"] for x in entry["reasons"])
    return pairs


def detect(kind: str, ids: Sequence[int]) -> int:
    """Compare the records `ids` (just created) with their teams' others and store what matches.
    Returns the number of pairs flagged or strengthened."""
    ids = sorted({int(i) for i in ids})
    if not ids:
        return 0
    trigram = r.has_trigram()
    statement = _lead_sql(trigram) if kind == Kind.LEAD else _account_sql(trigram)
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(statement, {"ids": ids, "free": list(r.FREE_MAIL)})
        pairs = _gather(cur.fetchall())
        return save_pairs(kind, pairs, now=timezone.now())


def candidates_by_record(kind: str, ids: Sequence[int]) -> dict[int, list]:
    """Open candidates of each record, for pages that show a "possible duplicate" badge."""
    from django.db.models import Q

    from .models import DuplicateCandidate, Status

    found: dict[int, list] = defaultdict(list)
    for c in DuplicateCandidate.objects.filter(Q(low_id__in=ids) | Q(high_id__in=ids), kind=kind, status=Status.OPEN):
        for pk in (c.low_id, c.high_id):
            if pk in ids:
                found[pk].append(c)
    return found
