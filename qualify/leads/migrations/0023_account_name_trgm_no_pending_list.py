"""The account-name trigram index without GIN's pending list (fastupdate off).

With the pending list, accounts just inserted wait there unsorted until a vacuum, and every trigram
probe reads the whole list: duplicate detection of an import of 2,000 new accounts (one probe per
account, dedupe/detect.py) took 20.5 s that way against 2.4 s once the list was merged. Accounts are
written rarely, so inserting straight into the index costs next to nothing. Only where the index
exists (the server has pg_trgm, see 0017).
"""

from django.db import migrations


def _alter(schema_editor, *statements: str) -> None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('account_name_trgm') IS NOT NULL")
        if cursor.fetchone()[0]:
            for statement in statements:
                cursor.execute(statement)


def forward(apps, schema_editor):
    _alter(schema_editor, "ALTER INDEX account_name_trgm SET (fastupdate = off)",
           "SELECT gin_clean_pending_list('account_name_trgm')")


def backward(apps, schema_editor):
    _alter(schema_editor, "ALTER INDEX account_name_trgm RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("leads", "0022_property_index_beat_entry")]

    operations = [migrations.RunPython(forward, backward)]
