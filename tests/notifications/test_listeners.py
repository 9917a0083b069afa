"""Each kind is written once, with the change, and e-mailed after commit; rollbacks tell nobody."""

import datetime

import pytest
from django.db import transaction

from qualify.handoff.workflow import accept, hand_off, reject
from qualify.leads.assignment import assign
from qualify.leads.changes import HandoffChanged, publish
from qualify.leads.models import DisqualifyReason
from qualify.notifications.delivery import send_pending_emails
from qualify.sla.models import Clock
from qualify.notifications.models import EmailState, Notification, NotificationKind as K
from tests.factories import LeadFactory
from tests.notifications.conftest import NEXT

NOTE = "Spoke to them: the contact cannot sign anything"


def kinds(user):
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


def test_handoff_received_tells_the_ae_once_and_mails_after_commit(qualified_lead, alice, erin, kicks, mailbox,
                                                                     django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
        assert kicks == []  # nothing is sent before the commit
    assert kinds(erin) == [K.HANDOFF_RECEIVED] and kinds(alice) == []
    note = Notification.objects.get(user=erin)
    assert note.url == f"/handoffs/{h.pk}/" and NEXT in note.body and note.email_state == EmailState.PENDING
    assert kicks == ["notifications.send_emails"] and callbacks
    assert send_pending_emails() == 1 and send_pending_emails() == 0  # the worker sends each once
    assert mailbox[0].to == [erin.email] and mailbox[0].subject == "[Qualify] Handoff received: Wanda Worked"
    assert NEXT in mailbox[0].body and f"/handoffs/{h.pk}/" in mailbox[0].body


def test_accept_tells_the_sdr_and_not_the_ae_who_took_it(qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    accept(h, by=erin, note="Booked the demo")
    assert kinds(alice) == [K.HANDOFF_ACCEPTED]
    assert kinds(erin) == [K.HANDOFF_RECEIVED]  # the owner change to erin was her own doing
    assert "Booked the demo" in Notification.objects.get(user=alice).body


def test_reject_tells_the_sdr_the_reason_and_note_once(qualified_lead, alice, erin, mailbox):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    reason = DisqualifyReason.objects.get(name="No authority")  # back to the SDR: an owner change too
    reject(h, by=erin, reason=reason, note=NOTE)
    assert kinds(alice) == [K.HANDOFF_REJECTED]  # not also "assigned to you": one event, one notice
    note = Notification.objects.get(user=alice)
    assert note.title == "Handoff rejected: Wanda Worked (No authority)"
    assert "Reason: No authority" in note.body and NOTE in note.body
    assert send_pending_emails() == 2  # erin's "received", then alice's "rejected"
    to_alice = [m for m in mailbox if m.to == [alice.email]]
    assert len(to_alice) == 1 and NOTE in to_alice[0].body and "No authority" in to_alice[0].subject


def test_rolled_back_change_tells_nobody_and_queues_no_mail(qualified_lead, alice, erin, kicks,
                                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
            raise RuntimeError("the request failed after the verb")
    assert not Notification.objects.exists()
    assert kicks == []


def test_the_same_event_delivered_twice_is_one_notification(qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    again = HandoffChanged(h.pk, h.lead_id, "pending", alice.pk, note=NEXT, extra={"to_user_id": erin.pk, "from_user_id": alice.pk})
    with transaction.atomic():
        publish("handoff_changed", [again, again])
    assert kinds(erin) == [K.HANDOFF_RECEIVED]


def test_assigned_and_reassigned_tell_the_new_owner(north, alice, bob, maria):
    lead = LeadFactory(team=north, owner=None, first_name="Paula", last_name="Pool")
    assign(lead, owner=alice, by=maria, why="Busy territory")
    assign(lead, owner=bob, by=maria, why="Alice is out")
    a, b = Notification.objects.get(user=alice), Notification.objects.get(user=bob)
    assert (a.kind, a.title) == (K.ASSIGNED, "Lead assigned to you: Paula Pool")
    assert (b.kind, b.title) == (K.ASSIGNED, "Lead reassigned to you: Paula Pool")
    assert "Alice is out" in b.body


def test_a_batch_giving_someone_many_leads_tells_them_once(north, alice, bob, maria,
                                                           django_capture_on_commit_callbacks):
    """A routing batch (assign_many) of 12 leads to alice and 3 to bob: alice hears once, with
    the names and a link to her queue; bob, at DIGEST_OVER or fewer, hears once per lead."""
    from qualify.leads.assignment import assign_many
    from qualify.notifications.listeners import DIGEST_NAMES, DIGEST_OVER

    to_alice = [LeadFactory(team=north, owner=None, first_name=f"Ann{i:02}", last_name="Lee") for i in range(12)]
    to_bob = [LeadFactory(team=north, owner=None) for _ in range(DIGEST_OVER)]
    owners = {lead.pk: (alice.pk, None, "New MQL") for lead in to_alice}
    owners |= {lead.pk: (bob.pk, None, "New MQL") for lead in to_bob}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assign_many(owners, by=maria)
    digest = Notification.objects.get(user=alice)
    assert (digest.kind, digest.title, digest.url, digest.lead_id) == (K.ASSIGNED, "12 leads assigned to you", "/queue/", None)
    assert digest.body.startswith("12 leads were assigned to you by Maria")
    assert "Ann00 Lee" in digest.body and f"and {12 - DIGEST_NAMES} more" in digest.body and "Why: New MQL" in digest.body
    assert digest.email_state == EmailState.PENDING  # the one row is alice's one e-mail, not twelve
    assert sorted(Notification.objects.filter(user=bob).values_list("lead_id", flat=True)) == sorted(l.pk for l in to_bob)


def test_claiming_or_imported_owners_tell_nobody(north, alice, maria):
    from qualify.leads.assignment import claim
    from qualify.leads.changes import OwnerChanged

    claim(LeadFactory(team=north, owner=None), by=alice)
    lead = LeadFactory(team=north, owner=alice)
    with transaction.atomic():
        publish("owner_changed", [OwnerChanged(lead.pk, None, alice.pk, maria.pk, why="CSV", imported=True)])
    assert not Notification.objects.exists()


def test_notifications_follow_a_merged_lead(north, alice, maria):
    from qualify.leads.merge import merge_leads

    keep = LeadFactory(team=north, owner=None)
    gone = LeadFactory(team=north, owner=None, account=keep.account)
    assign(gone, owner=alice, by=maria)
    merge_leads(keep, gone, by=maria)
    assert Notification.objects.get(user=alice).lead_id == keep.pk


def test_sla_sweep_notifications_are_written_once_per_step(north, alice, make_mql, frozen):
    from qualify.sla.sweep import sweep

    lead = make_mql(LeadFactory(team=north, owner=alice))
    frozen.move_to(Clock.objects.get(lead=lead).warn_at)  # a sweep on time for the warning, then the breach
    sweep()
    frozen.shift(datetime.timedelta(days=3))
    sweep()
    first = Notification.objects.filter(user=alice).count()
    assert first >= 2 and set(kinds(alice)) >= {K.SLA_WARNING, K.SLA_BREACH}
    sweep()
    assert Notification.objects.filter(user=alice).count() == first
    keys = list(Notification.objects.filter(user=alice).values_list("key", flat=True))
    assert all(k.startswith("sla:") for k in keys) and len(set(keys)) == len(keys)
