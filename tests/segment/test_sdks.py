"""The official Segment Python client and RudderStack's, pointed at the live test server."""

import pytest

from qualify.leads.models import Event, Lead
from qualify.scoring import tasks
from qualify.scoring.ranking import score_now

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _sdk_connections_closed():
    """Each SDK posts through one module-level requests Session whose keep-alive connection would
    hold a live-server thread, and with it that thread's database session, until the process ends:
    pytest-django then could not drop the test database ("being accessed by 2 other sessions").
    Closing the sessions ends those threads' requests, and Django's server closes their connections."""
    yield
    from segment.analytics import request as segment_request

    segment_request._session.close()
    try:
        from rudderstack.analytics import request as rudder_request
    except ImportError:
        return
    rudder_request._session.close()


def send_everything(client, errors):
    client.identify("u-42", {"email": "ana@initech.example", "firstName": "Ana", "lastName": "Ito", "title": "CTO"},
                    anonymous_id="anon-42")
    client.group("u-42", "org-initech", {"name": "Initech", "domain": "initech.example", "industry": "Software"})
    client.track("u-42", "Report Exported", {"format": "pdf"})
    client.page("u-42", name="Pricing", properties={"path": "/pricing", "url": "https://initech.example/pricing"})
    client.flush()
    assert errors == []


def assert_landed(team, scored):
    lead = Lead.objects.select_related("account").get(team=team, external_id="u-42")
    assert (lead.first_name, lead.email, lead.title) == ("Ana", "ana@initech.example", "CTO")
    assert (lead.account.name, lead.account.domain, lead.account.industry) == ("Initech", "initech.example", "Software")
    events = {e.type: e.properties for e in Event.objects.filter(lead=lead)}
    assert events["track"] == {"format": "pdf", "event": "Report Exported"}
    assert events["page_view"]["page_category"] == "pricing"
    for ids in scored:
        tasks.score_leads(ids)
    lead.refresh_from_db()
    assert lead.score_version_id is not None and score_now(lead) > 0
    return lead


def test_the_segment_client_lands_identify_group_track_and_page(live_server, north_source, pricing_rule, scored):
    from segment.analytics import Client

    errors = []
    client = Client(north_source.key, host=live_server.url, sync_mode=True, max_retries=0,
                    on_error=lambda e, batch: errors.append(e))
    send_everything(client, errors)
    assert_landed(north_source.team, scored)


def test_the_segment_client_with_gzip_and_a_wrong_key(live_server, north_source, pricing_rule, scored):
    from segment.analytics import Client
    from segment.analytics.request import APIError

    wrong = Client("qk_wrong", host=live_server.url, sync_mode=True, max_retries=0)
    with pytest.raises(APIError) as refused:  # sync mode raises what the server answered
        wrong.track("u-42", "Nope")
    assert (refused.value.status, refused.value.code) == (401, "invalid_write_key")
    errors = []
    client = Client(north_source.key, host=live_server.url, sync_mode=True, gzip=True, max_retries=0,
                    on_error=lambda e, batch: errors.append(e))
    send_everything(client, errors)
    assert_landed(north_source.team, scored)
    assert not Event.objects.filter(properties__event="Nope").exists()


def test_the_rudderstack_client_lands_the_same(live_server, south_source, pricing_rule, scored):
    Client = pytest.importorskip("rudderstack.analytics").Client

    errors = []
    client = Client(south_source.key, host=live_server.url, sync_mode=True, max_retries=0,  # gzip by default
                    on_error=lambda e, batch: errors.append(e))
    send_everything(client, errors)
    assert_landed(south_source.team, scored)
