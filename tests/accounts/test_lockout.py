"""Sign-in lockout (django-axes): per user name and address together, on /login/ and POST /api/token/."""

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiToken


@pytest.fixture(autouse=True)
def _three_failures(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _fail_login(client, username="alice", addr="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR=addr)


def test_defaults_are_ten_failures_and_fifteen_minutes():
    from django.conf import settings as live  # the module's values, before the fixture's override

    assert live.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert live.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_login_locks_out_after_the_limit_with_a_page_and_retry_after(client, alice):
    assert [_fail_login(client).status_code for _ in range(2)] == [200, 200]
    response = _fail_login(client)
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    body = response.content.decode()
    assert "Too many failed sign-in attempts" in body and "Try again in 15 minutes" in body
    assert 'class="login card"' in body  # the app's layout, not axes' bare text


def test_locked_out_user_cannot_sign_in_even_with_the_right_password(client, alice):
    for _ in range(3):
        _fail_login(client)
    response = client.post("/login/", {"username": "alice", "password": "pw"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_user_name_and_address_together(client, alice, bob):
    for _ in range(3):
        _fail_login(client)
    # Same user from another address, and another user from the same address, still sign in.
    assert client.post("/login/", {"username": "alice", "password": "pw"}, REMOTE_ADDR="10.0.0.2").status_code == 302
    client.logout()
    assert client.post("/login/", {"username": "bob", "password": "pw"}, REMOTE_ADDR="10.0.0.1").status_code == 302


def test_a_success_before_the_limit_clears_the_count(client, alice):
    for _ in range(2):
        _fail_login(client)
    assert client.post("/login/", {"username": "alice", "password": "pw"}, REMOTE_ADDR="10.0.0.1").status_code == 302
    client.logout()
    assert [_fail_login(client).status_code for _ in range(2)] == [200, 200]


def test_api_token_endpoint_counts_failures_and_answers_json_429(alice):
    api = APIClient(REMOTE_ADDR="10.0.0.9")
    statuses = [api.post("/api/token/", {"username": "alice", "password": "wrong"}, format="json").status_code for _ in range(3)]
    assert statuses == [400, 400, 429]
    response = api.post("/api/token/", {"username": "alice", "password": "pw"}, format="json")
    assert response.status_code == 429
    assert response["Retry-After"] == str(15 * 60)
    assert "Too many failed sign-in attempts" in response.json()["detail"]
    assert not ApiToken.objects.exists()


def test_login_page_failures_count_toward_the_api_lockout(client, alice):
    for _ in range(3):
        _fail_login(client, addr="10.0.0.9")
    api = APIClient(REMOTE_ADDR="10.0.0.9")
    assert api.post("/api/token/", {"username": "alice", "password": "pw"}, format="json").status_code == 429
