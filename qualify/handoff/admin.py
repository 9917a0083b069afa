from django.contrib import admin

from .models import Handoff


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    """Handoffs are decided in the app (accept/reject rules live there); admin reads them."""

    list_display = ["lead", "from_user", "to_user", "status", "reason", "created_at", "decided_at"]
    list_filter = ["status", "team", "reason", "source"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "lead__account__name"]
    list_select_related = ["lead", "from_user", "to_user", "reason"]
    readonly_fields = [f.name for f in Handoff._meta.fields]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
