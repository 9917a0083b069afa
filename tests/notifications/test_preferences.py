"""Each person chooses, per kind, in the app and by e-mail; the page and every writer respect it."""

import pytest

from qualify.leads.assignment import assign
from qualify.notifications import delivery
from qualify.sla.models import Clock
from qualify.notifications.models import EmailState, Notification, NotificationKind as K, Preference
from tests.conftest import login
from tests.factories import LeadFactory


def _assign(north, to, by):
    assign(LeadFactory(team=north, owner=None, first_name="Paula", last_name="Pool"), owner=to, by=by)


def test_defaults_are_in_app_for_all_and_email_for_all_but_warnings(alice):
    prefs = delivery.choices([alice.pk])
    assert delivery.wanted(prefs, alice.pk, K.ASSIGNED) == (True, True)
    assert delivery.wanted(prefs, alice.pk, K.SLA_WARNING) == (True, False)


def test_email_switched_off_keeps_the_in_app_notice(north, alice, maria):
    Preference.objects.create(user=alice, kind=K.ASSIGNED, in_app=True, email=False)
    _assign(north, alice, maria)
    assert Notification.objects.get(user=alice).email_state == EmailState.NONE


def test_email_only_is_hidden_in_the_app_and_still_mailed(north, alice, maria, mailbox, client):
    Preference.objects.create(user=alice, kind=K.ASSIGNED, in_app=False, email=True)
    _assign(north, alice, maria)
    note = Notification.objects.get(user=alice)
    assert not note.in_app and note.email_state == EmailState.PENDING
    assert delivery.unread_count(alice) == 0
    login(client, alice)
    assert "Paula Pool" not in client.get("/notifications/").content.decode()
    assert client.get("/api/notifications/").json()["results"] == []
    assert delivery.send_pending_emails() == 1 and "Paula Pool" in mailbox[0].subject


def test_both_switched_off_writes_nothing(north, alice, maria):
    Preference.objects.create(user=alice, kind=K.ASSIGNED, in_app=False, email=False)
    _assign(north, alice, maria)
    assert not Notification.objects.exists()


def test_sla_sweep_respects_preferences(north, alice, make_mql, frozen):
    import datetime

    from qualify.sla.sweep import sweep

    Preference.objects.create(user=alice, kind=K.SLA_WARNING, in_app=True, email=True)
    Preference.objects.create(user=alice, kind=K.SLA_BREACH, in_app=False, email=False)
    lead = make_mql(LeadFactory(team=north, owner=alice))
    frozen.move_to(Clock.objects.get(lead=lead).warn_at)  # a sweep on time for the warning, then the breach
    sweep()
    frozen.shift(datetime.timedelta(days=3))
    sweep()
    rows = {n.kind: n for n in Notification.objects.filter(user=alice)}
    assert K.SLA_BREACH not in rows
    assert rows[K.SLA_WARNING].email_state == EmailState.PENDING and rows[K.SLA_WARNING].in_app


def test_preferences_page_saves_every_kind(client, alice):
    login(client, alice)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="handoff_rejected-email"' in html and "Review follow-up" in html
    r = client.post("/notifications/preferences/", {"handoff_rejected-app": "on", "assigned-email": "on"})
    assert r.status_code == 302
    chosen = {p.kind: (p.in_app, p.email) for p in Preference.objects.filter(user=alice)}
    assert chosen[K.HANDOFF_REJECTED] == (True, False)
    assert chosen[K.ASSIGNED] == (False, True)
    assert chosen[K.SLA_BREACH] == (False, False)
    assert len(chosen) == len(K)


def test_preferences_are_ones_own(client, alice, bob):
    Preference.objects.create(user=bob, kind=K.ASSIGNED, in_app=False, email=False)
    login(client, alice)
    client.post("/notifications/preferences/", {"assigned-app": "on"})
    assert Preference.objects.get(user=bob, kind=K.ASSIGNED).in_app is False


@pytest.mark.parametrize("junk", [{"bogus-app": "on"}, {"assigned-app": "x" * 10_000}])
def test_unknown_fields_change_nothing_else(client, alice, junk):
    login(client, alice)
    assert client.post("/notifications/preferences/", junk).status_code == 302
    assert set(Preference.objects.filter(user=alice).values_list("kind", flat=True)) == set(K.values)
