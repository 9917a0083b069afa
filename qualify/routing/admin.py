"""RevOps order and edit routing rules here; the assignment history is read-only."""

from __future__ import annotations

from django.contrib import admin

from .models import Assignment, RoundRobinCursor, RoutingRule


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "active", "conditions", "method", "target", "capacity", "last_turn"]
    list_editable = ["position", "active"]
    list_filter = ["active", "method", "team"]
    search_fields = ["name"]
    autocomplete_fields = ["team", "user"]
    filter_horizontal = ["members"]
    fieldsets = [
        (None, {"fields": ["name", "position", "active"]}),
        ("Which leads (blank = any)", {"fields": ["team", "segment", "region", "industry", "source", "account_owned", "override_owner"]}),
        ("Who gets them", {"fields": ["method", "user", "role", "members", "capacity"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("team", "user", "cursor__last_user")

    @admin.display(description="Conditions")
    def conditions(self, obj: RoutingRule) -> str:
        parts = [
            f"team {obj.team}" if obj.team_id else "", obj.get_segment_display() if obj.segment else "",
            f"region {obj.region}" if obj.region else "", f"industry {obj.industry}" if obj.industry else "",
            obj.get_source_display() if obj.source else "", obj.get_account_owned_display() if obj.account_owned else "",
        ]
        return ", ".join(p for p in parts if p) or "any lead"

    @admin.display(description="To")
    def target(self, obj: RoutingRule) -> str:
        if obj.method == "user":
            return str(obj.user)
        if obj.method == "account_owner":
            return "account owner"
        return f"{obj.get_role_display()}s of the lead's team"

    @admin.display(description="Last turn")
    def last_turn(self, obj: RoutingRule) -> str:
        try:
            cursor = obj.cursor
        except RoundRobinCursor.DoesNotExist:
            return "—"
        return f"{cursor.last_user or '—'} ({cursor.turns} turns)"


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = ["at", "lead", "from_user", "to_user", "rule_name", "by", "why"]
    list_filter = ["rule"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email"]
    list_select_related = ["lead", "from_user", "to_user", "by"]
    raw_id_fields = ["lead"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
