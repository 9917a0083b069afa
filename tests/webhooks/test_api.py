"""The delivery log and replay through the API and admin: RevOps admins only, read-only."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Role
from qualify.webhooks import delivery
from qualify.notifications.models import Notification, NotificationKind
from qualify.webhooks.models import Delivery, DeliveryStatus, Endpoint, EventType
from tests.conftest import login
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_rows(north, alices_lead):
    endpoint = Endpoint.objects.create(team=north, url="http://127.0.0.1:9/", events=[EventType.LEAD_MQL])
    old = timezone.now() - datetime.timedelta(days=2)
    rows = Delivery.objects.bulk_create([
        Delivery(endpoint=endpoint, event="lead.mql", msg_id=f"msg_{i}", body='{"type":"lead.mql"}', lead_id=alices_lead.pk,
                 created_at=old + datetime.timedelta(hours=i), status=status, attempts=3, response_code=code, latency_ms=12)
        for i, (status, code) in enumerate([(DeliveryStatus.DELIVERED, 204), (DeliveryStatus.FAILED, 500),
                                            (DeliveryStatus.FAILED, 500), (DeliveryStatus.PENDING, None)])
    ])
    return endpoint, rows


def test_admins_read_the_delivery_log(client, rita, log_rows, django_assert_max_num_queries):
    endpoint, rows = log_rows
    login(client, rita)
    with CaptureQueriesContext(connection) as queries:
        data = client.get(f"/api/webhook-deliveries/?endpoint={endpoint.pk}").json()
    assert [d["id"] for d in data["results"]] == [r.pk for r in reversed(rows)]
    # Sessions, user and memberships, then the page: the same count for any number of rows.
    Delivery.objects.bulk_create([Delivery(endpoint=endpoint, event="lead.mql", msg_id=f"msg_more_{i}", body="{}")
                                  for i in range(20)])
    with django_assert_max_num_queries(len(queries)):
        client.get(f"/api/webhook-deliveries/?endpoint={endpoint.pk}")
    first = data["results"][-1]
    assert (first["status"], first["response_code"], first["latency_ms"], first["attempts"]) == ("delivered", 204, 12, 3)
    assert first["payload"] == {"type": "lead.mql"}
    [listed] = login(client, rita).get("/api/webhook-endpoints/").json()
    assert listed["url"] == endpoint.url and "secret" not in listed


def test_reps_and_managers_cannot_see_webhooks(client, alice, maria, log_rows):
    for user in (alice, maria):
        assert login(client, user).get("/api/webhook-deliveries/").status_code == 403
        assert login(client, user).get("/api/webhook-endpoints/").status_code == 403
        assert login(client, user).post(f"/api/webhook-deliveries/{log_rows[1][1].pk}/replay/").status_code == 403


def test_the_log_is_read_only(client, rita, log_rows):
    assert login(client, rita).delete(f"/api/webhook-deliveries/{log_rows[1][0].pk}/").status_code == 405
    assert login(client, rita).post("/api/webhook-endpoints/", {"url": "http://x"}).status_code == 405


def test_replay_one_delivery_keeps_its_webhook_id(client, rita, log_rows):
    failed = log_rows[1][1]
    response = login(client, rita).post(f"/api/webhook-deliveries/{failed.pk}/replay/")
    assert response.json() == {"replayed": [failed.pk]}
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.msg_id) == ("pending", 0, "msg_1")
    assert failed.replayed_at is not None and failed.next_attempt_at <= timezone.now()


def test_replay_of_a_delivery_that_does_not_exist_is_a_404(client, rita, log_rows):
    for pk in ("999999", "abc"):
        for url in (f"/api/webhook-deliveries/{pk}/replay/", f"/api/webhook-endpoints/{pk}/replay/"):
            assert login(client, rita).post(url).status_code == 404, url
    assert not Delivery.objects.filter(replayed_at__isnull=False).exists()


def test_replay_a_time_range_skips_pending_rows(client, rita, log_rows):
    endpoint, rows = log_rows
    since, until = rows[0].created_at, rows[3].created_at + datetime.timedelta(minutes=1)
    response = login(client, rita).post(f"/api/webhook-endpoints/{endpoint.pk}/replay/",
                                        {"since": since.isoformat(), "until": until.isoformat()}, content_type="application/json")
    assert sorted(response.json()["replayed"]) == [rows[0].pk, rows[1].pk, rows[2].pk]
    assert login(client, rita).post(f"/api/webhook-endpoints/{endpoint.pk}/replay/",
                                    {"since": until.isoformat(), "until": since.isoformat()}, content_type="application/json").status_code == 400


def test_replay_skips_disabled_endpoints(log_rows):
    endpoint, rows = log_rows
    Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
    assert delivery.replay(Delivery.objects.all()) == []


def test_admin_action_replays_and_the_log_is_not_editable(client, north, log_rows):
    endpoint, rows = log_rows
    boss = UserFactory.with_role(Role.REVOPS, north, username="boss", is_staff=True, is_superuser=True)
    login(client, boss)
    assert client.get("/admin/webhooks/delivery/").status_code == 200
    assert client.get(f"/admin/webhooks/endpoint/{endpoint.pk}/change/").status_code == 200
    response = client.post("/admin/webhooks/delivery/", {"action": "replay", "_selected_action": [rows[1].pk, rows[2].pk]})
    assert response.status_code == 302
    assert set(Delivery.objects.filter(status="pending").values_list("pk", flat=True)) == {rows[1].pk, rows[2].pk, rows[3].pk}
    assert client.post(f"/admin/webhooks/delivery/{rows[0].pk}/change/", {"status": "pending"}).status_code == 403


def test_openapi_schema_documents_every_event(client, rita):
    schema = login(client, rita).get("/api/schema/?format=json").json()
    assert set(schema["webhooks"]) == set(EventType.values)
    mql = schema["webhooks"]["lead.mql"]["post"]
    assert "webhook-signature" in mql["description"]
    example = next(iter(mql["requestBody"]["content"]["application/json"]["examples"].values()))["value"]
    assert example["data"]["previous"] == {"stage": "new"} and example["version"] == 1


def test_replay_of_more_than_the_limit_is_refused_and_changes_nothing(client, rita, north, log_rows, monkeypatch):
    endpoint, rows = log_rows
    monkeypatch.setattr(delivery, "REPLAY_LIMIT", 2, raising=False)
    before = list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts", "replayed_at"))
    since, until = rows[0].created_at - datetime.timedelta(days=3650), timezone.now()
    response = login(client, rita).post(f"/api/webhook-endpoints/{endpoint.pk}/replay/",
                                        {"since": since.isoformat(), "until": until.isoformat()}, content_type="application/json")
    assert response.status_code == 400
    assert "at most 2 " in response.json()["non_field_errors"][0]
    assert list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts", "replayed_at")) == before
    # The admin actions say so too, and change nothing.
    boss = UserFactory.with_role(Role.REVOPS, north, username="boss", is_staff=True, is_superuser=True)
    login(client, boss)
    Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=timezone.now())
    before = list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts", "replayed_at"))
    for url, action, selected in [("/admin/webhooks/delivery/", "replay", [r.pk for r in rows]),
                                  ("/admin/webhooks/endpoint/", "replay_last_day", [endpoint.pk])]:
        response = client.post(url, {"action": action, "_selected_action": selected}, follow=True)
        assert "at most 2 " in response.content.decode()
    assert list(Delivery.objects.order_by("pk").values_list("pk", "status", "attempts", "replayed_at")) == before


def test_replay_within_the_limit_replays_them_all(log_rows, monkeypatch):
    endpoint, rows = log_rows
    monkeypatch.setattr(delivery, "REPLAY_LIMIT", 3, raising=False)
    assert sorted(delivery.replay(Delivery.objects.all())) == [rows[0].pk, rows[1].pk, rows[2].pk]


def test_a_password_in_the_endpoint_url_is_never_shown(client, north, rita, log_rows, caplog):
    endpoint, rows = log_rows
    real = "https://hooks:s3cr3t-pw@hooks.example.com/x?team=1"
    Endpoint.objects.filter(pk=endpoint.pk).update(url=real)
    endpoint.refresh_from_db()
    masked = "https://hooks:****@hooks.example.com/x?team=1"
    assert str(endpoint) == masked and endpoint.url == real  # delivery still has the real one
    [listed] = login(client, rita).get("/api/webhook-endpoints/").json()
    assert listed["url"] == masked
    boss = UserFactory.with_role(Role.REVOPS, north, username="boss", is_staff=True, is_superuser=True)
    login(client, boss)
    for page in ("/admin/webhooks/endpoint/", "/admin/webhooks/delivery/", f"/admin/webhooks/delivery/{rows[0].pk}/change/"):
        html = client.get(page).content.decode()
        assert "s3cr3t-pw" not in html and masked in html, page
    delivery.disable(endpoint, reason="The receiver answered 410 Gone")
    note = Notification.objects.get(kind=NotificationKind.WEBHOOK_DISABLED, user=boss)
    assert note.title == f"Webhook endpoint disabled: {masked}"
    assert "s3cr3t-pw" not in caplog.text


def test_a_bare_token_as_the_url_user_is_masked_too():
    assert Endpoint(url="https://tok_123@hooks.example.com/").shown_url == "https://****@hooks.example.com/"
    assert Endpoint(url="https://hooks.example.com:8443/a").shown_url == "https://hooks.example.com:8443/a"
