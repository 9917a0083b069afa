"""The queue's SLA filters (breached, at risk) and its "SLA due" sort in every scope: each lists
exactly the leads of the scope with a running clock in that state, in the sort's order, page after
page through the keyset cursor, and never a lead of another team. Compared with a plain reference
(an EXISTS per lead, and the soonest running clock computed in Python), so the faster query shapes
(the page's ids first, a semi-join for one person's leads, the pool's hash join) change no row."""

from __future__ import annotations

import datetime

import pytest
from django.db.models import Exists, OuterRef
from django.http import QueryDict
from django.utils import timezone

from qualify.leads.models import Lead, Stage
from qualify.leads.queue import load_queue, scoped_leads, without_blanks
from qualify.sla.models import BusinessCalendar, Clock, ClockKind, ClockStatus, SlaPolicy
from tests.factories import LeadFactory
from tests.leads.test_queue_sorts import _walk

NOW = timezone.now().replace(microsecond=0)
HOUR = datetime.timedelta(hours=1)


def _clock(lead, due, *, status=ClockStatus.OPEN, kind=ClockKind.MQL_FIRST_TOUCH, owner="lead", warn=None) -> Clock:
    return Clock.objects.create(
        lead=lead, team=lead.team, policy=SlaPolicy.objects.filter(kind=kind).order_by("id").first(),
        calendar=BusinessCalendar.objects.order_by("id").first(), kind=kind,
        owner=lead.owner if owner == "lead" else owner,
        started_at=due - 4 * HOUR, warn_at=warn or due - HOUR, due_at=due, status=status,
    )


@pytest.fixture
def clocked(alice, bob, charlie, erin, north, south):
    """Leads of two teams with clocks breached, at risk, fresh and stopped, in SDR queues and pools,
    with ties in score; one pool lead's clock still names the SDR who had it (an imported owner
    change leaves clocks alone), another has no owner on its clock; one lead runs two clocks."""
    leads = []
    owners = [(north, alice), (north, bob), (north, None), (south, charlie), (south, None)]
    for i in range(40):
        team, owner = owners[i % len(owners)]
        lead = LeadFactory(team=team, owner=owner, score=[10, 10, 30, 50][i % 4],
                           stage=[Stage.NEW, Stage.MQL, Stage.WORKING][i % 3])
        leads.append(lead)
        kind = i % 6
        if kind == 0:
            _clock(lead, NOW - 2 * HOUR)  # breached
        elif kind == 1:
            _clock(lead, NOW + HOUR / 2)  # at risk (warned half an hour ago)
        elif kind == 2:
            _clock(lead, NOW + 5 * HOUR)  # fresh
        elif kind == 3:
            _clock(lead, NOW - 3 * HOUR, status=ClockStatus.MET)  # stopped: no SLA state
        elif kind == 4:
            _clock(lead, NOW - HOUR)
            _clock(lead, NOW + 3 * HOUR, kind=ClockKind.RECYCLED_TOUCH)  # two running clocks
    pool = [lead for lead in leads if lead.owner_id is None and lead.team == north]
    _clock(pool[1], NOW - 5 * HOUR, kind=ClockKind.RECYCLED_TOUCH, owner=bob)  # clock still names bob
    handed = LeadFactory(team=north, owner=alice, ae=erin, stage=Stage.HANDED_OFF, score=30)
    _clock(handed, NOW - HOUR, kind=ClockKind.HANDOFF_DECISION, owner=erin)
    return leads


def _scope(user, **params):
    query = QueryDict(mutable=True)
    query.update(params)
    return scoped_leads(user, without_blanks(query))[2]


def _in_state(state: str):
    running = Clock.objects.filter(lead_id=OuterRef("pk"), status=ClockStatus.OPEN)
    if state == "breached":
        return Exists(running.filter(due_at__lte=timezone.now()))
    return Exists(running.filter(warn_at__lte=timezone.now(), due_at__gt=timezone.now()))


CASES = [("alice", "mine"), ("alice", "pool"), ("bob", "mine"), ("maria", "team"), ("maria", "pool"),
         ("charlie", "mine"), ("charlie", "pool"), ("rita", "team"), ("erin", "mine")]


@pytest.mark.parametrize("state", ["breached", "at_risk"])
@pytest.mark.parametrize(("who", "scope"), CASES)
def test_sla_filter_lists_the_scopes_leads_in_that_state_page_by_page(request, clocked, maria, rita, who, scope, state):
    user = request.getfixturevalue(who)
    base = _scope(user, scope=scope)
    expected = list(base.filter(_in_state(state)).order_by("-score", "-id").values_list("pk", flat=True))
    visible = set(Lead.objects.visible_to(user).values_list("pk", flat=True))
    assert set(expected) <= visible
    for per in (1, 3, 50):
        assert _walk(user, per, scope=scope, sla=state) == expected, (who, scope, state, per)
    assert load_queue(user, QueryDict(f"scope={scope}&sla={state}"), rows=False).total.value == len(expected)


def test_the_fixture_gives_every_scope_something_to_find(clocked, alice, maria, charlie):
    assert _walk(alice, 50, scope="mine", sla="breached")
    assert _walk(alice, 50, scope="pool", sla="breached")
    assert _walk(charlie, 50, scope="pool", sla="at_risk")
    assert _walk(maria, 50, scope="team", sort="sla_due")


def _soonest(lead: Lead) -> tuple[datetime.datetime, int]:
    return min((c.due_at, c.pk) for c in lead.sla_clocks.filter(status=ClockStatus.OPEN))


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize(("who", "scope"), CASES)
def test_sla_due_sort_lists_the_scopes_leads_with_running_clocks_page_by_page(request, clocked, maria, rita,
                                                                              who, scope, direction):
    user = request.getfixturevalue(who)
    base = _scope(user, scope=scope)
    running = Clock.objects.filter(lead_id=OuterRef("pk"), status=ClockStatus.OPEN)
    rows = list(base.filter(Exists(running)))
    expected = [lead.pk for lead in sorted(rows, key=_soonest, reverse=direction == "desc")]
    for per in (1, 4, 50):
        assert _walk(user, per, scope=scope, sort="sla_due", dir=direction) == expected, (who, scope, direction, per)
    assert load_queue(user, QueryDict(f"scope={scope}&sort=sla_due"), rows=False).total.value == len(expected)


def test_a_pool_lead_with_a_clock_is_in_the_pools_sla_sort_whoever_its_clock_names(clocked, alice, bob, north):
    pool = Lead.objects.filter(team=north, owner=None, sla_clocks__status=ClockStatus.OPEN).distinct()
    named = set(pool.filter(sla_clocks__owner=bob).values_list("pk", flat=True))
    nobody = set(pool.filter(sla_clocks__owner=None).values_list("pk", flat=True))
    assert named and nobody
    listed = set(_walk(alice, 2, scope="pool", sort="sla_due"))
    assert named | nobody <= listed
    assert listed == set(pool.filter(stage__in=[Stage.NEW, Stage.MQL, Stage.WORKING]).values_list("pk", flat=True))


def test_another_teams_clocks_never_leak_into_a_scope(clocked, alice, maria, charlie, south):
    theirs = set(Lead.objects.filter(team=south).values_list("pk", flat=True))
    for user, scopes in ((alice, ("mine", "pool")), (maria, ("team", "pool"))):
        for scope in scopes:
            for params in ({"sla": "breached"}, {"sla": "at_risk"}, {"sort": "sla_due"}):
                assert not set(_walk(user, 3, scope=scope, **params)) & theirs, (user.username, scope, params)
    mine = set(_walk(charlie, 3, scope="mine", sla="breached"))
    assert mine and mine <= theirs

