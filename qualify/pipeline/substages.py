"""Opportunity sub-stages: the one write path for an opportunity's current sub-stage and its history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from qualify.errors import DomainError
from qualify.leads.models import Lead, Stage

from .models import LeadOpportunityStage, OpportunityStage, OpportunityStageChange, TriggerKind
from .requalification import open_requalification, trigger_for

if TYPE_CHECKING:
    from accounts.models import User


def move_opportunity_stage(lead: Lead, *, to: OpportunityStage, by: User | None) -> LeadOpportunityStage:
    """Move an opportunity to sub-stage `to`, or raise DomainError and change nothing.

    Locks the lead row (so two moves serialise), writes the current sub-stage and its history, and
    when `to` is a checkpoint opens a re-qualification asking the owner to re-confirm the answers.
    """
    if not to.active:
        raise DomainError(f"'{to}' is retired; choose another sub-stage.", field="stage")
    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if current.stage != Stage.OPPORTUNITY:
            raise DomainError(
                f"Only opportunities have sub-stages; this lead is {current.get_stage_display()}.", field="stage"
            )
        row = LeadOpportunityStage.objects.filter(lead=current).first()
        if row is not None and row.stage_id == to.pk:
            raise DomainError(f"This opportunity is already in {to}.", field="stage")
        now = timezone.now()
        OpportunityStageChange.objects.create(lead=current, from_stage=row.stage if row else None, to_stage=to, by=by, at=now)
        row, _ = LeadOpportunityStage.objects.update_or_create(
            lead=current, defaults={"stage": to, "changed_at": now, "changed_by": by}
        )
        if to.checkpoint and (trigger := trigger_for(TriggerKind.CHECKPOINT_STAGE, current.team_id)):
            why = f"Moved to {to}: re-confirm the framework answers before going further."
            open_requalification(current, trigger, TriggerKind.CHECKPOINT_STAGE, why, now, checkpoint=to, by=by)
    return row
