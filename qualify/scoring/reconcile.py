"""Scores converge from the database alone: the reconciler finds leads whose events are past their
scoring watermark and scores them, whatever happened to the Celery message that should have.

Ingestion queues scoring after commit, but that message can be lost: Redis down when it was sent,
the queue flushed, a worker killed without late ack. The events themselves are committed, so the
truth is in PostgreSQL: an event with an id above its lead's `score_watermark` is not counted yet.

Asking that of every lead would read every event. Instead the sweep keeps a position in the event
table (`Watermark` "scoring.events": every event at or below it is counted) and each run reads
only the events after it, through the event primary key, joined to their leads by primary key.
When nothing arrived since the last run that is one index probe; under load it is the events of
about one beat interval. The regular path scored nearly all of them already; the few it did not
are scored here with the same code (`scores.score_leads`: MQL promotion, routing and clocks
included).

Events still in flight must not be skipped. Event ids come from a sequence, so an id is allocated
after its request started; a request lasts at most the web timeout (gunicorn's 30 s, well under
GRACE). The run only goes up to the highest id received more than 2 × GRACE ago: every id below it
was allocated more than GRACE ago, by a request that has committed or rolled back by now.
"""

from __future__ import annotations

import datetime
import logging
import time

from django.db import connection
from django.utils import timezone

from . import scores
from .models import Watermark

log = logging.getLogger(__name__)

NAME = "scoring.events"
# Longer than any ingestion request can last (see the module docstring).
GRACE = datetime.timedelta(minutes=1)
# Event ids read per statement, and leads scored per pass: bounds each statement's cost.
SPAN = 200_000
MAX_LEADS = 5_000
# A run stops starting new passes after this long (the next beat continues).
BUDGET_SECONDS = 30

# Leads of events in (after, upto] not yet counted, each with its oldest such event, oldest first.
# Reads leads_event by primary key range and leads_lead by primary key (see EXPLAIN in README).
BEHIND_SQL = """
    SELECT e.lead_id, min(e.id) AS first_new
    FROM leads_event e JOIN leads_lead l ON l.id = e.lead_id
    WHERE e.id > %s AND e.id <= %s AND e.id > l.score_watermark
    GROUP BY e.lead_id
    ORDER BY first_new
    LIMIT %s"""

HORIZON_SQL = "SELECT max(id) FROM leads_event WHERE id > %s AND id <= %s AND received_at < %s"


def reconcile(
    *, now: datetime.datetime | None = None, grace: datetime.timedelta = GRACE, span: int = SPAN,
    max_leads: int = MAX_LEADS, budget_seconds: float = BUDGET_SECONDS,
) -> int:
    """Score every lead with committed events past its watermark, up to the safe horizon. Returns
    the number of leads it found behind. Costs 2 indexed statements per pass of up to `span` event
    ids (1 when no event arrived since the last run), plus the scoring of the leads found.
    Two runs at once are harmless: scoring is idempotent and the position only moves forward."""
    now = now or timezone.now()
    deadline = time.monotonic() + budget_seconds
    mark, _ = Watermark.objects.get_or_create(name=NAME)
    position, found = mark.position, 0
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute(HORIZON_SQL, [position, position + span, now - 2 * grace])
            horizon = cur.fetchone()[0]
            if horizon is None:
                # Nothing old enough in this slice; if ids jumped (a rolled-back batch, deleted events)
                # move to the next event instead of stopping here forever.
                cur.execute("SELECT min(id) FROM leads_event WHERE id > %s AND received_at < %s",
                            [position + span, now - 2 * grace])
                nxt = cur.fetchone()[0]
                if nxt is None:
                    break
                position = _advance(position, nxt - 1)
                continue
            cur.execute(BEHIND_SQL, [position, horizon, max_leads + 1])
            rows = cur.fetchall()
        upto = horizon
        if len(rows) > max_leads:
            # Too many for one pass: stop just before the first lead left for the next pass.
            upto = rows[max_leads][1] - 1
            rows = rows[:max_leads]
        first_new = dict(rows)
        if first_new:
            found += len(first_new)
            _, busy = scores.score_leads(first_new)
            if busy:
                # Held by another transaction through two tries: keep their events ahead of the position.
                upto = min(upto, min(first_new[i] for i in busy) - 1)
        if upto <= position:
            break
        position = _advance(position, upto)
    if found:
        log.warning("Scoring reconciler scored %s leads whose scoring message was lost or is late", found)
    return found


def _advance(old: int, new: int) -> int:
    """Move the position forward unless another run already moved it further."""
    Watermark.objects.filter(name=NAME, position__lt=new).update(position=new, updated_at=timezone.now())
    return max(old, new)
