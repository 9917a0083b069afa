"""The batch after scoring: recompute the stored figures of a set of accounts and record the ones
that crossed their MQA threshold, with when.

Scoring never waits for this: after each scoring chunk commits, the listener only marks the
chunk's accounts pending (`mark_pending`, one INSERT ... SELECT per chunk of up to 250 leads), and a
beat task drains the pending accounts every minute (`refresh_pending`, batches of 500), so a busy
account is refreshed once a minute however many events its people receive. Another beat sweep
brings every account with engagement up to date as decay lowers it. Cost per batch: 4 queries to
read (people of all the accounts at once, the account scorings), 1 lock, 1 upsert. An account
becomes an MQA once: `mqa_at` is set the first time its score reaches the threshold and kept.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from .measures import people, scorings, scoring_for, summarise

BATCH = 500

UPSERT_SQL = """
INSERT INTO abm_accountscore (account_id, scoring_id, score, engagement, engaged_people, departments_engaged,
                              roles_covered, roles_total, engaged_this_week, computed_at, mqa_at)
SELECT * FROM unnest(%(account)s::bigint[], %(scoring)s::bigint[], %(score)s::int[], %(engagement)s::float8[],
                     %(engaged)s::int[], %(departments)s::int[], %(covered)s::int[], %(total)s::int[],
                     %(week)s::int[], %(at)s::timestamptz[], %(mqa)s::timestamptz[])
ON CONFLICT (account_id) DO UPDATE SET
  scoring_id = EXCLUDED.scoring_id, score = EXCLUDED.score, engagement = EXCLUDED.engagement,
  engaged_people = EXCLUDED.engaged_people, departments_engaged = EXCLUDED.departments_engaged,
  roles_covered = EXCLUDED.roles_covered, roles_total = EXCLUDED.roles_total,
  engaged_this_week = EXCLUDED.engaged_this_week, computed_at = EXCLUDED.computed_at,
  -- Crossed once: the first crossing's time is kept, whatever the score does later.
  mqa_at = COALESCE(abm_accountscore.mqa_at, EXCLUDED.mqa_at)
"""


def refresh_accounts(account_ids: Iterable[int], *, now: datetime.datetime | None = None) -> list[int]:
    """Store the figures of `account_ids` as of `now`; returns the ids that became MQAs in this call."""
    ids = sorted({int(i) for i in account_ids})
    if not ids:
        return []
    now = now or timezone.now()
    by_model, default = scorings()
    became: list[int] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        persons = people(chunk, now=now)
        cols: dict[str, list] = {k: [] for k in
                                 ("account", "scoring", "score", "engagement", "engaged", "departments", "covered",
                                  "total", "week", "at", "mqa")}
        for account_id in chunk:
            mine = persons.get(account_id, [])
            s = summarise(mine, scoring_for(mine, by_model, default), detail=False)
            crossed = s.scoring is not None and s.account_score >= s.scoring.mqa_threshold
            for key, value in (("account", account_id), ("scoring", s.scoring.pk if s.scoring else None),
                               ("score", s.account_score), ("engagement", s.engagement), ("engaged", s.engaged_people),
                               ("departments", s.departments_engaged), ("covered", s.roles_covered),
                               ("total", len(s.roles)), ("week", s.engaged_this_week), ("at", now),
                               ("mqa", now if crossed else None)):
                cols[key].append(value)
        with transaction.atomic(), connection.cursor() as cur:
            # Locked, so two batches of the same account agree on which one made it an MQA.
            before = dict(_mqa_before(cur, chunk))
            cur.execute(UPSERT_SQL, cols)
        became += [a for a, m in zip(chunk, cols["mqa"]) if m is not None and before.get(a) is None]
    return became


def _mqa_before(cur, ids: list[int]):
    cur.execute("SELECT account_id, mqa_at FROM abm_accountscore WHERE account_id = ANY(%s) FOR UPDATE", [ids])
    return cur.fetchall()


def accounts_of(lead_ids: Iterable[int]) -> list[int]:
    with connection.cursor() as cur:
        cur.execute("SELECT DISTINCT account_id FROM leads_lead WHERE id = ANY(%s)", [list(lead_ids)])
        return [r[0] for r in cur.fetchall()]


def refresh_engaged(*, now: datetime.datetime | None = None) -> int:
    """The sweep: every account with a stored engagement, so decay shows in the stored figures
    (the account page is always live). Returns accounts refreshed."""
    with connection.cursor() as cur:
        cur.execute("SELECT account_id FROM abm_accountscore WHERE engagement > 0 OR engaged_this_week > 0")
        ids = [r[0] for r in cur.fetchall()]
    refresh_accounts(ids, now=now)
    return len(ids)


def mark_pending(lead_ids: Iterable[int]) -> None:
    """The accounts of these leads need their figures refreshed (one statement)."""
    with connection.cursor() as cur:
        cur.execute("""INSERT INTO abm_pendingaccount (account_id, since)
                       SELECT DISTINCT account_id, now() FROM leads_lead WHERE id = ANY(%s)
                       ON CONFLICT (account_id) DO NOTHING""", [list(lead_ids)])


def refresh_pending(*, now: datetime.datetime | None = None, limit: int = BATCH) -> int:
    """Drain pending accounts in batches until none is left; returns accounts refreshed. Each batch
    is claimed with SKIP LOCKED and removed in the transaction that refreshes it, so two workers
    never refresh the same batch and a crash leaves the batch pending."""
    total = 0
    while True:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("""DELETE FROM abm_pendingaccount WHERE account_id IN (
                             SELECT account_id FROM abm_pendingaccount ORDER BY since
                             LIMIT %s FOR UPDATE SKIP LOCKED) RETURNING account_id""", [limit])
            ids = [row[0] for row in cur.fetchall()]
            refresh_accounts(ids, now=now)
        total += len(ids)
        if len(ids) < limit:
            return total
