"""Two sweeps at once, on two real connections: every step is still acted on exactly once.

Transactional tests (real commits, so each thread's connection sees the other's work), with
serialized rollback so the shipped policies and calendar are there whatever ran before.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from qualify.leads.models import Lead
from qualify.sla import sweep as sweep_module
from qualify.sla.clocks import start_clock
from qualify.sla.models import Clock, ClockKind, Escalation
from qualify.notifications.models import Notification
from qualify.sla.sweep import sweep
from tests.factories import LeadFactory

from .conftest import at

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

LEADS = 120


@pytest.fixture
def due_clocks(frozen, alice, maria, north):
    leads = LeadFactory.create_batch(LEADS, team=north, owner=alice)
    for lead in Lead.objects.select_related("account").filter(pk__in=[lead.pk for lead in leads]):
        start_clock(lead, ClockKind.MQL_FIRST_TOUCH, owner_id=alice.pk)
    frozen.move_to(at(2025, 3, 4, 11, 0))  # warning, breach and notify are due on every clock
    return Clock.objects.filter(lead__in=leads)


def run_in_threads(*targets):
    errors = []

    def wrap(fn):
        def run():
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                connection.close()

        return run

    threads = [threading.Thread(target=wrap(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors


def assert_each_step_once(clocks):
    counts = Counter(Escalation.objects.filter(clock__in=clocks).values_list("clock_id", "step"))
    assert len(counts) == LEADS * 3
    assert set(counts.values()) == {1}
    # Per clock: alice's and maria's breach notices (the warning came in the same sweep, so it tells
    # nobody), each batch's as one digest per person ("10 SLAs breached: ..."). None lost, none twice.
    told = Counter()
    for n in Notification.objects.all():
        assert n.kind == "sla_breach"
        told[n.user.username] += int(n.title.split()[0]) if n.is_digest else 1
    assert told == {"alice": LEADS, "maria": LEADS}


def test_two_sweeps_started_together_split_the_work(due_clocks):
    barrier = threading.Barrier(2)
    results = []

    def sweeper():
        barrier.wait()
        results.append(sweep(batch=10))

    run_in_threads(sweeper, sweeper)
    assert sum(r.steps for r in results) == LEADS * 3
    assert_each_step_once(due_clocks)


def test_a_sweep_skips_clocks_another_sweep_holds_and_never_repeats_them(due_clocks, monkeypatch):
    """Sweep A claims a batch and stalls inside it; sweep B runs to the end meanwhile, taking only
    the other clocks (SKIP LOCKED); then A finishes its batch. Every step happens once."""
    a_holds = threading.Event()
    b_done = threading.Event()
    real_process = sweep_module._process
    held: list[int] = []

    def slow_process(clocks, now, result):
        if threading.current_thread().name == "A" and not held:
            held.extend(c["id"] for c in clocks)
            a_holds.set()
            assert b_done.wait(timeout=30)
        real_process(clocks, now, result)

    monkeypatch.setattr(sweep_module, "_process", slow_process)
    out = {}

    def a():
        out["a"] = sweep(batch=40, max_batches=1)

    def b():
        assert a_holds.wait(timeout=30)
        out["b"] = sweep(batch=15)
        b_done.set()

    thread_a = threading.Thread(target=lambda: (a(), connection.close()), name="A")
    thread_b = threading.Thread(target=lambda: (b(), connection.close()), name="B")
    thread_a.start()
    thread_b.start()
    thread_a.join(timeout=60)
    thread_b.join(timeout=60)

    assert out["a"].clocks == 40 and out["b"].clocks == LEADS - 40
    assert not set(held) & set(Escalation.objects.exclude(clock_id__in=held).values_list("clock_id", flat=True))
    assert_each_step_once(due_clocks)
