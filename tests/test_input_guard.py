"""NUL characters and oversize bodies get a clear answer and change nothing (issue 12)."""

from __future__ import annotations

import json

import pytest

from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import hand_off
from qualify.leads.models import Lead, Stage
from qualify.routing.models import Assignment
from tests.conftest import login
from tests.factories import LeadFactory
from tests.handoff.conftest import qualify_fully


@pytest.fixture
def pending(alice, erin, north):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    return hand_off(lead, to=erin, by=alice, next_step="Demo on Tuesday with the CFO")


def test_a_nul_in_the_accept_form_is_a_400_and_the_handoff_stays_pending(client, erin, pending):
    login(client, erin)
    response = client.post(f"/handoffs/{pending.pk}/accept/", {"note": "fine\x00"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()
    assert Handoff.objects.get(pk=pending.pk).status == HandoffStatus.PENDING


def test_a_nul_in_the_reassign_form_is_a_400_and_nothing_is_reassigned(client, maria, alice, bob, north):
    lead = LeadFactory(team=north, owner=alice)
    login(client, maria)
    response = client.post(f"/leads/{lead.pk}/reassign/", {"target": str(bob.pk), "why": "\x00"})
    assert response.status_code == 400
    assert Lead.objects.get(pk=lead.pk).owner == alice and not Assignment.objects.exists()


def test_a_nul_in_a_query_string_is_a_400(client, alice):
    login(client, alice)
    assert client.get("/leads/?q=ro%00bot").status_code == 400


def test_a_nul_in_json_is_a_json_400_and_nothing_is_created(client, alice, north):
    login(client, alice)
    before = Lead.objects.count()
    response = client.post("/api/leads/", json.dumps({"first_name": "Nul\u0000", "team": north.pk}),
                           content_type="application/json")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert Lead.objects.count() == before


@pytest.mark.parametrize("body", ['{"a":' * 3000 + "1" + "}" * 3000, "[" * 50_000 + "]" * 50_000])
def test_json_nested_too_deeply_is_a_json_400_even_before_signing_in(client, alice, north, body):
    """DRF's parser let RecursionError through: an 18 KB body was a 500 on every endpoint."""
    token = client.post("/api/token/", body, content_type="application/json")
    assert token.status_code == 400 and "nested too deeply" in token.json()["detail"]
    login(client, alice)
    before = Lead.objects.count()
    for url in ("/api/leads/", "/api/events/"):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400 and "nested too deeply" in response.json()["detail"], url
    assert Lead.objects.count() == before


def test_a_body_over_the_limit_is_a_json_413_that_states_it(client, alice, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    login(client, alice)
    response = client.post("/api/events/", json.dumps({"events": ["x" * 2000]}), content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {"detail": f"The request body is {len(json.dumps({'events': ['x' * 2000]})):,} bytes; the limit is 1,000 bytes."}


def test_a_full_event_batch_fits_the_default_limit(settings):
    """1,000 events with 4 KB of properties each, as documented, stay under the body limit."""
    from qualify.scoring.ingest import MAX_BATCH, MAX_PROPERTIES_BYTES

    event = {"lead_id": 123456789, "type": "page_view", "client_id": "c" * 64, "occurred_at": "2026-12-04T10:00:00+00:00",
             "properties": {"p": "x" * (MAX_PROPERTIES_BYTES - 10)}}
    body = json.dumps({"events": [event] * MAX_BATCH})
    assert len(body) < settings.DATA_UPLOAD_MAX_MEMORY_SIZE


@pytest.mark.parametrize(("url", "param"), [("/api/leads/", "owner"), ("/api/leads/", "account"), ("/api/leads/", "team"),
                                            ("/api/answers/", "lead"), ("/api/answers/", "criterion")])
def test_an_id_filter_in_exponent_form_is_a_400_not_a_huge_integer(client, alice, url, param):
    """`?owner=1e1000000` passed the filter's DecimalField and Django turned it into an integer of a
    million digits before querying: 30 s of one CPU per request, for anyone signed in. An id filter
    takes whole numbers only, like the API's other relation filters (qualify/api/filters.py)."""
    login(client, alice)
    for value in ("1e100000", "1.5"):
        response = client.get(url, {param: value})
        assert response.status_code == 400 and param in response.json(), (value, response.content[:200])


def test_the_queues_id_filters_take_whole_numbers_only(db):
    """The queue page and its export share the API's LeadFilter: the same refusal (an empty list)."""
    from qualify.leads.filters import LeadFilter

    for param in ("owner", "account", "team"):
        assert LeadFilter({param: "7"}, queryset=Lead.objects.all()).is_valid()
        assert not LeadFilter({param: "1e100000"}, queryset=Lead.objects.all()).is_valid()


@pytest.mark.parametrize(("method", "url", "body"), [
    ("post", "/api/leads/{lead}/move/", {"to": "\ud800"}),
    ("patch", "/api/leads/{lead}/", {"properties": {"\ud800": "x"}}),
    ("patch", "/api/leads/{lead}/", {"first_name": "Dana", "properties": {"budget_note": "\udfff"}}),
    ("post", "/api/token/", {"username": "alice\ud800", "password": "wrong"}),
])
def test_a_lone_surrogate_in_json_is_a_json_400_and_changes_nothing(client, alice, north, method, url, body):
    """JSON's "\\ud800" without its pair decodes to no character at all: a choice or key echoed in
    the error could not be encoded (a 500). Refused whole, before any field or sign-in sees it."""
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, first_name="Wanda")
    login(client, alice)
    response = getattr(client, method)(url.format(lead=lead.pk), json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and "surrogate" in response.json()["detail"]
    lead.refresh_from_db()
    assert (lead.stage, lead.first_name, lead.properties) == (Stage.WORKING, "Wanda", {})
