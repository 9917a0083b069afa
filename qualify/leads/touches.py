"""Logging a rep's touch on a lead."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models.functions import Greatest
from django.utils import timezone

from qualify.errors import DomainError

from .changes import Touched, publish
from .lifecycle import move_stage
from .models import Lead, Stage, Touch, TouchKind, TouchOutcome, clean_note

if TYPE_CHECKING:
    from accounts.models import User

# Two identical touches this close together are one touch logged twice; a rep's next real call
# to the same lead, even one that again goes unanswered, comes minutes later.
REPEAT_WINDOW = datetime.timedelta(seconds=10)


def log_touch(
    lead: Lead, *, by: User, kind: str, outcome: str, note: str = "", occurred_at: datetime.datetime | None = None
) -> Touch:
    """Record a touch and bump the lead's last-touch time.

    A first touch on a New or MQL lead means the SDR is working it, so it moves to Working
    through the lifecycle (recorded in the stage history). Published as `touched` inside the
    transaction: the SLA app stops the touch clocks it answers. Admin, API and pages call this.

    A repeat is not a second touch: the same author, kind, outcome and note on the same lead
    within REPEAT_WINDOW of the last one (a double click, a retried request) returns that touch,
    marked `repeated`, and changes nothing. The lead's row is locked first, so parallel repeats
    wait for each other and find the first. Costs one indexed query more than a plain insert.
    """
    if kind not in TouchKind.values:
        raise DomainError(f"'{kind}' is not a kind of touch.", field="kind")
    if outcome not in TouchOutcome.values:
        raise DomainError(f"'{outcome}' is not a touch outcome.", field="outcome")
    note = clean_note(note)
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise DomainError("A touch cannot be logged in the future.", field="occurred_at")
    with transaction.atomic():
        # Locked so that the repeat check and the stage read below see every touch committed
        # before ours: two clicks in flight at once are otherwise two touches.
        current = Lead.objects.select_for_update().only("stage").get(pk=lead.pk)
        repeat = (
            Touch.objects.filter(lead=lead, author=by, kind=kind, outcome=outcome, note=note,
                                 occurred_at__range=(occurred_at - REPEAT_WINDOW, occurred_at + REPEAT_WINDOW))
            .order_by("-occurred_at").first()
        )
        if repeat is not None:
            repeat.repeated = True
            return repeat
        touch = Touch.objects.create(lead=lead, author=by, kind=kind, outcome=outcome, note=note, occurred_at=occurred_at)
        Lead.objects.filter(pk=lead.pk).update(
            last_touch_at=Greatest("last_touch_at", occurred_at),  # PostgreSQL's GREATEST skips a NULL
            updated_at=timezone.now(),
        )
        lead.refresh_from_db(fields=["last_touch_at", "updated_at"])
        publish("touched", [Touched(lead.pk, touch.pk, occurred_at, by.pk if by else None, f"Touch: {touch}")])
        if current.stage in (Stage.NEW, Stage.MQL):
            move_stage(lead, to=Stage.WORKING, by=by, why=f"First touch: {touch}", expect=current.stage)
    return touch
