"""Rotations stay fair when several workers route at once (real connections, real commits)."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import Role
from qualify.leads.models import Lead
from qualify.routing.engine import route
from qualify.routing.models import Method, RoutingRule
from tests.factories import LeadFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

THREADS, PER_THREAD, REPS = 4, 12, 4


def route_concurrently(lead_ids):
    barrier = threading.Barrier(THREADS)
    errors = []

    def work(ids):
        try:
            barrier.wait()
            for lead in Lead.objects.filter(pk__in=ids):
                route(lead, why="test")
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    chunks = [lead_ids[i::THREADS] for i in range(THREADS)]
    threads = [threading.Thread(target=work, args=(chunk,)) for chunk in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors


@pytest.mark.parametrize("method", [Method.ROUND_ROBIN, Method.LEAST_LOADED])
def test_concurrent_routing_spreads_leads_evenly(method):
    team = TeamFactory(name="Rotation")
    reps = [UserFactory.with_role(Role.SDR, team, username=f"rep{i}") for i in range(REPS)]
    RoutingRule.objects.create(name="Rotate", team=team, method=method)
    leads = LeadFactory.create_batch(THREADS * PER_THREAD, team=team, owner=None)

    route_concurrently([lead.pk for lead in leads])

    counts = Counter(Lead.objects.filter(team=team).values_list("owner_id", flat=True))
    assert None not in counts
    assert sorted(counts) == sorted(r.pk for r in reps)
    assert max(counts.values()) - min(counts.values()) <= 1
