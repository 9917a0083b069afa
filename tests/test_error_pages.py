"""403, 404 and 500 pages: in the app's layout, with a way on and a sentence saying why. The 500
page renders with no request and no database (it is what people see when the database is down)."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.views.defaults import server_error

from tests.conftest import login


@pytest.fixture
def production_errors(settings):
    settings.DEBUG = False  # Django shows its technical pages instead when DEBUG is on


def test_unknown_page_is_a_404_in_the_layout_with_navigation(client, alice, production_errors):
    response = login(client, alice).get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert "We can't find that page" in html
    assert 'class="topbar"' in html and 'href="/queue/"' in html
    assert "/no-such-page/" in html


def test_outsider_gets_the_same_404_for_another_teams_lead(client, charlie, alices_lead, production_errors):
    response = login(client, charlie).get(f"/leads/{alices_lead.pk}/")

    assert response.status_code == 404
    assert "belongs to a team you are not on" in response.content.decode()
    assert alices_lead.full_name not in response.content.decode()


def test_signed_out_404_offers_sign_in(client, db, production_errors):
    html = client.get("/no-such-page/").content.decode()
    assert "Sign in" in html and 'class="topbar"' not in html


def test_403_says_why_in_the_layout(client, alice, alices_lead, production_errors):
    response = login(client, alice).post(f"/leads/{alices_lead.pk}/reassign/", {"target": "pool"})

    assert response.status_code == 403
    html = response.content.decode()
    assert "You can't do that here" in html
    assert "Only the team&#x27;s managers can reassign leads." in html
    assert 'class="topbar"' in html


def test_500_page_renders_without_request_or_database():
    # No db fixture: any query here would fail the test.
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html
    assert 'href="/queue/"' in html


def test_500_handler_uses_our_page(production_errors):
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()
