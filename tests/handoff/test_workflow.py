import threading
import time

import pytest
from django.db import connection

from qualify.errors import DomainError
from qualify.handoff.models import Handoff, HandoffStatus
from qualify.handoff.workflow import accept, hand_off, reject
from qualify.leads.models import DisqualifyReason, Lead, Stage, StageChange
from tests.factories import EventFactory

NEXT = "Demo Tuesday 10:00 with the CFO and IT lead"


def test_hand_off_with_required_criterion_missing_changes_nothing(worked_lead, alice, erin):
    with pytest.raises(DomainError) as err:
        hand_off(worked_lead, to=erin, by=alice, next_step=NEXT)
    assert "Budget: not answered yet" in err.value.message
    assert err.value.details  # the list of what's missing, for the API
    assert not Handoff.objects.exists()
    assert Lead.objects.get(pk=worked_lead.pk).stage == Stage.WORKING


def test_hand_off_freezes_a_packet_and_moves_the_lead(qualified_lead, alice, erin):
    EventFactory(lead=qualified_lead, type="demo_request", properties={})
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT, note="Hot")
    qualified_lead.refresh_from_db()
    assert (qualified_lead.stage, qualified_lead.ae, qualified_lead.owner) == (Stage.HANDED_OFF, erin, alice)
    assert h.packet["framework"] == "BANT"
    assert {a["dimension"] for a in h.packet["answers"]} >= {"Budget", "Authority", "Need", "Timeline"}
    assert h.packet["signals"][0]["type"] == "demo_request"
    assert h.packet["score"]["value"] == qualified_lead.score
    assert StageChange.objects.filter(lead=qualified_lead, to_stage=Stage.HANDED_OFF, why=NEXT).exists()


def test_hand_off_needs_a_next_step_and_an_ae_of_the_team(qualified_lead, alice, erin, sam, bob):
    with pytest.raises(DomainError, match="next step"):
        hand_off(qualified_lead, to=erin, by=alice, next_step="soon")
    with pytest.raises(DomainError, match="not an AE"):
        hand_off(qualified_lead, to=sam, by=alice, next_step=NEXT)
    with pytest.raises(DomainError, match="not an AE"):
        hand_off(qualified_lead, to=bob, by=alice, next_step=NEXT)
    assert not Handoff.objects.exists()


def test_second_hand_off_is_refused(qualified_lead, alice, erin):
    hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    with pytest.raises(DomainError):
        hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    assert Handoff.objects.count() == 1


def test_accept_makes_the_ae_the_owner(qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    accept(h, by=erin)
    qualified_lead.refresh_from_db()
    assert (qualified_lead.stage, qualified_lead.owner, h.status) == (Stage.ACCEPTED, erin, HandoffStatus.ACCEPTED)
    assert h.decided_by == erin


@pytest.mark.parametrize(
    ("reason_name", "stage", "owner"),
    [("No authority", Stage.WORKING, "alice"), ("Bad timing", Stage.NURTURE, "alice"), ("No ICP fit", Stage.DISQUALIFIED, "alice")],
)
def test_reject_sends_lead_where_the_reason_says(qualified_lead, alice, erin, reason_name, stage, owner):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    reason = DisqualifyReason.objects.get(name=reason_name)
    reject(h, by=erin, reason=reason, note="Spoke to them: the contact cannot sign anything")
    qualified_lead.refresh_from_db()
    assert qualified_lead.stage == stage
    assert qualified_lead.owner.username == owner
    assert qualified_lead.ae is None
    assert qualified_lead.disqualify_reason == reason
    assert (h.status, h.reason) == (HandoffStatus.REJECTED, reason)


@pytest.mark.parametrize(("reason_name", "note"), [(None, "A perfectly long note here"), ("Other", "too short"), ("No budget", "")])
def test_reject_without_reason_or_with_short_note_changes_nothing(qualified_lead, alice, erin, reason_name, note):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    reason = DisqualifyReason.objects.get(name=reason_name) if reason_name else None
    with pytest.raises(DomainError):
        reject(h, by=erin, reason=reason, note=note)
    h.refresh_from_db()
    qualified_lead.refresh_from_db()
    assert h.status == HandoffStatus.PENDING and qualified_lead.stage == Stage.HANDED_OFF


def test_only_the_receiving_ae_or_manager_decides(qualified_lead, alice, erin, bob, maria):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    with pytest.raises(DomainError, match="Only the receiving AE"):
        accept(h, by=bob)
    accept(h, by=maria)
    assert h.status == HandoffStatus.ACCEPTED


def test_second_decision_gets_a_clear_message(qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    stale = Handoff.objects.get(pk=h.pk)
    accept(h, by=erin)
    with pytest.raises(DomainError, match="already accepted by"):
        reject(stale, by=erin, reason=DisqualifyReason.objects.get(name="No budget"), note="Changed my mind, sorry")
    assert Lead.objects.get(pk=qualified_lead.pk).stage == Stage.ACCEPTED


def test_an_accept_note_over_the_limit_is_refused_and_the_handoff_stays_pending(qualified_lead, alice, erin):
    h = hand_off(qualified_lead, to=erin, by=alice, next_step=NEXT)
    with pytest.raises(DomainError, match="The note is too long: 1,000,000 characters; keep it to 5,000.") as refused:
        accept(h, by=erin, note="N" * 1_000_000)
    assert refused.value.field == "note"
    h.refresh_from_db()
    qualified_lead.refresh_from_db()
    assert h.status == HandoffStatus.PENDING and h.decision_note == ""
    assert (qualified_lead.stage, qualified_lead.owner_id) == (Stage.HANDED_OFF, alice.pk)


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_and_reject_yield_exactly_one_outcome(north, alice, erin):
    from tests.handoff.conftest import qualify_fully
    from tests.factories import LeadFactory

    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    h = hand_off(lead, to=erin, by=alice, next_step=NEXT)
    reason = DisqualifyReason.objects.get(name="No budget")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(action):
        try:
            barrier.wait()
            mine = Handoff.objects.get(pk=h.pk)
            if action == "accept":
                accept(mine, by=erin)
            else:
                reject(mine, by=erin, reason=reason, note="No budget until next fiscal year")
            outcomes.append(action)
        except DomainError as e:
            outcomes.append(f"refused: {e.message[:30]}")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in ("accept", "reject")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for o in outcomes if not o.startswith("refused")) == 1, outcomes
    assert sum(1 for o in outcomes if o.startswith("refused: This handoff was already")) == 1, outcomes
    h.refresh_from_db()
    lead.refresh_from_db()
    assert h.status in (HandoffStatus.ACCEPTED, HandoffStatus.REJECTED)
    assert lead.stage == (Stage.ACCEPTED if h.status == HandoffStatus.ACCEPTED else Stage.NURTURE)
    assert StageChange.objects.filter(lead=lead, from_stage=Stage.HANDED_OFF).count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_accepting_while_the_lead_is_merged_waits_rather_than_deadlocks(north, alice, erin, rita, monkeypatch):
    """Accept locked the handoff, then the lead; a merge (like any move of the lead, which closes
    its pending handoff) locks the lead, then the handoff. Crossing, PostgreSQL killed one of them
    with a deadlock error (a 500). Both now lock the lead first: the second waits, then goes on."""
    from qualify.handoff import workflow
    from qualify.leads.merge import merge_leads
    from tests.factories import LeadFactory
    from tests.handoff.conftest import qualify_fully

    survivor = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    qualify_fully(lead, alice)
    h = hand_off(lead, to=erin, by=alice, next_step=NEXT)
    claimed = threading.Event()
    claim = workflow._claim

    def slow_claim(handoff, by):
        current = claim(handoff, by)
        claimed.set()
        time.sleep(1.5)  # the merge starts meanwhile, and waits on what accept holds
        return current

    monkeypatch.setattr(workflow, "_claim", slow_claim)
    outcomes: dict[str, object] = {}

    def run(name, call):
        try:
            outcomes[name] = call()
        except Exception as e:  # noqa: BLE001 — the outcome under test
            outcomes[name] = e
        finally:
            connection.close()

    def merging():
        claimed.wait(10)
        return merge_leads(survivor, lead.pk, by=rita)

    threads = [threading.Thread(target=run, args=("accept", lambda: accept(Handoff.objects.get(pk=h.pk), by=erin))),
               threading.Thread(target=run, args=("merge", merging))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not [o for o in outcomes.values() if isinstance(o, Exception)], outcomes
    h.refresh_from_db()
    assert (h.status, h.lead_id) == (HandoffStatus.ACCEPTED, survivor.pk)
