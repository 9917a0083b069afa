"""Notifications are read-only in admin (they record what happened); preferences are editable."""

from __future__ import annotations

from django.contrib import admin

from .models import Notification, Preference


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "title", "in_app", "read_at", "email_state"]
    list_filter = ["kind", "email_state", "in_app"]
    search_fields = ["title", "user__username"]
    list_select_related = ["user"]
    raw_id_fields = ["lead"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "in_app", "email"]
    list_filter = ["kind", "in_app", "email"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
