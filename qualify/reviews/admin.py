"""Admin: review plans and their checklist, review queues, follow-up tasks."""

from django.contrib import admin, messages

from .models import FollowUpTask, RedFlag, ReviewItem, ReviewPlan, ReviewQueue
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
