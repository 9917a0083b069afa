"""Score history for calibration: daily snapshots of open leads (MQL, handoff and outcome rows are
written by the StageChange trigger in migration 0003), and restating the snapshots of history
written before it was scored."""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

from qualify.leads.models import OPEN_STAGES, Event, Lead

from . import engine, sql
from .models import ScoreSnapshot
from .ranking import SCORE_NOW_SQL, to_us
from .scores import version_spec

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


def restate_unscored(*, batch: int = 500) -> int:
    """Rewrite the MQL, handoff and outcome snapshots written before any model scored their lead
    (version empty: history imported or seeded before the first recompute) with the score the
    lead's current version gives as of that moment, from the events that had happened by then.

    Imported history is written first and scored after, so without this its snapshots hold
    whatever score the rows came with, and calibration could not say which rules fired at close.
    Fit reads the lead's fields as they are now. Python engine, per lead: about 1 ms a snapshot;
    meant for a seed or an import of the past, not for live traffic. Returns snapshots rewritten."""
    rewritten, last = 0, 0
    while True:
        ids = list(
            ScoreSnapshot.objects.filter(version__isnull=True, kind__in=["mql", "handoff", "outcome"], pk__gt=last,
                                         lead__score_version__isnull=False)
            .order_by("pk").values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return rewritten
        last = ids[-1]
        snaps = list(ScoreSnapshot.objects.filter(pk__in=ids))
        leads = Lead.objects.select_related("account").in_bulk([s.lead_id for s in snaps])
        events: dict[int, list[engine.Ev]] = {}
        for lid, i, t, ty, p in Event.objects.filter(lead_id__in=list(leads)).values_list(
            "lead_id", "id", "occurred_at", "type", "properties"
        ):
            events.setdefault(lid, []).append(engine.Ev(i, to_us(t), ty, p or {}))
        for snap in snaps:
            lead = leads[snap.lead_id]
            spec = version_spec(lead.score_version_id)
            at_us = to_us(snap.at)
            s = engine.score(spec, sql.lead_facts(lead), [e for e in events.get(lead.pk, []) if e.t_us <= at_us], at_us)
            eng = s.engagement if spec.engagement_cap is None else min(spec.engagement_cap, s.engagement)
            snap.version_id, snap.score, snap.fit, snap.engagement, snap.grade = (
                spec.version_id, engine.display(s.value()), s.fit, eng, s.grade
            )
        ScoreSnapshot.objects.bulk_update(snaps, ["version", "score", "fit", "engagement", "grade"])
        rewritten += len(snaps)
