"""Admin: sources (write keys, shown once) and the page category rules."""

from django.contrib import admin, messages

from .models import PageRule, Source


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "key_hint", "active", "created_at", "key_rotated_at"]
    list_filter = ["team", "active"]
    readonly_fields = ["key_hint", "created_at", "key_rotated_at"]
    actions = ["rotate_keys"]

    def save_model(self, request, obj, form, change):
        key = None if change else obj.issue_key()
        super().save_model(request, obj, form, change)
        if key:
            self._show(request, obj, key)

    @admin.action(description="Rotate the write key (the old key stops working at once)")
    def rotate_keys(self, request, queryset):
        for source in queryset:
            key = source.issue_key()
            source.save(update_fields=["key_hash", "key_hint", "key_rotated_at"])
            self._show(request, source, key)

    def _show(self, request, source, key: str) -> None:
        # Only the hash is stored: this message is the one time the key can be read.
        messages.warning(request, f"Write key of “{source}”: {key} — copy it now; it is not shown again.")


@admin.register(PageRule)
class PageRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "team", "field", "op", "value", "category"]
    list_display_links = ["value"]
    list_editable = ["position", "category"]
    list_filter = ["team", "field"]
