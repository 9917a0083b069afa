"""A small funnel whose every figure is computed by hand in the tests.

North, created 2026-01-10 00:00 UTC unless noted:
  L1 inbound  (alice): new → mql 01:00 → working Jan 11 → handed off Jan 12 → accepted (erin) Jan 13
                       → opportunity Jan 20 → won Feb 9.  Touch at 01:03 (3 min after MQL).
  L2 inbound  (alice): new → mql Jan 10 → working Jan 12 → handed off Jan 13 → working (rejected) Jan 14
                       → handed off Jan 15 → accepted Jan 16 → lost Feb 1. Touch at mql + 2 h.
  L3 outbound (bob):   new → working Jan 11 (never "mql", but working is later) → nurture Jan 20.
                       Touch Jan 12 00:00 (1 day after).
  L4 event    (bob):   created through the API: no stage history at all.
  L5 inbound  (alice): created Feb 5; new → mql Feb 5; never touched.
South: S1 inbound won, invisible to North's people.
"""

import datetime

import pytest

from qualify.handoff.models import Handoff
from qualify.leads.models import DisqualifyReason, Segment, Source, Stage, StageChange, Touch
from tests.factories import AccountFactory, LeadFactory

UTC = datetime.UTC
JAN10 = datetime.datetime(2026, 1, 10, tzinfo=UTC)


def at(day: int, month: int = 1, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def history(lead, *steps):
    """steps: (to_stage, at, by) in order; the first goes from '' (created)."""
    prev, rows = "", []
    for to, when, by in steps:
        rows.append(StageChange(lead=lead, from_stage=prev, to_stage=to, at=when, by=by))
        prev = to
    StageChange.objects.bulk_create(rows)


def make_lead(team, *, owner, source, created, stage, segment=Segment.MID_MARKET, **kw):
    account = AccountFactory(team=team, segment=segment)
    return LeadFactory(team=team, account=account, owner=owner, source=source, created_at=created, stage=stage, **kw)


@pytest.fixture
def funnel(north, south, alice, bob, erin, charlie, sam):
    S = Stage
    l1 = make_lead(north, owner=erin, ae=erin, source=Source.INBOUND, created=JAN10, stage=S.WON, first_name="L1")
    history(l1, (S.NEW, JAN10, None), (S.MQL, at(10, hour=1), None), (S.WORKING, at(11), alice),
            (S.HANDED_OFF, at(12), alice), (S.ACCEPTED, at(13), erin), (S.OPPORTUNITY, at(20), erin), (S.WON, at(9, 2), erin))
    Touch.objects.create(lead=l1, author=alice, kind="call", outcome="connected", occurred_at=at(10, hour=1, minute=3))

    l2 = make_lead(north, owner=erin, ae=erin, source=Source.INBOUND, created=JAN10, stage=S.LOST, first_name="L2")
    history(l2, (S.NEW, JAN10, None), (S.MQL, at(10), None), (S.WORKING, at(12), alice), (S.HANDED_OFF, at(13), alice),
            (S.WORKING, at(14), erin), (S.HANDED_OFF, at(15), alice), (S.ACCEPTED, at(16), erin), (S.LOST, at(1, 2), erin))
    Touch.objects.create(lead=l2, author=alice, kind="call", outcome="connected", occurred_at=at(10, hour=2))

    l3 = make_lead(north, owner=bob, source=Source.OUTBOUND, created=JAN10, stage=S.NURTURE, first_name="L3",
                   segment=Segment.ENTERPRISE)
    history(l3, (S.NEW, JAN10, None), (S.WORKING, at(11), bob), (S.NURTURE, at(20), bob))
    Touch.objects.create(lead=l3, author=bob, kind="call", outcome="no_answer", occurred_at=at(12))

    l4 = make_lead(north, owner=bob, source=Source.EVENT, created=JAN10, stage=S.NEW, first_name="L4")
    l5 = make_lead(north, owner=alice, source=Source.INBOUND, created=at(5, 2), stage=S.MQL, first_name="L5")
    history(l5, (S.NEW, at(5, 2), None), (S.MQL, at(5, 2, hour=1), None))

    s1 = make_lead(south, owner=sam, ae=sam, source=Source.INBOUND, created=JAN10, stage=S.WON, first_name="S1")
    history(s1, (S.NEW, JAN10, None), (S.MQL, at(10), None), (S.WORKING, at(11), charlie), (S.HANDED_OFF, at(12), charlie),
            (S.ACCEPTED, at(13), sam), (S.OPPORTUNITY, at(14), sam), (S.WON, at(15), sam))

    discovery = DisqualifyReason.objects.get(name="Not enough discovery")
    Handoff.objects.create(lead=l1, team=north, from_user=alice, to_user=erin, next_step="Demo on Tuesday", source="inbound",
                           created_at=at(12), status="accepted", decided_at=at(13), decided_by=erin)
    Handoff.objects.create(lead=l2, team=north, from_user=alice, to_user=erin, next_step="Demo on Tuesday", source="inbound",
                           created_at=at(13), status="rejected", decided_at=at(14), decided_by=erin, reason=discovery,
                           decision_note="No pain confirmed")
    Handoff.objects.create(lead=l2, team=north, from_user=alice, to_user=erin, next_step="Demo on Friday", source="inbound",
                           created_at=at(15), status="accepted", decided_at=at(16), decided_by=erin)
    return {"l1": l1, "l2": l2, "l3": l3, "l4": l4, "l5": l5, "s1": s1}


@pytest.fixture
def refreshed(funnel):
    from qualify.analytics.rollups import refresh

    refresh(full=True)
    return funnel
