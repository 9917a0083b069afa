"""Admin: re-qualification triggers and their firings, opportunity sub-stages."""

from django.contrib import admin

from .models import OpportunityStage, Requalification, RequalTrigger


@admin.register(RequalTrigger)
class RequalTriggerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "team", "days", "score_threshold", "task_due_days", "active"]
    list_filter = ["kind", "active"]


@admin.register(OpportunityStage)
class OpportunityStageAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "checkpoint", "active"]
    list_editable = ["position", "checkpoint", "active"]


@admin.register(Requalification)
class RequalificationAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "status", "created_at", "resolved_by"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["lead"]
    readonly_fields = ["lead", "trigger", "kind", "reason", "created_at", "checkpoint"]
