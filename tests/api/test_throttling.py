"""API throttles: per user, per anonymous address, and ingestion's own scope. The suite runs with
throttling off (tests/conftest.py); these tests set low rates."""

import pytest
from django.conf import settings as live
from rest_framework.test import APIClient

from qualify.api.throttling import IngestThrottle
from qualify.scoring.api import EventViewSet


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None, "ingest": None, **rates}}

    return set_rates


def test_production_defaults_throttle_users_anonymous_and_ingestion_apart():
    assert live.REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] == [
        "qualify.api.throttling.AnonThrottle", "qualify.api.throttling.UserThrottle",
    ]
    # Read before tests/conftest.py switches them off for the suite.
    from qualify import settings as module

    assert module.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] == {"anon": "60/min", "user": "600/min", "ingest": "1200/min"}
    assert EventViewSet.throttle_classes == [IngestThrottle]


def test_a_user_over_the_rate_gets_429_json_with_retry_after(rates, alice, bob):
    rates(user="2/min")
    api = APIClient()
    api.force_authenticate(alice)
    assert [api.get("/api/leads/").status_code for _ in range(2)] == [200, 200]
    response = api.get("/api/leads/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"].lower()
    # Counted per user: bob is not held back by alice's requests.
    api.force_authenticate(bob)
    assert api.get("/api/leads/").status_code == 200


def test_anonymous_requests_are_counted_per_address(rates, alice):
    rates(anon="2/min")
    one = APIClient(REMOTE_ADDR="10.1.1.1")
    statuses = [one.post("/api/token/", {"username": "alice", "password": "pw"}, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    other = APIClient(REMOTE_ADDR="10.1.1.2")
    assert other.post("/api/token/", {"username": "alice", "password": "pw"}, format="json").status_code == 200


def test_ingestion_has_its_own_rate_not_the_users(rates, alice):
    rates(user="1/min", ingest="3/min")
    api = APIClient()
    api.force_authenticate(alice)
    statuses = [api.post("/api/events/", [], format="json").status_code for _ in range(4)]
    assert statuses[:3] != [429] * 3 and 429 not in statuses[:3] and statuses[3] == 429
    # Ingestion did not use up the general allowance.
    assert api.get("/api/leads/").status_code == 200


def test_a_rate_of_none_switches_a_scope_off(rates, alice):
    rates(user="none")
    api = APIClient()
    api.force_authenticate(alice)
    assert all(api.get("/api/leads/").status_code == 200 for _ in range(5))
