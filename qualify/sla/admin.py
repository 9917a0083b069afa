"""RevOps edit calendars and policies here; clocks and escalations are read-only."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html_join

from qualify.formatting import show_datetime

from .calendar import NoBusinessTime, add_business_time
from .models import (
    BusinessCalendar,
    CalendarHoliday,
    Clock,
    Escalation,
    EscalationStep,
    SlaPolicy,
    TeamCalendar,
    WorkingHours,
)


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class CalendarHolidayInline(admin.TabularInline):
    model = CalendarHoliday
    extra = 0


class TeamCalendarInline(admin.TabularInline):
    model = TeamCalendar
    extra = 0
    verbose_name = "team using this calendar"
    verbose_name_plural = "teams using this calendar"
    autocomplete_fields = ["team"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "country", "subdivision", "is_default", "teams"]
    search_fields = ["name"]
    inlines = [WorkingHoursInline, CalendarHolidayInline, TeamCalendarInline]
    readonly_fields = ["preview"]
    fields = ["name", "time_zone", "country", "subdivision", "is_default", "preview"]

    @admin.display(description="Teams")
    def teams(self, obj: BusinessCalendar) -> str:
        return ", ".join(str(link.team) for link in obj.team_links.select_related("team"))

    @admin.display(description="Deadlines from now (check after saving)")
    def preview(self, obj: BusinessCalendar) -> str:
        if not obj.pk:
            return "Save first."
        now = timezone.now()
        try:
            spec = obj.spec()
            rows = [
                (label, show_datetime(add_business_time(spec, now, amount), spec.tz, zone=True))
                for label, amount in [("1 business hour", datetime.timedelta(hours=1)),
                                      ("4 business hours", datetime.timedelta(hours=4)),
                                      ("8 business hours", datetime.timedelta(hours=8))]
            ]
        except NoBusinessTime as e:
            return str(e)
        return format_html_join("", "<div>{} → {}</div>", rows)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # Hours and holidays live in inlines: bump the calendar so cached specs are rebuilt.
        BusinessCalendar.objects.filter(pk=form.instance.pk).update(updated_at=timezone.now())


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "position", "is_default", "active", "target_minutes", "warn_at_percent",
                    "conditions", "ladder", "on_reassign"]
    list_filter = ["kind", "active", "is_default"]
    list_editable = ["position", "active"]
    search_fields = ["name"]
    inlines = [EscalationStepInline]
    autocomplete_fields = ["team"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "position", "active", "is_default"]}),
        ("Which leads (blank = any)", {"fields": ["team", "segment", "source", "grade"]}),
        ("Target", {"fields": ["calendar", "target_minutes", "warn_at_percent", "on_reassign"]}),
    ]

    @admin.display(description="Conditions")
    def conditions(self, obj: SlaPolicy) -> str:
        parts = [f"team {obj.team}" if obj.team_id else "", obj.get_segment_display() if obj.segment else "",
                 obj.get_source_display() if obj.source else "", f"grade {obj.grade}" if obj.grade else ""]
        return ", ".join(p for p in parts if p) or ("everything else" if obj.is_default else "any lead")

    @admin.display(description="Escalation ladder")
    def ladder(self, obj: SlaPolicy) -> str:
        return "; ".join(str(s) for s in obj.steps.all()) or "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team").prefetch_related("steps")


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Clock)
class ClockAdmin(ReadOnlyAdmin):
    list_display = ["lead", "kind", "owner", "status", "started_at", "due_at", "breached_at", "closed_at", "closed_note"]
    list_filter = ["status", "kind", "team", "policy"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email"]
    list_select_related = ["lead", "owner"]
    raw_id_fields = ["lead", "handoff"]


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "step", "lead", "owner", "team", "detail"]
    list_filter = ["kind", "team"]
    list_select_related = ["lead", "owner", "team"]
    raw_id_fields = ["clock", "lead"]
