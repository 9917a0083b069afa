"""B-tree expression indexes that serve range filters on number properties.

The GIN jsonb_path_ops index on `properties` serves containment (`@>`) only; a range such as
`prop.visits.min=60` is `properties ? 'visits' AND (properties -> 'visits') >= '60'::jsonb`
(properties.number_range), which GIN cannot answer. Each active number property gets one B-tree
index on exactly that expression, `(properties -> '<key>')`: Postgres uses an expression index only
for the very same expression, and ANALYZE keeps statistics on it, so the planner learns how rare a
range is. Not partial (`WHERE properties ? '<key>'`): the planner ignores the statistics of partial
indexes, and without them it guesses a third of the rows and walks the queue index instead (the
test's first attempt); the rows without the key cost one NULL entry each. jsonb orders numbers numerically, and
stored numbers are JSON numbers (properties.coerce), so the index order is the numeric order.

Indexes are not migrations: properties are defined at run time. `sync()` makes the database match
the definitions (creates what is missing, drops what no active number property wants, rebuilds
an index left invalid by an interrupted build) with CREATE/DROP INDEX CONCURRENTLY, so writes to
the table never wait; CONCURRENTLY cannot run in a transaction, hence a Celery task after the
definition commits (Property.save), an hourly beat entry and `manage.py sync_property_indexes`
for a database that predates them. Cost: one build per new number property (about a second per
100,000 rows carrying the key), plus ANALYZE of the table (a sample) so the new expression has
statistics; nothing when everything already matches.
"""

from __future__ import annotations

import logging
import re

from django.db import connection
from psycopg import sql

log = logging.getLogger(__name__)

TABLES = {"lead": "leads_lead", "account": "leads_account"}
# "prop_lead_" / "prop_account_" + a key of at most 50 characters stays within Postgres's 63.
PREFIXES = {"lead": "prop_lead_", "account": "prop_account_"}
KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,49}")


def index_name(entity: str, key: str) -> str:
    """The deterministic name of `key`'s index; refuses anything but a valid property key, so a
    name or expression built from it can never carry SQL (identifiers are quoted as well)."""
    if entity not in TABLES or not KEY_RE.fullmatch(key or "") or "__" in key:
        raise ValueError(f"not a property key: {key[:60]!r}" if isinstance(key, str) else "not a property key")
    return PREFIXES[entity] + key


def create_statement(entity: str, key: str) -> sql.Composed:
    """CREATE INDEX CONCURRENTLY IF NOT EXISTS for `key`: the expression and predicate are the SQL
    Django writes for `properties__<key>__gte` (tests compare them)."""
    name = index_name(entity, key)
    return sql.SQL(
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} ((properties -> {key}))"
    ).format(name=sql.Identifier(name), table=sql.Identifier(TABLES[entity]), key=sql.Literal(key))


def wanted() -> dict[str, tuple[str, str]]:
    """{index name: (entity, key)} of every active number property."""
    from .models import Property, PropertyKind

    out = {}
    for entity, key in Property.objects.filter(active=True, kind=PropertyKind.NUMBER).values_list("entity", "key"):
        try:
            out[index_name(entity, key)] = (entity, key)
        except ValueError:  # a key written around validate_definition (raw SQL, a fixture): no index
            log.warning("Property %s.%r has no valid key; no range index", entity, key)
    return out


def existing() -> dict[str, bool]:
    """{index name: valid} of the property indexes on the two tables (pg_index.indisvalid is false
    for a concurrent build that was interrupted: it is maintained but never used)."""
    with connection.cursor() as c:
        c.execute(
            """SELECT i.relname, x.indisvalid
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                WHERE t.relname = ANY(%s) AND t.relnamespace = 'public'::regnamespace
                  AND (starts_with(i.relname, %s) OR starts_with(i.relname, %s))""",
            [list(TABLES.values()), PREFIXES["lead"], PREFIXES["account"]],
        )
        return dict(c.fetchall())


def sync() -> dict[str, list[str]]:
    """Make the indexes match the active number properties. Idempotent; returns what it did."""
    if connection.in_atomic_block:
        raise RuntimeError("CREATE INDEX CONCURRENTLY cannot run inside a transaction; call sync() outside atomic().")
    want, have = wanted(), existing()
    dropped, created = [], []
    for name, valid in sorted(have.items()):
        if name not in want or not valid:
            with connection.cursor() as c:
                c.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {}").format(sql.Identifier(name)))
            dropped.append(name)
    analyze = set()
    for name, (entity, key) in sorted(want.items()):
        if have.get(name):
            continue
        with connection.cursor() as c:
            c.execute(create_statement(entity, key))
        created.append(name)
        analyze.add(TABLES[entity])
    for table in sorted(analyze):
        with connection.cursor() as c:  # statistics of the new expressions (a sample, not a scan)
            c.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    if created or dropped:
        log.info("Property range indexes: created %s, dropped %s", created, dropped)
    return {"created": created, "dropped": dropped}


def schedule() -> None:
    """Queue a sync once the current transaction commits (a definition changed)."""
    from django.db import transaction

    from .tasks import sync_property_indexes

    transaction.on_commit(sync_property_indexes.delay)
