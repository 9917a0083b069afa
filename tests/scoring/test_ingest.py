"""POST /api/events/: per-item results, idempotent retries, access, and the scoring it queues."""

import datetime

import pytest

from qualify.scoring.ranking import score_now
from django.utils import timezone

from qualify.leads.models import Event, Lead
from qualify.scoring import tasks
from tests.conftest import login
from tests.factories import AccountFactory, LeadFactory

URL = "/api/events/"


def item(client_id, lead=None, **kw):
    body = {"client_id": client_id, "type": "page_view", "occurred_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
            "properties": {"page_category": "pricing"}}
    if lead is not None:
        body["lead_id"] = lead.pk
    body.update(kw)
    return body


@pytest.mark.django_db
def test_good_items_land_and_bad_items_get_their_own_errors(client, alice, alices_lead, django_capture_on_commit_callbacks):
    batch = [
        item("a1", alices_lead),
        item("a2", alices_lead, type="telepathy"),
        item("a3", alices_lead, occurred_at="yesterday"),
        item("a4", None),
        item("", alices_lead),
        item("a6", alices_lead, occurred_at=(timezone.now() + datetime.timedelta(hours=2)).isoformat()),
        item("a7", email="DANA@acme.example"),
    ]
    with django_capture_on_commit_callbacks() as callbacks:
        response = login(client, alice).post(URL, batch, content_type="application/json")
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["duplicates"], body["errors"]) == (2, 0, 5)
    statuses = [r["status"] for r in body["results"]]
    assert statuses == ["created", "error", "error", "error", "error", "error", "created"]
    assert "type" in body["results"][1]["errors"]
    assert "occurred_at" in body["results"][2]["errors"]
    assert "lead" in body["results"][3]["errors"]
    assert "client_id" in body["results"][4]["errors"]
    assert body["results"][5]["errors"]["occurred_at"] == ["This is in the future."]
    assert body["results"][6]["lead"] == alices_lead.pk
    assert Event.objects.filter(lead=alices_lead).count() == 2
    assert len(callbacks) == 1  # one scoring task for the whole batch


@pytest.mark.django_db
def test_a_date_before_1970_is_refused_and_the_leads_pages_keep_working(client, alice, alices_lead):
    """Year 1 at +01:00 is 1 BC in UTC: PostgreSQL stores it, psycopg cannot read it back, and every
    page listing the lead's events answered 500 for good (events cannot be deleted)."""
    login(client, alice)
    batch = [item("bc", alices_lead, occurred_at="0001-01-01T00:00:00+01:00"),
             item("old", alices_lead, occurred_at="1969-12-31T23:59:59Z")]
    body = client.post(URL, batch, content_type="application/json").json()
    assert body["errors"] == 2 and not Event.objects.filter(lead=alices_lead).exists()
    assert body["results"][0]["errors"]["occurred_at"] == ["This is before 1970."]
    assert client.get(f"/leads/{alices_lead.pk}/").status_code == 200
    assert client.get(f"/api/scores/{alices_lead.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_retried_request_never_counts_twice(client, alice, alices_lead, django_capture_on_commit_callbacks):
    login(client, alice)
    batch = [item("r1", alices_lead), item("r2", alices_lead), item("r2", alices_lead)]
    first = client.post(URL, batch, content_type="application/json").json()
    assert (first["created"], first["duplicates"]) == (2, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        again = client.post(URL, batch, content_type="application/json").json()
    assert (again["created"], again["duplicates"], again["errors"]) == (0, 3, 0)
    assert Event.objects.filter(lead=alices_lead).count() == 2
    assert callbacks == []  # nothing new, nothing to score


@pytest.mark.django_db
def test_an_outsiders_lead_is_not_found_and_nothing_is_stored(client, charlie, alices_lead, south_lead):
    body = login(client, charlie).post(
        URL, [item("o1", alices_lead), item("o2", email=alices_lead.email), item("o3", south_lead)], content_type="application/json"
    ).json()
    assert [r["status"] for r in body["results"]] == ["error", "error", "created"]
    assert body["results"][0]["errors"] == {"lead": ["Lead not found."]}
    assert not Event.objects.filter(lead=alices_lead).exists()


@pytest.mark.django_db
def test_marketing_may_post_events_for_their_teams_leads(client, mark, alices_lead, pool_lead):
    body = login(client, mark).post(URL, [item("m1", alices_lead), item("m2", pool_lead)], content_type="application/json").json()
    assert body["created"] == 2


@pytest.mark.django_db
def test_external_id_and_email_are_narrowed_by_account_domain(client, rita, north, south):
    acme = AccountFactory(team=north, domain="acme.example")
    beta = AccountFactory(team=south, domain="beta.example")
    a = LeadFactory(team=north, account=acme, external_id="X-1", email="sam@both.example")
    b = LeadFactory(team=south, account=beta, external_id="X-1", email="sam@both.example")
    body = login(client, rita).post(URL, [
        item("e1", external_id="X-1"),
        item("e2", external_id="X-1", account_domain="Beta.example"),
        item("e3", email="sam@both.example", account_domain="acme.example"),
        item("e4", email="nobody@nowhere.example"),
    ], content_type="application/json").json()
    assert body["results"][0]["errors"]["lead"][0].startswith("2 leads match")
    assert body["results"][1]["lead"] == b.pk
    assert body["results"][2]["lead"] == a.pk
    assert body["results"][3]["errors"] == {"lead": ["Lead not found."]}


@pytest.mark.django_db
def test_an_oversized_or_malformed_batch_is_refused_whole(client, alice, alices_lead):
    login(client, alice)
    too_many = [item(f"big{i}", alices_lead) for i in range(1001)]
    response = client.post(URL, too_many, content_type="application/json")
    assert response.status_code == 400 and "At most 1000" in response.json()["non_field_errors"][0]
    assert client.post(URL, {"not": "a list"}, content_type="application/json").status_code == 400
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_anonymous_cannot_post(client, alices_lead):
    assert client.post(URL, [item("x", alices_lead)], content_type="application/json").status_code in (401, 403)


@pytest.mark.django_db
def test_the_queued_task_scores_the_lead_and_a_second_run_changes_nothing(client, alice, alices_lead, django_capture_on_commit_callbacks, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.score_leads, "delay", lambda ids: sent.append(ids))
    with django_capture_on_commit_callbacks(execute=True):
        login(client, alice).post(URL, [item("t1", alices_lead, type="demo_request", properties={})], content_type="application/json")
    assert sent == [[alices_lead.pk]]
    assert tasks.score_leads(sent[0]) == 1
    lead = Lead.objects.get(pk=alices_lead.pk)
    assert lead.score_version_id and score_now(lead) >= 30 and lead.stage == "mql"
    before = (lead.score_fit, lead.score_engagement, lead.score_watermark)
    tasks.score_leads(sent[0])  # redelivered
    lead.refresh_from_db()
    assert lead.score_watermark == before[2]
    assert lead.score_engagement == pytest.approx(before[1], rel=1e-6)
    assert lead.stage_changes.filter(to_stage="mql").count() == 1


@pytest.mark.django_db
def test_stored_events_answer_200_when_the_broker_is_down(client, alice, alices_lead, django_capture_on_commit_callbacks, monkeypatch, caplog):
    from kombu.exceptions import OperationalError

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.score_leads, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = login(client, alice).post(URL, [item("down-1", alices_lead)], content_type="application/json")
    assert response.status_code == 200 and response.json()["created"] == 1
    assert Event.objects.filter(client_id="down-1").exists()
    assert "the reconciler will score them" in caplog.text


@pytest.mark.django_db
def test_properties_nested_past_the_limit_are_that_items_error(client, alice, alices_lead):
    """The same depth rule as the Segment door (scoring.ingest.MAX_DEPTH): 32 levels land, 33 do not."""
    def nested(depth):
        return {"a": nested(depth - 1)} if depth > 1 else {}

    batch = [item("ok", alices_lead, properties=nested(32)), item("deep", alices_lead, properties=nested(33))]
    body = login(client, alice).post(URL, batch, content_type="application/json").json()
    assert [r["status"] for r in body["results"]] == ["created", "error"]
    assert body["results"][1]["errors"] == {"properties": ["Nested more than 32 levels deep."]}
    assert list(Event.objects.values_list("client_id", flat=True)) == ["ok"]
