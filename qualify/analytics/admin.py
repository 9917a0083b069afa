"""Admin: CSV import jobs (read-only: they are created and run from the Import page or the API)."""

from django.contrib import admin

from .models import ImportJob, RefreshState


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "team", "filename", "created_by", "created_at", "status", "dry_run", "total_rows", "good_rows", "bad_rows"]
    list_filter = ["kind", "status", "team"]
    exclude = ["content"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "content"]

    def has_add_permission(self, request):
        return False


@admin.register(RefreshState)
class RefreshStateAdmin(admin.ModelAdmin):
    list_display = ["refreshed_at", "full_at", "last_leads", "last_seconds", "stagechange_id", "touch_id"]
    readonly_fields = list_display

    def has_add_permission(self, request):
        return False
