"""`next=` sends a form back only to this site (qualify/redirects.py)."""

import pytest
from django.test import RequestFactory

from qualify.leads.models import Touch, TouchKind, TouchOutcome
from qualify.redirects import safe_next
from tests.conftest import login

OFF_SITE = ["https://evil.example/", "//evil.example/x", "http://evil.example", "javascript:alert(1)", "/\\evil.example", "https://testserver.evil.example/"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_off_site_targets_fall_back(target):
    request = RequestFactory().post("/x/", {"next": target})
    assert safe_next(request, "/fallback/") == "/fallback/"


@pytest.mark.parametrize("target", ["/queue/?stage=mql", "/leads/5/", "http://testserver/metrics/"])
def test_same_site_targets_are_kept(target):
    assert safe_next(RequestFactory().post("/x/", {"next": target}), "/fallback/") == target


def test_an_https_page_does_not_go_back_to_plain_http():
    request = RequestFactory().post("/x/", {"next": "http://testserver/queue/"}, secure=True)
    assert safe_next(request, "/fallback/") == "/fallback/"


def test_touch_goes_back_to_a_same_site_next(client, alice, alices_lead):
    response = login(client, alice).post(
        f"/leads/{alices_lead.pk}/touch/",
        {"kind": TouchKind.CALL, "outcome": TouchOutcome.CONNECTED, "next": "/queue/?stage=mql"},
    )
    assert response.status_code == 302 and response.url == "/queue/?stage=mql"
    assert Touch.objects.filter(lead=alices_lead).count() == 1


@pytest.mark.parametrize("target", OFF_SITE)
def test_touch_refuses_an_off_site_next(client, alice, alices_lead, target):
    response = login(client, alice).post(
        f"/leads/{alices_lead.pk}/touch/", {"kind": TouchKind.CALL, "outcome": TouchOutcome.CONNECTED, "next": target}
    )
    assert response.status_code == 302 and response.url == f"/leads/{alices_lead.pk}/"


def test_touch_row_forms_do_not_carry_an_off_site_next(client, alice, alices_lead):
    """htmx re-renders the row with `next` in its forms: an off-site one must not come back."""
    response = login(client, alice).post(
        f"/leads/{alices_lead.pk}/touch/", {"kind": "", "next": "https://evil.example/"}, HTTP_HX_REQUEST="true"
    )
    assert "evil.example" not in response.content.decode()


def test_metrics_refresh_refuses_an_off_site_next(client, maria):
    response = login(client, maria).post("/metrics/refresh/", {"next": "//evil.example/"})
    assert response.status_code == 302 and response.url == "/metrics/"


def test_metrics_refresh_goes_back_to_the_page_it_came_from(client, maria):
    response = login(client, maria).post("/metrics/refresh/", {"next": "/metrics/velocity/?team=1"})
    assert response.url == "/metrics/velocity/?team=1"
