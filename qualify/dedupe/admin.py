from django.contrib import admin

from .models import DuplicateCandidate


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(admin.ModelAdmin):
    """Read-only: pairs are decided on the duplicates page (or merged with the Lead admin's action)."""

    list_display = ["kind", "low_id", "high_id", "confidence", "reason_text", "status", "team", "found_at"]
    list_filter = ["kind", "status", "team"]
    list_select_related = ["team"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
