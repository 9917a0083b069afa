"""API tokens: hashed, named, expiring; owners list, create and revoke them on a page and through the API."""

import datetime
import hashlib

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.tokens import issue_token, revoke_all_tokens
from tests.conftest import login


@pytest.fixture
def api():
    return APIClient()


def _with_key(key):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


def test_only_a_hash_and_a_prefix_of_the_key_are_stored(alice):
    token, key = issue_token(user=alice, name="sync")
    row = ApiToken.objects.get(pk=token.pk)
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key.startswith(row.prefix) and len(row.prefix) < 12 and key not in str(row.__dict__)
    assert row.expires_at - row.created_at == datetime.timedelta(days=90)


def test_a_token_authenticates_as_its_owner_with_token_or_bearer(alice, alices_lead):
    _, key = issue_token(user=alice, name="sync")
    assert _with_key(key).get("/api/leads/").status_code == 200
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert bearer.get("/api/leads/").status_code == 200


@pytest.mark.parametrize("state", ["unknown", "revoked", "expired"])
def test_unknown_revoked_or_expired_tokens_get_401(alice, state):
    token, key = issue_token(user=alice, name="sync")
    if state == "unknown":
        key += "x"
    elif state == "revoked":
        revoke_all_tokens(alice)
    else:
        ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    response = _with_key(key).get("/api/leads/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_last_used_is_written_at_most_once_a_minute(alice, django_assert_num_queries):
    token, key = issue_token(user=alice, name="sync")
    client = _with_key(key)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get("/api/tokens/")
        first = ApiToken.objects.get(pk=token.pk).last_used_at
        assert first == start
    with time_machine.travel(start + datetime.timedelta(seconds=30), tick=False):
        client.get("/api/tokens/")
        assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    with time_machine.travel(start + datetime.timedelta(seconds=61), tick=False):
        client.get("/api/tokens/")
        assert ApiToken.objects.get(pk=token.pk).last_used_at == start + datetime.timedelta(seconds=61)


def test_api_lists_creates_and_revokes_only_the_callers_tokens(api, alice, bob):
    bobs, _ = issue_token(user=bob, name="bob's")
    api.force_authenticate(alice)
    created = api.post("/api/tokens/", {"name": "crm sync", "expires_in_days": 7}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["key"].startswith(body["prefix"]) and body["name"] == "crm sync"
    listed = api.get("/api/tokens/").json()
    assert [t["name"] for t in listed] == ["crm sync"] and "key" not in listed[0]
    assert api.delete(f"/api/tokens/{bobs.pk}/").status_code == 404
    assert ApiToken.objects.get(pk=bobs.pk).revoked_at is None
    assert api.delete(f"/api/tokens/{body['id']}/").status_code == 204
    assert api.get("/api/tokens/").json() == []
    assert _with_key(body["key"]).get("/api/tokens/").status_code == 401


def test_api_revoke_all_leaves_other_peoples_tokens(api, alice, bob):
    issue_token(user=alice, name="a")
    issue_token(user=alice, name="b")
    _, bobs_key = issue_token(user=bob, name="bob's")
    api.force_authenticate(alice)
    assert api.post("/api/tokens/revoke-all/").json() == {"revoked": 2}
    assert _with_key(bobs_key).get("/api/tokens/").status_code == 200


def test_obtain_token_creates_a_named_expiring_token(api, alice, alices_lead):
    response = api.post("/api/token/", {"username": "alice", "password": "pw"}, format="json")
    assert response.status_code == 200
    key = response.json()["token"]
    token = ApiToken.objects.get(user=alice)
    assert token.name.startswith("Signed in through the API") and token.expires_at > timezone.now()
    assert _with_key(key).get("/api/leads/").status_code == 200
    named = api.post("/api/token/", {"username": "alice", "password": "pw", "name": "nightly"}, format="json")
    assert named.json()["name"] == "nightly"


def test_obtain_token_with_wrong_password_is_400_and_creates_nothing(api, alice):
    response = api.post("/api/token/", {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


def test_tokens_page_shows_a_new_key_once(client, alice):
    login(client, alice)
    response = client.post("/account/tokens/", {"name": "my script"}, follow=True)
    assert response.redirect_chain == [("/account/tokens/", 302)]
    key = response.context["new_key"]
    assert key and key in response.content.decode()
    token = ApiToken.objects.get(user=alice)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    again = client.get("/account/tokens/").content.decode()
    assert "my script" in again and key not in again and token.prefix in again


def test_tokens_page_without_a_name_creates_nothing(client, alice):
    login(client, alice)
    response = client.post("/account/tokens/", {"name": "  "}, follow=True)
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_tokens_page_lists_only_my_active_tokens(client, alice, bob, django_assert_num_queries):
    issue_token(user=alice, name="mine")
    issue_token(user=bob, name="bobs")
    gone, _ = issue_token(user=alice, name="old")
    revoke_all_tokens(bob)
    gone.revoked_at = timezone.now()
    gone.save()
    login(client, alice)
    with django_assert_num_queries(4):  # session, user, memberships (the menu), tokens
        body = client.get("/account/tokens/").content.decode()
    assert "mine" in body and "bobs" not in body and ">old<" not in body


def test_owner_revokes_a_token_and_an_outsider_gets_404(client, alice, charlie):
    token, key = issue_token(user=alice, name="mine")
    login(client, charlie)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None
    login(client, alice)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    assert _with_key(key).get("/api/tokens/").status_code == 401


def test_revoke_all_from_the_page(client, alice):
    issue_token(user=alice, name="a")
    issue_token(user=alice, name="b")
    login(client, alice)
    response = client.post("/account/tokens/revoke-all/", follow=True)
    assert "Revoked 2 tokens." in response.content.decode()
    assert not ApiToken.objects.active().exists()


def test_logging_out_revokes_nothing(client, alice):
    _, key = issue_token(user=alice, name="a")
    login(client, alice)
    client.post("/logout/")
    assert _with_key(key).get("/api/tokens/").status_code == 200


def test_revoke_requires_post(client, alice):
    token, _ = issue_token(user=alice, name="a")
    login(client, alice)
    assert client.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405


def test_admin_lists_every_token_and_revokes_with_the_action(client, rita, alice, bob):
    a, _ = issue_token(user=alice, name="alices")
    b, _ = issue_token(user=bob, name="bobs")
    rita.is_superuser = True
    rita.save()
    login(client, rita)
    body = client.get("/admin/accounts/apitoken/").content.decode()
    assert "alices" in body and "bobs" in body and a.key_hash not in body
    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [a.pk]})
    assert ApiToken.objects.get(pk=a.pk).revoked_at is not None
    assert ApiToken.objects.get(pk=b.pk).revoked_at is None


def test_user_menu_links_to_tokens_and_password(client, alice):
    body = login(client, alice).get("/account/tokens/").content.decode()
    assert 'href="/account/tokens/"' in body and 'href="/account/password/"' in body
