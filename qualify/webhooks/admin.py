"""RevOps defines endpoints here; the delivery log is read-only, with replay as actions (select a
filtered time range, e.g. with the date drill-down, and replay it)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import admin, messages
from django.db import models
from django.utils import timezone

from qualify.errors import DomainError

from . import delivery
from .models import Delivery, Endpoint


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["shown_url", "team", "active", "event_list", "failing_since", "disabled_reason"]
    list_filter = ["active", "team"]
    readonly_fields = ["created_at", "failing_since", "disabled_at", "disabled_reason"]
    actions = ["replay_last_day"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="URL", ordering="url")
    def shown_url(self, obj: Endpoint) -> str:
        return obj.shown_url

    @admin.display(description="Events")
    def event_list(self, obj: Endpoint) -> str:
        return ", ".join(obj.events)

    def save_model(self, request, obj: Endpoint, form, change) -> None:
        # Switched back on by hand: a fresh start, not "failing since" the old outage.
        if obj.active and change and "active" in form.changed_data:
            obj.failing_since, obj.disabled_at, obj.disabled_reason = None, None, ""
        super().save_model(request, obj, form, change)

    @admin.action(description="Replay the last 24 hours of the selected endpoints")
    def replay_last_day(self, request, queryset) -> None:
        since = timezone.now() - timedelta(days=1)
        _replay(self, request, Delivery.objects.filter(endpoint__in=queryset, created_at__gte=since))


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "event", "endpoint", "status", "response_code", "latency_ms", "attempts",
                    "next_attempt_at", "last_error"]
    list_filter = ["status", "event", "endpoint"]
    list_select_related = ["endpoint"]
    date_hierarchy = "created_at"
    search_fields = ["msg_id"]
    show_full_result_count = False
    actions = ["replay"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Replay the selected deliveries (same webhook-id)", permissions=["view"])
    def replay(self, request, queryset) -> None:
        _replay(self, request, queryset)


def _replay(model_admin: admin.ModelAdmin, request, deliveries) -> None:
    """Both actions: the count replayed, or why nothing was (too many at once)."""
    try:
        ids = delivery.replay(deliveries)
    except DomainError as e:
        model_admin.message_user(request, e.message, messages.ERROR)
        return
    model_admin.message_user(request, f"{len(ids)} deliveries queued again.", messages.SUCCESS)
