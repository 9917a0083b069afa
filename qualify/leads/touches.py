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
from .models import NOTE_MAX_LENGTH, Lead, Stage, Touch, TouchKind, TouchOutcome, note_too_long

if TYPE_CHECKING:
    from accounts.models import User


def log_touch(
    lead: Lead, *, by: User, kind: str, outcome: str, note: str = "", occurred_at: datetime.datetime | None = None
) -> Touch:
    """Record a touch and bump the lead's last-touch time.

    A first touch on a New or MQL lead means the SDR is working it, so it moves to Working
    through the lifecycle (recorded in the stage history). Published as `touched` inside the
    transaction: the SLA app stops the touch clocks it answers. Admin, API and pages call this.
    """
    if kind not in TouchKind.values:
        raise DomainError(f"'{kind}' is not a kind of touch.", field="kind")
    if outcome not in TouchOutcome.values:
        raise DomainError(f"'{outcome}' is not a touch outcome.", field="outcome")
    if len(note.strip()) > NOTE_MAX_LENGTH:
        raise DomainError(note_too_long(len(note.strip())), field="note")
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise DomainError("A touch cannot be logged in the future.", field="occurred_at")
    with transaction.atomic():
        touch = Touch.objects.create(lead=lead, author=by, kind=kind, outcome=outcome, note=note.strip(), occurred_at=occurred_at)
        Lead.objects.filter(pk=lead.pk).update(
            last_touch_at=Greatest("last_touch_at", occurred_at) if lead.last_touch_at else occurred_at,
            updated_at=timezone.now(),
        )
        lead.refresh_from_db(fields=["last_touch_at", "updated_at"])
        publish("touched", [Touched(lead.pk, touch.pk, occurred_at, by.pk if by else None, f"Touch: {touch}")])
        if lead.stage in (Stage.NEW, Stage.MQL):
            move_stage(lead, to=Stage.WORKING, by=by, why=f"First touch: {touch}", expect=lead.stage)
    return touch
