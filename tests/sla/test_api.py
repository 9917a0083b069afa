"""SLA API: policies read-only, clocks per lead, escalations for managers, notifications."""

import pytest
from rest_framework.test import APIClient

from qualify.sla.models import Clock, SlaPolicy
from qualify.notifications.models import Notification, NotificationKind
from qualify.sla.sweep import sweep

from .conftest import at


@pytest.fixture
def api():
    return APIClient()


def as_(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def running(frozen, alices_lead, make_mql):
    make_mql(alices_lead)
    return Clock.objects.get(lead=alices_lead)


def test_policies_are_listed_with_their_ladders(api, alice):
    body = as_(api, alice).get("/api/sla-policies/").json()
    mql = next(p for p in body if p["kind"] == "mql_first_touch")
    assert mql["target_minutes"] == 60 and mql["is_default"]
    assert mql["steps"] == [
        {"after_minutes": 0, "action": "notify"},
        {"after_minutes": 60, "action": "reassign"},
        {"after_minutes": 240, "action": "return_to_pool"},
    ]


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_policies_are_read_only(api, rita, method):
    policy = SlaPolicy.objects.first()
    url = "/api/sla-policies/" if method == "post" else f"/api/sla-policies/{policy.pk}/"
    response = getattr(as_(api, rita), method)(url, {"target_minutes": 1}, format="json")
    assert response.status_code == 405
    policy.refresh_from_db()
    assert policy.target_minutes != 1


def test_another_teams_policy_is_hidden_as_if_it_did_not_exist(api, alice, rita, north, south):
    """A policy with no team is for every team; a team's is its own: another team's is a 404 with
    the very answer a missing id gets, and never listed."""
    ours = SlaPolicy.objects.create(name="North first touch 30 min", kind="mql_first_touch", team=north, target_minutes=30)
    theirs = SlaPolicy.objects.create(name="South first touch 30 min", kind="mql_first_touch", team=south, target_minutes=30)
    listed = {p["id"] for p in as_(api, alice).get("/api/sla-policies/").json()}
    assert ours.pk in listed and theirs.pk not in listed
    assert set(SlaPolicy.objects.filter(team__isnull=True).values_list("pk", flat=True)) <= listed
    answers = [api.get(f"/api/sla-policies/{pk}/") for pk in (theirs.pk, 99_999_999)]
    assert [r.status_code for r in answers] == [404, 404] and answers[0].content == answers[1].content
    assert as_(api, rita).get(f"/api/sla-policies/{theirs.pk}/").status_code == 200


def test_policies_need_authentication(api):
    assert api.get("/api/sla-policies/").status_code in (401, 403)


def test_clocks_of_a_lead(api, running, alice):
    body = as_(api, alice).get(f"/api/sla-clocks/?lead={running.lead_id}").json()
    [clock] = body["results"]
    assert clock["kind"] == "mql_first_touch" and clock["status"] == "open"
    assert clock["due_at"] == "2025-03-04T11:00:00Z" and clock["warn_at"] == "2025-03-04T10:45:00Z"


def test_clocks_of_someone_elses_lead_are_a_404(api, running, charlie):
    assert as_(api, charlie).get(f"/api/sla-clocks/?lead={running.lead_id}").status_code == 404
    assert as_(api, charlie).get(f"/api/sla-clocks/{running.pk}/").status_code == 404
    assert as_(api, charlie).get("/api/sla-clocks/").json()["results"] == []


def test_clock_list_query_count_is_fixed(api, frozen, alice, north, make_mql, django_assert_num_queries):
    from tests.factories import LeadFactory

    for _ in range(5):
        make_mql(LeadFactory(team=north, owner=alice))
    as_(api, alice)
    with django_assert_num_queries(2):  # memberships, page
        assert len(api.get("/api/sla-clocks/").json()["results"]) == 5


def test_escalations_for_managers(api, running, frozen, maria, alice, charlie):
    frozen.move_to(at(2025, 3, 4, 11, 0))
    sweep()
    body = as_(api, maria).get("/api/sla-escalations/").json()
    assert sorted(e["kind"] for e in body["results"]) == ["breach", "notify", "warning"]
    assert as_(api, alice).get("/api/sla-escalations/").status_code == 403
    assert as_(api, charlie).get("/api/sla-escalations/").status_code == 403


def test_an_escalation_names_the_step_that_superseded_it(api, running, frozen, maria):
    frozen.move_to(at(2025, 3, 5, 9, 0))  # a sweep down for hours: the pool wins over the reassignment
    sweep()
    rows = {e["kind"]: e for e in as_(api, maria).get("/api/sla-escalations/").json()["results"]}
    assert rows["reassign"]["superseded_by"] == rows["return_to_pool"]["id"]
    assert rows["return_to_pool"]["superseded_by"] is None and rows["breach"]["superseded_by"] is None


def test_notifications_list_and_mark_read(api, alice, bob):
    mine = Notification.objects.create(user=alice, kind=NotificationKind.SLA_WARNING, title="Mine")
    Notification.objects.create(user=bob, kind=NotificationKind.SLA_WARNING, title="Bob's")
    as_(api, alice)
    assert [n["title"] for n in api.get("/api/notifications/").json()["results"]] == ["Mine"]
    assert api.get("/api/notifications/unread-count/").json() == {"unread": 1}

    body = api.post(f"/api/notifications/{mine.pk}/read/").json()
    assert body["read_at"] is not None
    first_read = body["read_at"]
    assert api.post(f"/api/notifications/{mine.pk}/read/").json()["read_at"] == first_read
    assert api.get("/api/notifications/?unread=true").json()["results"] == []
    assert api.get("/api/notifications/unread-count/").json() == {"unread": 0}


def test_someone_elses_notification_is_a_404(api, alice, charlie):
    n = Notification.objects.create(user=alice, kind=NotificationKind.SLA_WARNING, title="Mine")
    assert as_(api, charlie).get(f"/api/notifications/{n.pk}/").status_code == 404
    assert as_(api, charlie).post(f"/api/notifications/{n.pk}/read/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_read_all(api, alice, bob):
    for _ in range(3):
        Notification.objects.create(user=alice, kind=NotificationKind.SLA_WARNING, title="x")
    Notification.objects.create(user=bob, kind=NotificationKind.SLA_WARNING, title="y")
    assert as_(api, alice).post("/api/notifications/read-all/").json() == {"marked": 3}
    assert Notification.objects.filter(read_at__isnull=True).count() == 1


def test_notification_list_query_count(api, alice, django_assert_num_queries):
    for i in range(20):
        Notification.objects.create(user=alice, kind=NotificationKind.SLA_WARNING, title=f"n{i}")
    as_(api, alice)
    with django_assert_num_queries(1):
        assert len(api.get("/api/notifications/").json()["results"]) == 20
