"""Accepted suggestions, read-only: who put which change into which draft, on what evidence."""

from django.contrib import admin

from .models import AcceptedSuggestion


@admin.register(AcceptedSuggestion)
class AcceptedSuggestionAdmin(admin.ModelAdmin):
    list_display = ["headline", "model", "version", "sample", "window_days", "accepted_by", "accepted_at"]
    list_filter = ["model", "kind"]
    search_fields = ["headline", "label", "evidence"]
    list_select_related = ["model", "version", "accepted_by"]
    readonly_fields = [f.name for f in AcceptedSuggestion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
