"""The lookup of a batch's senders probes the unique index per anonymous id, whatever the table's
statistics say: with autovacuum off (or behind a burst of new visitors) `anonymous_id = ANY(...)`
read the whole table, every batch."""

import psycopg
import pytest
from django.db import connection, transaction

from qualify.segment import tracking
from qualify.segment.models import AnonymousId
from tests.factories import LeadFactory


@pytest.mark.django_db
def test_anonymous_ids_are_found_through_the_unique_index_on_an_unanalyzed_table(north):
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO segment_anonymousid (team_id, anonymous_id, user_id, linked_at) "
            "SELECT %s, 'anon-' || i, '', now() FROM generate_series(1, 20000) i", [north.pk]
        )
    with transaction.atomic(), psycopg.Cursor(connection.connection) as cur:
        cur.execute("EXPLAIN " + tracking._SENDERS, [[f"anon-{i}" for i in range(1, 200)], north.pk, north.pk, ["u-1"]])
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Seq Scan on segment_anonymousid" not in plan
    assert "(anonymous_id)::text = k.anonymous_id" in plan, plan
    # The same statement still answers: a linked id names its lead, an unlinked or unknown one nobody.
    lead = LeadFactory(team=north)
    AnonymousId.objects.filter(team=north, anonymous_id="anon-7").update(lead=lead)
    assert tracking._leads_for(north.pk, set(), {"anon-7", "anon-8", "anon-nobody"}) == {("a", "anon-7"): lead.pk}
