"""Finish what an after-commit listener left undone, from the database alone.

Routing a new MQL and starting its first-touch clock run after the move commits
(qualify/leads/changes.py). A worker or web process that dies between the commit and those
listeners, or a broker that loses the message of a scoring task's promotion, leaves an MQL that
nobody owns and nobody routed, or an owner with no clock: the SLA would never warn. Every minute,
beat runs `reconcile_new_mqls`: MQLs that became MQLs between a day and two minutes ago (the two
minutes let the listeners finish) are routed when they have no owner and no routing decision since
(an Assignment row), and get their first-touch clock when they have an owner and no such clock
since. Both steps are the listeners' own functions, idempotent, and find nothing in the usual case.

It also does the stage listener's other duties: touch clocks still running on leads that left the
SDR stages are cancelled, and recycled leads get their touch-again clock (reconcile_moves).

Cost: index range scans over recent MQLs (lead_mql_since, a partial index holding MQLs only) and
recent stage changes (stagechange_to_at), a few anti-joins, and nothing more when all is done.
"""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef
from django.utils import timezone

from qualify.leads.models import SDR_STAGES, Lead, Stage, StageChange
from qualify.lookups import reused_lookups
from qualify.routing.engine import route_new_mqls
from qualify.routing.models import Assignment

from .clocks import unschedule, start_touch_clocks
from .models import TOUCH_KINDS, Clock, ClockKind, ClockStatus

HORIZON = datetime.timedelta(minutes=2)
WINDOW = datetime.timedelta(days=1)
LIMIT = 1000


def _recent_mqls(now: datetime.datetime, horizon: datetime.timedelta = HORIZON):
    return Lead.objects.filter(stage=Stage.MQL, stage_changed_at__gte=now - WINDOW, stage_changed_at__lt=now - horizon)


def reconcile_new_mqls(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Route unrouted new MQLs, then clock owned ones without a first-touch clock; then the other
    two things the stage listener does (reconcile_moves). Returns counts."""
    now = now or timezone.now()
    done = _new_mqls(now)
    done.update(reconcile_moves(now=now))
    return done


def reconcile_moves(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The stage listener's other two duties, for moves of the last day (stagechange_to_at index):
    touch clocks still running on leads that left the SDR stages are cancelled, and leads recycled
    from Nurture that are still worked get their touch-again clock."""
    now = now or timezone.now()
    window = {"at__gte": now - WINDOW, "at__lt": now - HORIZON}
    left = StageChange.objects.filter(to_stage__in=[s for s in Stage.values if s not in SDR_STAGES], **window)
    stale = Clock.objects.filter(lead_id__in=left.values("lead_id"), kind__in=TOUCH_KINDS, status=ClockStatus.OPEN) \
        .exclude(lead__stage__in=SDR_STAGES)
    unschedule(stale)
    cancelled = stale.update(status=ClockStatus.CANCELLED, closed_at=now,
                             closed_note="Lead had left the SDR stages (reconciled)")
    recycled = StageChange.objects.filter(from_stage=Stage.NURTURE, to_stage=Stage.WORKING, lead_id=OuterRef("pk"),
                                          at__gte=now - WINDOW, at__lt=now - HORIZON)
    clocked = Clock.objects.filter(lead_id=OuterRef("pk"), kind=ClockKind.RECYCLED_TOUCH,
                                   started_at__gte=OuterRef("stage_changed_at"))
    leads = list(Lead.objects.filter(stage=Stage.WORKING, stage_changed_at__gte=now - WINDOW)
                 .filter(Exists(recycled)).exclude(Exists(clocked)).select_related("account").order_by("pk")[:LIMIT])
    with reused_lookups():
        started = start_touch_clocks(leads, ClockKind.RECYCLED_TOUCH) if leads else []
    return {"clocks cancelled": cancelled, "recycled clocks started": len(started)}


def unrouted_new_mqls(*, now: datetime.datetime, horizon: datetime.timedelta = HORIZON) -> list[int]:
    """MQLs of the last day (older than `horizon`) that nobody owns and no routing decision has
    placed since they became MQLs (an Assignment row, the pool included). At most LIMIT."""
    decided = Assignment.objects.filter(lead_id=OuterRef("pk"), at__gte=OuterRef("stage_changed_at"))
    unrouted = _recent_mqls(now, horizon).filter(owner__isnull=True).exclude(Exists(decided))
    return list(unrouted.order_by("pk").values_list("pk", flat=True)[:LIMIT])


def _new_mqls(now: datetime.datetime) -> dict[str, int]:
    unrouted = unrouted_new_mqls(now=now)
    routed = route_new_mqls(unrouted, why="New MQL (routed late: its routing did not run)") if unrouted else 0
    # Any touch clock since: a lead back from Nurture gets the touch-again clock, not a first-touch
    # one (clocks.stages_changed), and a second clock beside it would breach twice.
    clocked = Clock.objects.filter(lead_id=OuterRef("pk"), kind__in=TOUCH_KINDS, started_at__gte=OuterRef("stage_changed_at"))
    unclocked = list(
        _recent_mqls(now).filter(owner__isnull=False).exclude(Exists(clocked)).select_related("account").order_by("pk")[:LIMIT]
    )
    with reused_lookups():
        started = start_touch_clocks(unclocked, ClockKind.MQL_FIRST_TOUCH) if unclocked else []
    return {"unrouted": len(unrouted), "routed": routed, "clocks started": len(started)}
