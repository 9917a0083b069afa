"""Dedupe's listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

- New leads and accounts (any door: page, API, CSV import, the seed) are compared with their
  team's after commit, a batch per statement (detect.py): a match is flagged, never dropped.
- A merge, in its transaction: the merged pair is marked merged, and the merged record's other
  candidate pairs move to the survivor (a pair that would repeat one the survivor has is dropped;
  a pair of the survivor with itself cannot arise, since that is the merged pair).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from qualify.leads.changes import AFTER_COMMIT, IN_TRANSACTION, AccountSaved, AccountsMerged, LeadSaved, LeadsMerged, listen

from .detect import detect
from .models import Kind, Status

MOVE = """
UPDATE dedupe_duplicatecandidate SET status = %(merged)s, decided_at = %(now)s, decided_by_id = %(by)s
 WHERE kind = %(kind)s AND low_id = least(%(s)s, %(m)s) AND high_id = greatest(%(s)s, %(m)s);
DELETE FROM dedupe_duplicatecandidate c
 WHERE c.kind = %(kind)s AND %(m)s IN (c.low_id, c.high_id) AND %(s)s NOT IN (c.low_id, c.high_id)
   AND EXISTS (SELECT 1 FROM dedupe_duplicatecandidate o
                WHERE o.kind = c.kind
                  AND o.low_id = least(%(s)s, CASE WHEN c.low_id = %(m)s THEN c.high_id ELSE c.low_id END)
                  AND o.high_id = greatest(%(s)s, CASE WHEN c.low_id = %(m)s THEN c.high_id ELSE c.low_id END));
UPDATE dedupe_duplicatecandidate c
   SET low_id = least(%(s)s, CASE WHEN c.low_id = %(m)s THEN c.high_id ELSE c.low_id END),
       high_id = greatest(%(s)s, CASE WHEN c.low_id = %(m)s THEN c.high_id ELSE c.low_id END)
 WHERE c.kind = %(kind)s AND %(m)s IN (c.low_id, c.high_id) AND %(s)s NOT IN (c.low_id, c.high_id);
"""


def _move(kind: str, batch) -> None:
    with connection.cursor() as cur:
        for c in batch:
            for statement in MOVE.split(";\n")[:3]:
                cur.execute(statement, {"kind": kind, "s": c.survivor_id, "m": c.merged_id, "by": c.by_id,
                                        "now": timezone.now(), "merged": Status.MERGED})


@listen("lead_saved", when=AFTER_COMMIT)
def detect_new_leads(batch: list[LeadSaved]) -> None:
    detect(Kind.LEAD, [c.lead_id for c in batch if c.created])


@listen("account_saved", when=AFTER_COMMIT)
def detect_new_accounts(batch: list[AccountSaved]) -> None:
    detect(Kind.ACCOUNT, [c.account_id for c in batch if c.created])


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_lead_candidates(batch: list[LeadsMerged]) -> None:
    _move(Kind.LEAD, batch)


@listen("accounts_merged", when=IN_TRANSACTION)
def move_merged_account_candidates(batch: list[AccountsMerged]) -> None:
    _move(Kind.ACCOUNT, batch)
