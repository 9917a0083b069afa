"""Admin: review plans and their checklist, re-qualification triggers, opportunity sub-stages."""

from django.contrib import admin, messages

from .models import (
    FollowUpTask,
    OpportunityStage,
    RedFlag,
    Requalification,
    RequalTrigger,
    ReviewItem,
    ReviewPlan,
    ReviewQueue,
)
from .sampling import build_queue


@admin.register(RedFlag)
class RedFlagAdmin(admin.ModelAdmin):
    list_display = ["name", "active", "position"]
    list_editable = ["active", "position"]


@admin.register(ReviewPlan)
class ReviewPlanAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "cadence", "population", "sample_size", "reviewer", "active"]
    list_filter = ["team", "cadence", "population", "active"]
    filter_horizontal = ["red_flags"]
    actions = ["build_now"]

    @admin.action(description="Build this period's queue now")
    def build_now(self, request, queryset):
        for plan in queryset:
            queue, created = build_queue(plan)
            if queue is None:
                self.message_user(request, f"{plan}: nothing to sample in this period.", messages.WARNING)
            else:
                self.message_user(request, f"{plan}: {'built' if created else 'already had'} the queue of {queue.period_start}.")


class ReviewItemInline(admin.TabularInline):
    model = ReviewItem
    fields = ["position", "lead", "stratum", "rep", "source", "verdict", "reviewed_by", "reviewed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(ReviewQueue)
class ReviewQueueAdmin(admin.ModelAdmin):
    list_display = ["plan", "team", "period_start", "population_size", "sample_size", "seed", "completed_at"]
    list_filter = ["team", "population_kind"]
    readonly_fields = [f.name for f in ReviewQueue._meta.fields]
    inlines = [ReviewItemInline]

    def has_add_permission(self, request):
        return False  # queues come from plans (beat or the plan action), never by hand


@admin.register(FollowUpTask)
class FollowUpTaskAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "assignee", "due_on", "status"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["lead", "review_item", "requalification"]


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
