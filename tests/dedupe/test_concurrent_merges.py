"""Two merges of the same pair at once, in real transactions: one merges, the other waits on the
row locks, then finds the lead gone and gets a clear error; nothing is merged twice or lost."""

from __future__ import annotations

import pytest

from qualify.errors import DomainError
from qualify.leads.merge import merge_leads
from qualify.leads.models import Event, Lead, MergedLead
from tests.concurrency import at_once
from tests.factories import EventFactory, LeadFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.mark.parametrize("crossed", [False, True], ids=["same direction", "crossed survivors"])
def test_concurrent_merges_of_one_pair_serialize(north, rita, crossed):
    a, b = LeadFactory(team=north), LeadFactory(team=north)
    for lead in (a, b):
        EventFactory.create_batch(3, lead=lead)
    second = (lambda: merge_leads(b, a, by=rita)) if crossed else (lambda: merge_leads(a, b, by=rita))
    outcomes = at_once(lambda: merge_leads(a, b, by=rita), second)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    merged = [o for o in outcomes if isinstance(o, Lead)]
    assert len(merged) == 1 and len(errors) == 1, outcomes
    assert isinstance(errors[0], DomainError) and "already merged into" in errors[0].message
    survivor = merged[0]
    assert Lead.objects.filter(pk__in=[a.pk, b.pk]).count() == 1
    assert Event.objects.filter(lead=survivor).count() == 6
    assert MergedLead.objects.count() == 1
