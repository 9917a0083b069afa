"""The pipeline models left reviews in state only (issue 11): same tables, audit kept, triggers
renamed, and the links back to reviews (the owner's task) still work."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from qualify.errors import DomainError
from qualify.leads.merge import merge_leads
from qualify.leads.models import Stage
from qualify.pipeline import substages
from qualify.pipeline.models import (
    LeadOpportunityStage,
    OpportunityStage,
    OpportunityStageChange,
    RequalStatus,
    RequalTrigger,
    Requalification,
    TriggerKind,
)
from qualify.reviews.models import FollowUpTask, TaskStatus
from qualify.reviews.verdicts import complete_task
from tests.factories import LeadFactory

MOVED_TABLES = {
    RequalTrigger: "reviews_requaltrigger",
    OpportunityStage: "reviews_opportunitystage",
    LeadOpportunityStage: "reviews_leadopportunitystage",
    OpportunityStageChange: "reviews_opportunitystagechange",
    Requalification: "reviews_requalification",
    RequalTrigger.pgh_event_models["insert"]: "reviews_requaltriggerevent",
    OpportunityStage.pgh_event_models["insert"]: "reviews_opportunitystageevent",
}


def events(table: str, obj_id: int) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT pgh_label FROM "{table}" WHERE pgh_obj_id = %s ORDER BY pgh_id', [obj_id])
        return [label for (label,) in cursor.fetchall()]


def triggers_on(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = %s::regclass", [table])
        return {name for (name,) in cursor.fetchall()}


def test_the_moved_models_keep_their_reviews_tables():
    for model, table in MOVED_TABLES.items():
        assert model._meta.app_label == "pipeline" and model._meta.db_table == table, model


@pytest.mark.django_db
def test_changing_a_moved_tracked_model_still_writes_its_audit_row():
    """The triggers pipeline 0001 installed write into the event tables reviews 0001 created."""
    trigger = RequalTrigger.objects.get(kind=TriggerKind.OPPORTUNITY_INACTIVE)
    before = events("reviews_requaltriggerevent", trigger.pk)
    trigger.days += 1
    trigger.save()
    assert events("reviews_requaltriggerevent", trigger.pk) == [*before, "update"]
    assert trigger.history.order_by("pgh_id").last().days == trigger.days

    stage = OpportunityStage.objects.create(name="Procurement", position=90)
    OpportunityStage.objects.filter(pk=stage.pk).update(checkpoint=True)  # bulk updates are audited too
    assert events("reviews_opportunitystageevent", stage.pk) == ["insert", "update"]
    assert stage.history.order_by("pgh_id").last().checkpoint is True


@pytest.mark.django_db
def test_the_triggers_carry_pipeline_names_and_reviews_ones_are_gone():
    for model in (RequalTrigger, OpportunityStage, OpportunityStageChange):
        installed = triggers_on(model._meta.db_table)
        for trigger in model._meta.triggers:
            assert trigger.get_pgid(model) in installed
            assert trigger.get_uri(model).startswith("pipeline.")
        # What reviews installed (the hash of 'reviews.<Model>:<name>') was dropped with its function.
        assert len(installed) == len(model._meta.triggers)


@pytest.fixture
def opportunity(north, erin):
    return LeadFactory(team=north, owner=erin, ae=erin, stage=Stage.OPPORTUNITY)


@pytest.mark.django_db
def test_sub_stage_history_stays_append_only(opportunity, erin):
    substages.move_opportunity_stage(opportunity, to=OpportunityStage.objects.get(name="Discovery"), by=erin)
    with pytest.raises(ProgrammingError, match="Cannot update rows"), transaction.atomic():
        OpportunityStageChange.objects.update(by=None)


@pytest.mark.django_db
def test_a_merge_moves_requalifications_and_sub_stages_to_the_survivor(north, erin, rita, opportunity):
    merged = LeadFactory(team=north, owner=erin, ae=erin, stage=Stage.OPPORTUNITY)
    substages.move_opportunity_stage(merged, to=OpportunityStage.objects.get(name="Demo done"), by=erin)
    req = Requalification.objects.get(lead=merged, status=RequalStatus.OPEN)
    merge_leads(opportunity, merged, by=rita)
    req.refresh_from_db()
    assert req.lead_id == opportunity.pk and req.task.lead_id == opportunity.pk
    # The history moved through the append-only guard (pgtrigger.ignore names the pipeline trigger).
    assert OpportunityStageChange.objects.get().lead_id == opportunity.pk
    assert LeadOpportunityStage.objects.get().lead_id == opportunity.pk


@pytest.mark.django_db
def test_a_task_whose_requalification_was_closed_meanwhile_stays_open(opportunity, erin):
    """task_done is heard in complete_task's transaction: the re-qualification's refusal rolls the
    task back too."""
    substages.move_opportunity_stage(opportunity, to=OpportunityStage.objects.get(name="Demo done"), by=erin)
    Requalification.objects.update(status=RequalStatus.RESOLVED)
    task = FollowUpTask.objects.get()
    with pytest.raises(DomainError, match="not open any more"):
        complete_task(task, by=erin, note="Re-confirmed with the sponsor")
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
