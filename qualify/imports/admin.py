"""Admin: CSV import jobs (read-only: they are created and run from the Import page or the API)."""

from django.contrib import admin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "team", "filename", "created_by", "created_at", "status", "dry_run", "total_rows", "good_rows", "bad_rows"]
    list_filter = ["kind", "status", "team"]
    exclude = ["content"]
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name != "content"]

    def has_add_permission(self, request):
        return False
