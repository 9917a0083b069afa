"""Prediction versions in admin: list with progress, train on demand, approve or decline."""

from __future__ import annotations

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from qualify.errors import DomainError

from . import versions
from .models import PredictionVersion


@admin.register(PredictionVersion)
class PredictionVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "status", "progress_bar", "held_out_auc", "held_out_ece", "window_days", "trained_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in PredictionVersion._meta.fields if f.name != "artifact"] + ["quality_page"]
    exclude = ["artifact"]
    actions = ["train_now", "approve", "decline"]

    def has_add_permission(self, request) -> bool:
        return False  # versions come from training (the action below), never typed in

    @admin.display(description="Progress")
    def progress_bar(self, obj: PredictionVersion) -> str:
        return format_html(
            '<progress max="100" value="{}" style="width: 10em">{}%</progress> {}% {}', obj.progress, obj.progress,
            obj.progress, obj.progress_note,
        )

    @admin.display(description="Held-out AUC")
    def held_out_auc(self, obj: PredictionVersion):
        auc = obj.overall.get("auc")
        return f"{auc:.3f}" if auc is not None else "—"

    @admin.display(description="ECE")
    def held_out_ece(self, obj: PredictionVersion):
        ece = obj.overall.get("ece")
        return f"{ece:.3f}" if ece is not None else "—"

    @admin.display(description="Quality page")
    def quality_page(self, obj: PredictionVersion) -> str:
        return format_html('<a href="{}">Charts and tables</a>', reverse("predictions:version", args=[obj.pk]))

    @admin.action(description="Train a new version now (whatever is selected)")
    def train_now(self, request, queryset) -> None:
        version = versions.request_training(by=request.user)
        self.message_user(request, f"{version} is {version.get_status_display().lower()}; its progress shows here.")

    @admin.action(description="Approve the selected version (scores every lead, then activates it)")
    def approve(self, request, queryset) -> None:
        self._decide(request, queryset, versions.approve)

    @admin.action(description="Decline the selected version")
    def decline(self, request, queryset) -> None:
        self._decide(request, queryset, versions.decline)

    def _decide(self, request, queryset, verb) -> None:
        for version in queryset:
            try:
                verb(version, by=request.user)
            except DomainError as e:
                self.message_user(request, e.message, level=messages.ERROR)
