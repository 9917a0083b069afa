"""A database outage answers API clients with a JSON 503 and Retry-After, not an HTML 500."""

import pytest
from django.db import InterfaceError, OperationalError
from rest_framework.test import APIClient

from qualify.api.errors import DATABASE_RETRY_AFTER
from qualify.leads import api as leads_api


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_database_outage_is_a_json_503_with_retry_after(alice, monkeypatch, error):
    def database_down(self, *args, **kwargs):
        raise error("connection to server at \"127.0.0.1\", port 5432 failed: Connection refused")

    monkeypatch.setattr(leads_api.LeadViewSet, "list", database_down)
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(alice)
    response = api.get("/api/leads/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == str(DATABASE_RETRY_AFTER)
    assert response.json()["code"] == "database_unavailable"


def test_other_errors_still_raise(alice, monkeypatch):
    def bug(self, *args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(leads_api.LeadViewSet, "list", bug)
    api = APIClient()
    api.force_authenticate(alice)
    with pytest.raises(ZeroDivisionError):
        api.get("/api/leads/")
