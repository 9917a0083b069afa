"""pg_trgm where the server ships it, and the indexes detection probes on leads_lead.

pg_trgm: created only when pg_available_extensions lists it (Debian's PostgreSQL 15 does; the
embedded server of `make run` may not), so this migration runs everywhere; the rules fall back to
equal keys without it (rules.has_trigram). It is a trusted extension: a database owner may create it.

The indexes serve detection (detect.py), one probe per new lead and rule, and are expression
indexes over the keys of rules.py (the same text): the e-mail domain (exact e-mail and
name-at-domain rules), the phone's last 9 digits, the external id. Partial: only rows that have
the value. They are dedupe's, on the core's table, so the core stays unaware of them. Every lead
write that is not HOT (a score change) writes them too; see README, Duplicates.
"""

from django.db import migrations

INDEXES = [
    ("lead_dedupe_domain", "(team_id, split_part(lower(email), '@', 2)) WHERE email <> ''"),
    ("lead_dedupe_phone", "(team_id, right(regexp_replace(phone, '[^0-9]', '', 'g'), 9)) WHERE phone <> ''"),
    ("lead_dedupe_external", "(team_id, lower(external_id)) WHERE external_id <> ''"),
]


def create_trigram(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')")
        if cur.fetchone()[0]:
            cur.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("dedupe", "0001_initial"),
        ("leads", "0015_merged_redirects"),
    ]

    operations = [
        # Left in place on reverse: other code may use pg_trgm by then.
        migrations.RunPython(create_trigram, migrations.RunPython.noop),
        *[
            migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON leads_lead {definition}",
                              f"DROP INDEX IF EXISTS {name}")
            for name, definition in INDEXES
        ],
    ]
