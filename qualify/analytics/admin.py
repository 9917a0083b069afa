"""Admin: the rollups' refresh state (read-only: derived data)."""

from django.contrib import admin

from .models import RefreshState


@admin.register(RefreshState)
class RefreshStateAdmin(admin.ModelAdmin):
    list_display = ["refreshed_at", "full_at", "last_leads", "last_seconds", "stagechange_id", "touch_id"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False
