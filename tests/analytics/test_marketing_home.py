"""Marketing lands on their own page (their sources' funnel and handoff feedback), not on a queue
they never work; everyone else lands on the lead queue."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.analytics.test_views import RANGE
from tests.conftest import login


def test_marketing_lands_on_their_sources_page(client, refreshed, mark):
    response = login(client, mark).get("/")
    assert response.status_code == 302 and response["Location"] == "/metrics/marketing/"


@pytest.mark.parametrize("who", ["alice", "erin", "maria", "rita"])
def test_everyone_else_lands_on_the_queue(client, db, who, request):
    response = login(client, request.getfixturevalue(who)).get("/")
    assert response.status_code == 302 and response["Location"] == "/queue/"


def test_sources_page_shows_funnel_by_source_and_handoff_feedback(client, refreshed, mark):
    login(client, mark)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/metrics/marketing/?{RANGE}")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Your sources: funnel and handoff feedback" in html
    assert "Funnel by source" in html and "Inbound" in html and "Outbound" in html
    # North's handoffs: 3 from inbound, 2 accepted and 1 rejected for "Not enough discovery".
    assert "Handoff acceptance by source" in html and "66.7%" in html
    assert "Not enough discovery" in html
    assert "Why AEs reject your leads" in html
    assert len(queries) < 25  # a handful of grouped queries over the rollups, whatever the data


def test_sources_page_keeps_to_the_marketers_teams(client, refreshed, mark, south):
    assert login(client, mark).get(f"/metrics/marketing/?{RANGE}&team={south.pk}").status_code == 404
