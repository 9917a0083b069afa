"""The bulk finder: every team's existing leads and accounts grouped by each rule's key, set based
(one INSERT ... SELECT per rule, no row brought into Python), the pairs stored like detection's.

Within a group of records sharing a key, each record is paired with the group's oldest (lowest id)
rather than with every other: n − 1 pairs instead of n(n − 1)/2, and merging those pairs merges
the whole group. Where the server has pg_trgm, similar (not equal) names are also compared within
each company domain of at most SIMILAR_GROUP leads (a self-join there; bigger domains are shared
mail hosts more than companies).

`python manage.py find_duplicates [--team ID]` and the page's "Find duplicates" button (a task,
tasks.py) call it. Cost: a scan of the lead table per rule; at 1,000,000 leads about 20 s with the
equal-key rules and 55 s with pg_trgm's similar names too (bench/dedupe.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, transaction
from django.utils import timezone

from . import rules as r
from .models import Kind
from .store import INSERT, ON_CONFLICT

SIMILAR_GROUP = 200


def _reason(rule: str, detail_sql: str) -> str:
    return (f"jsonb_build_array(jsonb_build_object('rule', '{rule}', 'detail', {detail_sql}, "
            f"'confidence', {r.CONFIDENCE[rule]}))")


def _grouped(table: str, rule: str, key: str, where: str, detail: str, kind: str, differs: str = "") -> str:
    """Pairs (first of group, member) of records sharing `key` within a team; with `differs`, only
    members whose `differs` value is not the first's (pairs that another rule already names)."""
    partition = f"PARTITION BY t.team_id, {key.format(t='t')}"
    first_d = f", first_value({differs.format(t='t')}) OVER ({partition} ORDER BY t.id) AS first_d, {differs.format(t='t')} AS d" \
        if differs else ""
    return f"""
    SELECT '{kind}', team_id, first_id, id, NULL, {r.CONFIDENCE[rule]}, {_reason(rule, "v")}, 'open', %(now)s
      FROM (SELECT t.id, t.team_id, {key.format(t="t")} AS k, {detail.format(t="t")} AS v,
                   min(t.id) OVER ({partition}) AS first_id{first_d}
              FROM {table} t WHERE {where.format(t="t")} AND t.team_id = ANY(%(teams)s)) g
     WHERE id <> first_id{" AND d <> first_d" if differs else ""}
    """


def _lead_statements(trigram: bool) -> list[tuple[str, str]]:
    free = "split_part(lower({t}.email), '@', 2) <> ALL(%(free)s) AND {t}.email LIKE '%%@%%'"
    domain_name = f"{r.LEAD_DOMAIN}, {r.LEAD_NAME}"
    domain_last_initial = f"{r.LEAD_DOMAIN}, {r.LEAD_LAST}, {r.LEAD_INITIAL}"
    rules = [
        ("email", _grouped("leads_lead", "email", r.LEAD_EMAIL, "{t}.email <> ''", "'same e-mail ' || lower({t}.email)", "lead")),
        ("external_id", _grouped("leads_lead", "external_id", r.LEAD_EXTERNAL, "{t}.external_id <> ''",
                                 "'same external id ' || {t}.external_id", "lead")),
        ("phone", _grouped("leads_lead", "phone", r.LEAD_PHONE, "{t}.phone <> '' AND " + r.LEAD_PHONE_OK,
                           "'same phone ' || {t}.phone", "lead")),
        ("name_domain", _grouped("leads_lead", "name_domain", domain_name, "{t}.email <> '' AND " + free,
                                 "'same name at ' || " + r.LEAD_DOMAIN, "lead")),
        # Similar, not the same: a pair with the same name is name_domain's, as on arrival (detect.py).
        ("similar_name_domain", _grouped(
            "leads_lead", "similar_name_domain", domain_last_initial,
            "{t}.email <> '' AND {t}.last_name <> '' AND " + free, "'similar name at ' || " + r.LEAD_DOMAIN, "lead",
            differs=r.LEAD_NAME)),
    ]
    if trigram:
        a, b = "a", "b"
        rules.append(("similar_name_domain (pg_trgm)", f"""
        WITH d AS (SELECT t.id, t.team_id, {r.sql(r.LEAD_DOMAIN, 't')} AS dom, {r.sql(r.LEAD_NAME, 't')} AS name,
                          count(*) OVER (PARTITION BY t.team_id, {r.sql(r.LEAD_DOMAIN, 't')}) AS n
                     FROM leads_lead t WHERE t.email <> '' AND t.team_id = ANY(%(teams)s) AND {free.format(t='t')})
        SELECT 'lead', a.team_id, a.id, b.id, NULL, {r.CONFIDENCE['similar_name_domain']},
               {_reason('similar_name_domain', "'similar name at ' || a.dom")}, 'open', %(now)s
          FROM d a JOIN d b ON b.team_id = a.team_id AND b.dom = a.dom AND b.id > a.id AND b.name <> a.name
         WHERE a.n BETWEEN 2 AND {SIMILAR_GROUP} AND similarity(a.name, b.name) >= {r.LEAD_SIMILARITY}
        """))
    return rules


def _account_statements(trigram: bool) -> list[tuple[str, str]]:
    rules = [
        ("domain", _grouped("leads_account", "domain", r.ACCOUNT_DOMAIN, "{t}.domain <> ''",
                            "'same domain ' || " + r.ACCOUNT_DOMAIN, "account")),
        ("name", _grouped("leads_account", "name", r.ACCOUNT_NAME, "{t}.name <> ''",
                          "'same company name (' || {t}.name || ')'", "account")),
    ]
    if trigram:
        rules.append(("similar_name (pg_trgm)", f"""
        SELECT 'account', a.team_id, a.id, b.id, NULL, {r.CONFIDENCE['similar_name']},
               {_reason('similar_name', "'similar company name (' || b.name || ')'")}, 'open', %(now)s
          FROM leads_account a JOIN leads_account b ON b.team_id = a.team_id AND b.id > a.id
           AND {r.sql(r.ACCOUNT_NAME, 'a')} % {r.sql(r.ACCOUNT_NAME, 'b')}
           AND {r.sql(r.ACCOUNT_NAME, 'a')} <> {r.sql(r.ACCOUNT_NAME, 'b')}
           AND similarity({r.sql(r.ACCOUNT_NAME, 'a')}, {r.sql(r.ACCOUNT_NAME, 'b')}) >= {r.ACCOUNT_SIMILARITY}
         WHERE a.team_id = ANY(%(teams)s)
        """.replace(" % ", " %% ")))
    return rules


def find_duplicates(team_ids: Sequence[int], *, kinds: Sequence[str] = (Kind.LEAD, Kind.ACCOUNT)) -> dict[str, int]:
    """Flag every pair the rules find among the teams' records. Returns pairs written per rule
    (new or strengthened; pairs already decided are left alone). Idempotent."""
    trigram = r.has_trigram()
    statements = []
    if Kind.LEAD in kinds:
        statements += _lead_statements(trigram)
    if Kind.ACCOUNT in kinds:
        statements += [(f"account {name}", s) for name, s in _account_statements(trigram)]
    params = {"teams": list(team_ids), "now": timezone.now(), "free": list(r.FREE_MAIL)}
    written = {}
    with connection.cursor() as cur:
        for name, select in statements:
            with transaction.atomic():
                cur.execute(INSERT + select + ON_CONFLICT, params)
                written[name] = cur.rowcount
    return written
