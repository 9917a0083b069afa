"""What the core announces after it changes a lead, and who listens.

The lead core (this app) changes stages, owners, touches and records; what follows a change (SLA
clocks, routing, rescoring, handoffs closed by an outcome, notifications, webhooks) belongs to the
apps around it, which the core never imports. Each verb publishes one change per lead, as one
batch per call (`move_many` publishes a thousand moves at once), and the listeners named in
settings.QUALIFY_LISTENERS register here when the app registry is ready, in that order: an explicit
list, as in Saleor's plugin manager, so the order in which consequences happen is written down in
one place rather than implied by import order.

Two moments, chosen per listener:

- IN_TRANSACTION: called at once, inside the verb's transaction, with the batch. For what must
  commit or roll back with the change: the assignment record of an owner change, a clock a touch
  stops, a handoff closed by an outcome, a webhook's outbox row.
- AFTER_COMMIT: called once the outermost transaction commits, with the batch; never when it rolls
  back. For work that follows the change in its own transaction: routing a new MQL, starting
  clocks, rescoring, notifications. Inside `gathered()` the deliveries of many transactions are
  merged into one batch per topic at the end of the block (the CSV importer and the demo seed).

Publishing costs nothing but the listeners' own queries; a topic nobody listens to is free.
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import partial
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import transaction

from qualify.lookups import reused_lookups

log = logging.getLogger(__name__)

IN_TRANSACTION = "in_transaction"
AFTER_COMMIT = "after_commit"


# --- the changes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LeadSaved:
    """A lead was created (`created`) or some of its fields edited (`fields`, by name)."""

    lead_id: int
    created: bool
    fields: frozenset[str] = frozenset()
    by_id: int | None = None


@dataclass(frozen=True)
class AccountSaved:
    account_id: int
    created: bool
    fields: frozenset[str] = frozenset()
    by_id: int | None = None


@dataclass(frozen=True)
class StageChanged:
    """`lead_id` moved from `from_stage` to `to_stage`. `imported`: history written by an import,
    which routes nobody and starts no clock (the past), though outcomes still close what is open."""

    lead_id: int
    from_stage: str
    to_stage: str
    by_id: int | None = None
    why: str = ""
    reason_id: int | None = None
    imported: bool = False


@dataclass(frozen=True)
class OwnerChanged:
    """`lead_id` went from owner `from_id` to `to_id` (None: the team pool). `imported`: an owner
    from a file, recorded but starting no clock and telling nobody. `at`: when it happened, for
    history written after the fact (history.write_leads); None is now."""

    lead_id: int
    from_id: int | None
    to_id: int | None
    by_id: int | None = None
    rule_id: int | None = None
    rule_name: str = ""
    why: str = ""
    imported: bool = False
    at: datetime.datetime | None = None


@dataclass(frozen=True)
class Touched:
    """A rep logged a touch on `lead_id` at `at`."""

    lead_id: int
    touch_id: int
    at: datetime.datetime
    by_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class HandoffChanged:
    """A handoff was created (`status` pending), decided (accepted, rejected, closed), or given to
    another AE while still pending (`status` "reassigned": extra["to_user_id"] is the new AE,
    extra["previous_to_user_id"] the one it waited for)."""

    handoff_id: int
    lead_id: int
    status: str
    by_id: int | None = None
    reason_id: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class SlaEscalated:
    """The SLA sweep acted on step `step` (`kind`: warning, breach, notify, ...) of a clock."""

    clock_id: int
    lead_id: int
    team_id: int
    step: int
    kind: str
    clock_kind: str
    due_at: datetime.datetime
    at: datetime.datetime
    owner_id: int | None = None


@dataclass(frozen=True)
class ReviewVerdict:
    """A reviewer gave (or revised: `from_verdict` not blank) the verdict on a review item."""

    item_id: int
    lead_id: int
    from_verdict: str
    to_verdict: str
    by_id: int | None = None
    note: str = ""
    # Needs follow-up: {"task_id", "assignee_id", "due_on", "follow_up"} of the task it opened.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class TaskDone:
    """The assignee (or their manager) marked a follow-up task on `lead_id` done (reviews.verdicts.
    complete_task). Published in that transaction, so what the task stood for (a re-qualification,
    qualify/pipeline) is closed with it or not at all."""

    task_id: int
    lead_id: int
    kind: str
    by_id: int
    note: str = ""


@dataclass(frozen=True)
class LeadsMerged:
    """`merged_id` was merged into `survivor_id` (leads/merge.py). Published in the merge's
    transaction, after the core moved its own rows and before the merged lead's row is deleted:
    each app re-points its rows to the survivor there (IN_TRANSACTION), so nothing is lost and
    nothing half-merged is ever committed."""

    survivor_id: int
    merged_id: int
    by_id: int | None = None

    @property
    def lead_id(self) -> int:  # by_lead() and friends key changes by lead
        return self.survivor_id


@dataclass(frozen=True)
class AccountsMerged:
    """`merged_id` was merged into `survivor_id`; its leads now belong to the survivor."""

    survivor_id: int
    merged_id: int
    by_id: int | None = None


@dataclass(frozen=True)
class ScoreChanged:
    """Scoring rewrote `lead_id`'s stored score (new events, edited fields, a new model version).
    Published once per scoring chunk (up to 250 leads), never per event."""

    lead_id: int


TOPICS: dict[str, type] = {
    "lead_saved": LeadSaved,
    "account_saved": AccountSaved,
    "stage_changed": StageChanged,
    "owner_changed": OwnerChanged,
    "touched": Touched,
    "handoff_changed": HandoffChanged,
    "sla_escalated": SlaEscalated,
    "review_verdict": ReviewVerdict,
    "task_done": TaskDone,
    "leads_merged": LeadsMerged,
    "accounts_merged": AccountsMerged,
    "scores_changed": ScoreChanged,
}

Listener = Callable[[list[Any]], None]
_listeners: dict[tuple[str, str], list[Listener]] = defaultdict(list)
_gathering: ContextVar[dict[str, list] | None] = ContextVar("gathered_changes", default=None)


# --- listening ---------------------------------------------------------------------------------


def listen(topic: str, *, when: str = AFTER_COMMIT) -> Callable[[Listener], Listener]:
    """Register the decorated function for `topic` at `when`. Listener modules are imported once,
    in settings.QUALIFY_LISTENERS order, by `load_listeners`."""
    if topic not in TOPICS:
        raise ValueError(f"Unknown topic {topic!r}; known: {', '.join(TOPICS)}")
    if when not in (IN_TRANSACTION, AFTER_COMMIT):
        raise ValueError(f"'when' is {IN_TRANSACTION!r} or {AFTER_COMMIT!r}")

    def register(fn: Listener) -> Listener:
        if fn not in _listeners[(topic, when)]:
            _listeners[(topic, when)].append(fn)
        return fn

    return register


def load_listeners() -> None:
    """Import every module named in settings.QUALIFY_LISTENERS (leads' AppConfig.ready)."""
    for name in getattr(settings, "QUALIFY_LISTENERS", []):
        import_module(name)


def listeners(topic: str, when: str) -> list[Listener]:
    """The registered listeners of `topic` at `when`, in order (for tests and the README diagram)."""
    return list(_listeners[(topic, when)])


# --- publishing --------------------------------------------------------------------------------


def publish(topic: str, batch: Iterable[Any]) -> None:
    """Announce `batch` (changes of TOPICS[topic]): in-transaction listeners now, the others after
    commit. Call it inside the verb's transaction, after the write and its history row."""
    batch = list(batch)
    if not batch:
        return
    with reused_lookups():  # the listeners of one batch read admin configuration once between them
        for fn in _listeners[(topic, IN_TRANSACTION)]:
            fn(batch)
    if _listeners[(topic, AFTER_COMMIT)]:
        transaction.on_commit(partial(_deliver, topic, batch))


def _deliver(topic: str, batch: list[Any]) -> None:
    gathering = _gathering.get()
    if gathering is not None:
        gathering.setdefault(topic, []).extend(batch)
        return
    with reused_lookups():
        _run_after_commit(topic, batch)


def _run_after_commit(topic: str, batch: list[Any]) -> None:
    for fn in _listeners[(topic, AFTER_COMMIT)]:
        try:
            fn(batch)
        except Exception:
            # One listener's failure must not cost the others their turn; the reconcilers repair
            # what a lost listener left undone. Tests set LISTENER_ERRORS_RAISE to see it.
            if getattr(settings, "LISTENER_ERRORS_RAISE", False):
                raise
            log.exception("Listener %s failed on %d %s changes", getattr(fn, "__qualname__", fn), len(batch), topic)


@contextmanager
def gathered() -> Iterator[None]:
    """Merge the after-commit deliveries made inside this block into one batch per topic, delivered
    when it ends: a thousand single-lead transactions cost the listeners one batch."""
    if _gathering.get() is not None:
        yield
        return
    pending: dict[str, list] = {}
    token = _gathering.set(pending)
    try:
        yield
    finally:
        _gathering.reset(token)
    for topic, batch in pending.items():
        _deliver(topic, batch)


def by_lead(batch: Sequence[Any]) -> dict[int, Any]:
    """The last change per lead of a batch (a lead moved twice in one batch counts once, as it is now)."""
    return {change.lead_id: change for change in batch}
