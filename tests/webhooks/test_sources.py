"""Where events come from: each core topic, the SLA sweep and review verdicts write outbox rows
with the previous and the new state; cheap when nobody listens."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qualify.leads.changes import HandoffChanged, StageChanged, publish
from qualify.leads.models import DisqualifyReason, Stage
from qualify.reviews.models import Verdict
from qualify.reviews.verdicts import record_verdict
from qualify.sla.sweep import sweep
from qualify.webhooks import events
from qualify.webhooks.models import Delivery, Endpoint, EventType
from tests.reviews.conftest import flags, north_sqls, plan, queue  # noqa: F401 (fixtures)
from tests.sla.conftest import at, frozen, make_mql, sla_defaults  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def bodies(event: str) -> list[dict]:
    return [json.loads(b) for b in Delivery.objects.filter(event=event).order_by("id").values_list("body", flat=True)]


@pytest.mark.parametrize(("from_stage", "to_stage", "expected"), [
    ("new", "mql", ["lead.mql"]),
    ("working", "nurture", ["lead.nurtured"]),
    ("working", "disqualified", ["lead.disqualified"]),
    ("nurture", "working", ["lead.recycled"]),
    ("disqualified", "mql", ["lead.recycled", "lead.mql"]),
    ("opportunity", "won", ["lead.won"]),
    ("opportunity", "lost", ["lead.lost"]),
    ("mql", "working", []),
])
def test_stage_changes_map_to_events(from_stage, to_stage, expected):
    found = list(events.stage_changed([StageChanged(1, from_stage, to_stage)]))
    assert [e.type for e in found] == expected
    assert all(e.previous == {"stage": from_stage} and e.current == {"stage": to_stage} for e in found)


def test_a_batch_nobody_subscribes_to_costs_one_query(north, alices_lead):
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.LEAD_WON])
    with CaptureQueriesContext(connection) as queries:
        publish("stage_changed", [StageChanged(alices_lead.pk, "new", "mql")] * 100)
    assert len(queries) == 1 and not Delivery.objects.exists()


def test_a_subscribed_batch_costs_three_queries_and_one_insert(north, alices_lead, pool_lead):
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.LEAD_MQL])
    Endpoint.objects.create(team=north, url="http://127.0.0.1:10/", events=[EventType.LEAD_MQL, EventType.LEAD_WON])
    with CaptureQueriesContext(connection) as queries:
        publish("stage_changed", [StageChanged(alices_lead.pk, "new", "mql"), StageChanged(pool_lead.pk, "new", "mql")] * 750)
    assert len(queries) == 3, [q["sql"][:80] for q in queries]  # endpoints, leads, one INSERT of 3,000 rows
    assert Delivery.objects.count() == 3000


def test_handoff_rejection_carries_reason_and_note(north, alices_lead):
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.HANDOFF_REJECTED])
    reason = DisqualifyReason.objects.first()
    publish("handoff_changed", [HandoffChanged(5, alices_lead.pk, "rejected", 1, reason.pk, "Handoff rejected",
                                               extra={"decision_note": "No budget until Q3", "to_user_id": 2, "from_user_id": 3})])
    [body] = bodies("handoff.rejected")
    assert body["data"]["previous"] == {"status": "pending"}
    assert body["data"]["current"] == {"status": "rejected", "reason": {"id": reason.pk, "name": reason.name},
                                       "note": "No budget until Q3"}
    assert body["data"]["handoff_id"] == 5


def test_sla_warning_and_breach_from_the_sweep(frozen, north, alices_lead, make_mql):  # noqa: F811
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.SLA_WARNING, EventType.SLA_BREACHED])
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 11, 0))
    sweep()
    [warning], [breach] = bodies("sla.warning"), bodies("sla.breached")
    assert (warning["data"]["previous"], warning["data"]["current"]) == ({"sla": "running"}, {"sla": "warning"})
    assert (breach["data"]["previous"], breach["data"]["current"]) == ({"sla": "warning"}, {"sla": "breached"})
    assert breach["data"]["lead"]["id"] == alices_lead.pk and breach["data"]["clock_kind"] == "mql_first_touch"


def test_review_verdict_with_the_previous_one(north, maria, queue):  # noqa: F811
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.REVIEW_VERDICT])
    item = queue.items.first()
    record_verdict(item, by=maria, verdict=Verdict.CONFIRMED)
    record_verdict(item, by=maria, verdict=Verdict.FALSE_SQL, note="No budget holder involved.")
    first, second = bodies("review.verdict")
    assert (first["data"]["previous"], first["data"]["current"]["verdict"]) == ({"verdict": None}, "confirmed")
    assert (second["data"]["previous"], second["data"]["current"]) == (
        {"verdict": "confirmed"}, {"verdict": "false_sql", "note": "No budget holder involved."})
    assert second["data"]["review_item_id"] == item.pk


def test_imported_outcomes_are_sent_marked_imported(north, alices_lead):
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.LEAD_WON])
    publish("stage_changed", [StageChanged(alices_lead.pk, Stage.OPPORTUNITY, Stage.WON, imported=True)])
    assert bodies("lead.won")[0]["data"]["imported"] is True


def test_a_reassigned_handoff_names_the_previous_and_the_new_ae(north, alices_lead):
    Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.HANDOFF_REASSIGNED])
    publish("handoff_changed", [HandoffChanged(5, alices_lead.pk, "reassigned", 4, note="Erin is on leave", extra={
        "to_user_id": 7, "previous_to_user_id": 2, "from_user_id": 3})])
    [body] = bodies("handoff.reassigned")
    assert (body["data"]["previous"], body["data"]["current"]) == ({"to_user_id": 2}, {"to_user_id": 7})
    assert (body["data"]["handoff_id"], body["data"]["by_id"], body["data"]["note"]) == (5, 4, "Erin is on leave")
