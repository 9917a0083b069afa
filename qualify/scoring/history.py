"""Score history for calibration: daily snapshots of open leads (MQL, handoff and outcome rows are
written by the StageChange trigger in migration 0003)."""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from qualify.leads.models import OPEN_STAGES

from .ranking import SCORE_NOW_SQL

BATCH = 20_000


def snapshot_daily(*, now: datetime.datetime | None = None, batch: int = BATCH) -> int:
    """One 'daily' snapshot per open, scored lead for today (idempotent: a second run the same day
    adds nothing). It also brings `score` up to date where decay changed it and the minutely
    refresh (decay.refresh_due, at most REFRESH_LIMIT rows a run) has not caught up yet.
    Walks leads in id batches, one INSERT and one UPDATE per batch. Returns rows inserted."""
    now = now or timezone.now()
    today = now.astimezone(datetime.timezone.utc).date()
    value = SCORE_NOW_SQL.replace("%s", "%(now)s")
    inserted, last = 0, 0
    with connection.cursor() as cur:
        while True:
            cur.execute(
                "SELECT id FROM leads_lead WHERE id > %s AND stage = ANY(%s) AND score_version_id IS NOT NULL "
                "ORDER BY id LIMIT %s",
                [last, list(OPEN_STAGES), batch],
            )
            ids = [r[0] for r in cur.fetchall()]
            if not ids:
                return inserted
            last = ids[-1]
            params = {"ids": ids, "now": now, "at": now, "on": today}
            cur.execute(
                f"""INSERT INTO scoring_scoresnapshot (lead_id, version_id, kind, stage, "on", at, score, fit, engagement, grade)
                    SELECT leads_lead.id, score_version_id, 'daily', stage, %(on)s, %(at)s,
                           floor(({value}) + 0.5)::int, score_fit, ({value}) - score_fit, fit_grade
                    FROM leads_lead WHERE leads_lead.id = ANY(%(ids)s)
                    ON CONFLICT (lead_id, "on") WHERE kind = 'daily' DO NOTHING""",
                params,
            )
            inserted += cur.rowcount
            cur.execute(
                f"""UPDATE leads_lead SET score = floor(({value}) + 0.5)::int
                    WHERE leads_lead.id = ANY(%(ids)s) AND score <> floor(({value}) + 0.5)::int""",
                params,
            )
