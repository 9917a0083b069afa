"""A trigram index on account names for the queue's company search, where the server has pg_trgm.

The queue's search matches each word against the names of the accounts (filters.search_leads:
`UPPER(name) LIKE UPPER('%word%')`); without an index that reads all 50,000 account names at
1,000,000 leads (about 12 ms). A GIN trigram index over the same expression answers it in well
under a millisecond. Accounts are written rarely, so the index costs next to nothing.
pg_trgm is created only when pg_available_extensions lists it (Debian's PostgreSQL does; the
embedded server of `make run` may not): there the search works as before, only slower.
"""

from django.db import migrations

INDEX = "account_name_trgm"


def _has_trigram(cursor) -> bool:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm')")
    if not cursor.fetchone()[0]:
        return False
    cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    return True


def create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if _has_trigram(cursor):
            cursor.execute(f'CREATE INDEX IF NOT EXISTS {INDEX} ON leads_account USING gin (UPPER("name"::text) gin_trgm_ops)')


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("leads", "0016_queue_sort_indexes")]

    # The extension stays on reverse: dedupe's rules use it too.
    operations = [migrations.RunPython(create, drop)]
