"""An account's domain is stored as the bare host whatever door it came through, and a second
account with the same domain in a team is refused naming (on pages: linking) the first."""

from __future__ import annotations

import pytest
from django.urls import reverse

from qualify.dedupe.rules import account_domain
from qualify.errors import DomainError
from qualify.leads import records
from qualify.leads.models import Account
from tests.conftest import login
from tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

PASTED = [
    ("https://www.daniel.com/", "daniel.com"),
    ("HTTP://WWW.Daniel.COM:8080/about?x=1#top", "daniel.com"),
    ("  daniel.com  ", "daniel.com"),
    ("www.daniel.co.uk", "daniel.co.uk"),
    ("shop.daniel.com/", "shop.daniel.com"),
    ("münchen.example", "münchen.example"),
    ("", ""),
]


@pytest.mark.parametrize(("typed", "stored"), PASTED)
def test_a_pasted_address_is_cut_to_the_host_the_duplicates_finder_keys_on(typed, stored):
    assert records.clean_domain(typed) == stored
    assert account_domain(typed) == stored  # dedupe's key: a stored domain is its own key


@pytest.mark.parametrize("garbage", ["not a domain", "daniel", "https://", "daniel..com", "-daniel.com", "x@daniel.com",
                                     "daniel.com-", "a" * 200 + ".com"])
def test_what_is_no_domain_is_refused_on_the_domain_field(garbage):
    with pytest.raises(DomainError) as refused:
        records.clean_domain(garbage)
    assert refused.value.field == "domain" and "is not a domain: enter the company's web address" in refused.value.message


def test_the_verbs_store_the_host_and_refuse_the_teams_second_account_naming_it(north, south, alice):
    account = records.create_account(by=alice, team=north, name="Daniel Ltd", domain="https://www.daniel.com/")
    assert Account.objects.get(pk=account.pk).domain == "daniel.com"
    with pytest.raises(DomainError) as refused:
        records.create_account(by=alice, team_id=north.pk, name="Daniel again", domain="http://daniel.com")
    assert refused.value.message == f"This team already has an account with this domain: Daniel Ltd (#{account.pk})."
    assert records.create_account(by=alice, team=south, name="Daniel EMEA", domain="daniel.com").domain == "daniel.com"
    other = records.create_account(by=alice, team=north, name="Other", domain="")
    with pytest.raises(DomainError):
        records.edit_account(other, by=alice, domain="www.daniel.com")
    assert records.edit_account(other, by=alice, domain="https://other.example/") == {"domain"}
    assert Account.objects.get(pk=other.pk).domain == "other.example"
    # The same host written another way is no change.
    assert records.edit_account(account, by=alice, domain="WWW.daniel.com/") == set()


def test_the_new_account_page_links_the_account_that_has_the_domain(client, alice, north):
    daniel = AccountFactory(team=north, name="Daniel Ltd", domain="daniel.com")
    login(client, alice)
    response = client.post(reverse("leads:account_create"),
                           {"name": "Daniel Ltd", "domain": "https://www.daniel.com/", "team": north.pk, "form_token": "d1"})
    page = response.content.decode()
    assert response.status_code == 400
    link = f'This team already has an account with this domain: <a href="{daniel.get_absolute_url()}">Daniel Ltd</a>.'
    assert f"<li>Domain: {link}</li>" in page and f'<div class="error small" id="id_domain_error">{link}</div>' in page
    assert Account.objects.count() == 1


def test_the_account_pages_store_the_host_and_explain_garbage(client, alice, north):
    login(client, alice)
    response = client.post(reverse("leads:account_create"),
                           {"name": "Globex", "domain": "https://www.Globex.example/contact", "team": north.pk, "form_token": "g1"})
    globex = Account.objects.get(name="Globex")
    assert response.status_code == 302 and globex.domain == "globex.example"
    response = client.post(reverse("leads:account_edit", args=[globex.pk]), {"name": "Globex", "domain": "globex"})
    assert response.status_code == 400
    assert "Domain: “globex” is not a domain: enter the company&#x27;s web address, like example.com." in response.content.decode()
    globex.refresh_from_db()
    assert globex.domain == "globex.example"


def test_the_api_stores_the_host_and_names_the_account_that_has_it(client, alice, north):
    daniel = AccountFactory(team=north, name="Daniel Ltd", domain="daniel.com")
    login(client, alice)
    response = client.post("/api/accounts/", {"name": "Daniel", "domain": "https://www.daniel.com/", "team": north.pk},
                           content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"domain": [f"This team already has an account with this domain: Daniel Ltd (#{daniel.pk})."]}
    created = client.post("/api/accounts/", {"name": "Globex", "domain": "https://www.globex.example/", "team": north.pk},
                          content_type="application/json")
    assert created.status_code == 201 and created.json()["domain"] == "globex.example"
    patched = client.patch(f"/api/accounts/{created.json()['id']}/", {"domain": "http://www.initech.example:443/"},
                           content_type="application/json")
    assert patched.status_code == 200 and patched.json()["domain"] == "initech.example"
    refused = client.patch(f"/api/accounts/{created.json()['id']}/", {"domain": "initech"}, content_type="application/json")
    assert refused.status_code == 400 and "is not a domain" in refused.json()["domain"][0]
