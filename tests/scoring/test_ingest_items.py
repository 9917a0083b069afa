"""POST /api/events/: every item is judged alone, and client ids are unique per team."""

import json

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from qualify.leads.models import Event
from tests.conftest import login
from tests.factories import LeadFactory
from tests.scoring.test_ingest import URL, item


@pytest.mark.django_db
def test_each_bad_shape_gets_its_own_error_and_the_good_items_land(client, alice, alices_lead):
    bad = [
        ({**item("b-type", alices_lead), "type": {}}, "type"),
        ({**item("b-super"), "lead_id": "²"}, "lead_id"),
        ({**item("b-huge"), "lead_id": 10**30}, "lead_id"),
        ({**item("b-huge-str"), "lead_id": "9" * 40}, "lead_id"),
        (item("b-nul\x00", alices_lead), "client_id"),
        (item("b-nul-type", alices_lead, type="page_view\x00"), "type"),
        (item("b-nul-prop", alices_lead, properties={"path": "/pricing\x00"}), "properties"),
        (item("b-nul-key", alices_lead, properties={"pa\x00th": "/x"}), "properties"),
        (item("b-nul-email", email="dana\x00@acme.example"), "email"),
        (item("b-nul-ext", external_id="X\x00"), "external_id"),
        (item("b-inf", alices_lead, properties={"n": float("inf")}), "properties"),
        (item("b-date", alices_lead, occurred_at="2026-13-45T99:00:00Z"), "occurred_at"),
        (item(["a", "list"], alices_lead), "client_id"),
        (5, "non_field_errors"),
        (["a", "list"], "non_field_errors"),
        (None, "non_field_errors"),
    ]
    batch = []
    for i, (raw, _) in enumerate(bad):
        batch += [item(f"good-{i}", alices_lead, properties={"n": 10**30}), raw]
    # JSON text has no infinity: send "1e999", which parses as one.
    text = json.dumps(batch, allow_nan=True).replace("Infinity", "1e999")
    response = login(client, alice).post(URL, text, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["errors"]) == (len(bad), len(bad))
    for i, (_, key) in enumerate(bad):
        good, wrong = body["results"][2 * i], body["results"][2 * i + 1]
        assert good["status"] == "created", good
        assert wrong["status"] == "error" and key in wrong["errors"], (i, wrong)
    assert Event.objects.filter(lead=alices_lead).count() == len(bad)
    assert Event.objects.filter(properties__n=10**30).count() == len(bad)


@pytest.mark.django_db
def test_a_lone_surrogate_is_that_items_error_and_the_good_items_land(client, alice, alices_lead):
    """JSON may carry half a surrogate pair ("\\ud800"): no character, which neither UTF-8 nor jsonb
    stores. Before, one anywhere made the whole batch a 500 (psycopg's UnicodeEncodeError, or
    PostgreSQL refusing the jsonb). A whole pair (an emoji) is one character and lands."""
    bad = [
        (item("b-sur\ud800", alices_lead), "client_id"),
        (item("b-sur-prop", alices_lead, properties={"path": "/pricing\udfff"}), "properties"),
        (item("b-sur-key", alices_lead, properties={"pa\udc00th": "/x"}), "properties"),
        (item("b-sur-deep", alices_lead, properties={"a": [{"b": "x\ud83d"}]}), "properties"),
        (item("b-sur-email", email="dana\ud800@acme.example"), "email"),
        (item("b-sur-ext", external_id="X\udbff"), "external_id"),
    ]
    batch = [item("good-emoji", alices_lead, properties={"title": "Pricing \U0001F600"})]
    batch += [raw for raw, _ in bad]
    response = login(client, alice).post(URL, json.dumps(batch), content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["errors"]) == (1, len(bad))
    for result, (_, key) in zip(body["results"][1:], bad):
        assert result["status"] == "error" and "surrogate" in result["errors"][key][0], result
    assert Event.objects.get(client_id="good-emoji").properties == {"title": "Pricing \U0001F600"}


@pytest.mark.django_db
def test_another_teams_client_id_is_not_a_duplicate(client, alice, charlie, alices_lead, south_lead):
    north_says = login(client, alice).post(URL, [item("web-1", alices_lead)], content_type="application/json").json()
    south_says = login(client, charlie).post(URL, [item("web-1", south_lead)], content_type="application/json").json()
    assert north_says["created"] == south_says["created"] == 1
    again = client.post(URL, [item("web-1", south_lead)], content_type="application/json").json()
    assert (again["created"], again["duplicates"]) == (0, 1)
    assert Event.objects.filter(client_id="web-1").count() == 2
    assert set(Event.objects.values_list("team_id", flat=True)) == {alices_lead.team_id, south_lead.team_id}


@pytest.mark.django_db
def test_one_batch_for_two_teams_keeps_both_ids_and_counts_a_repeat_once(client, rita, alices_lead, south_lead):
    body = login(client, rita).post(
        URL, [item("same", alices_lead), item("same", south_lead), item("same", alices_lead)], content_type="application/json"
    ).json()
    assert [r["status"] for r in body["results"]] == ["created", "created", "duplicate"]


@pytest.mark.django_db
def test_a_batch_of_a_thousand_is_one_insert_whatever_the_teams(client, rita, north, south, monkeypatch):
    leads = [LeadFactory(team=north) for _ in range(5)] + [LeadFactory(team=south) for _ in range(5)]
    batch = [item(f"n{i}", leads[i % 10]) for i in range(1000)]
    statements = []
    real = psycopg.Cursor.execute

    def spy(self, query, *args, **kwargs):
        statements.append(" ".join(str(query).split()))
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    login(client, rita)
    with CaptureQueriesContext(connection) as django_queries:
        body = client.post(URL, batch, content_type="application/json").json()
    assert body["created"] == 1000
    # One FOR SHARE lock that also reads the teams, one INSERT for the batch.
    assert len([s for s in statements if s.startswith("INSERT INTO leads_event")]) == 1
    assert len([s for s in statements if s.endswith("FOR SHARE")]) == 1
    lookups = [q["sql"] for q in django_queries.captured_queries if "leads_lead" in q["sql"]]
    assert len(lookups) == 1  # the visible-lead lookup by id: nothing per event
