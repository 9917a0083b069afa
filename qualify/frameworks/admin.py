"""RevOps edits frameworks and criteria here. Answers are read-only: they are the record.

Rewording a criterion (question, guidance, answer type, choices) goes through Criterion.save(),
which keeps the previous wording as a revision and bumps the version, from the Framework inline
and the Criterion page alike.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from qualify.leads.models import Segment

from .models import Answer, Criterion, CriterionRevision, Framework


class LinesField(forms.CharField):
    """A list of strings edited as one per line (choices may contain commas)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 30})

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, (list, tuple)) else value

    def to_python(self, value) -> list[str]:
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class FrameworkForm(forms.ModelForm):
    segments = forms.MultipleChoiceField(
        choices=Segment.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Account segments this framework covers; none ticked means all segments.",
    )

    class Meta:
        model = Framework
        fields = "__all__"

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("is_default") and cleaned.get("teams"):
            self.add_error("teams", "The default framework applies to every team; leave teams empty.")
        return cleaned


class CriterionForm(forms.ModelForm):
    choices = LinesField(required=False, help_text="One per line; only for the 'choice' answer type.")

    class Meta:
        model = Criterion
        fields = "__all__"
        widgets = {
            "question": forms.Textarea(attrs={"rows": 2, "cols": 40}),
            "guidance": forms.Textarea(attrs={"rows": 2, "cols": 40}),
        }


class CriterionInline(admin.StackedInline):
    model = Criterion
    form = CriterionForm
    extra = 0
    ordering = ["position", "id"]
    fields = [
        ("position", "key", "dimension"),
        "question",
        "guidance",
        ("answer_type", "choices"),
        ("weight", "required_for_handoff", "active", "version"),
    ]
    readonly_fields = ["version"]
    show_change_link = True


@admin.register(Framework)
class FrameworkAdmin(admin.ModelAdmin):
    form = FrameworkForm
    list_display = ["name", "position", "active", "is_default", "team_list", "segment_list", "criteria_count"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    list_filter = ["active", "is_default", "teams"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["teams"]
    ordering = ["position", "id"]
    inlines = [CriterionInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", "active", "position"]}),
        ("Applies to", {
            "fields": ["teams", "segments", "is_default"],
            "description": "A lead gets the first active framework, by position, whose teams include the "
            "lead's team (or that names none) and whose segments include its account's segment (or that names "
            "none). The default framework is the catch-all, used when no other framework matches.",
        }),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Framework]:
        return (
            super().get_queryset(request)
            .prefetch_related("teams")
            .annotate(n_criteria=Count("criteria", distinct=True))
        )

    @admin.display(description="Teams")
    def team_list(self, obj: Framework) -> str:
        return ", ".join(t.name for t in obj.teams.all()) or "All teams"

    @admin.display(description="Segments")
    def segment_list(self, obj: Framework) -> str:
        return ", ".join(obj.segment_labels()) or "All segments"

    @admin.display(description="Criteria", ordering="n_criteria")
    def criteria_count(self, obj: Framework) -> int:
        return obj.n_criteria


class CriterionRevisionInline(admin.TabularInline):
    model = CriterionRevision
    extra = 0
    can_delete = False
    ordering = ["-version"]
    fields = ["version", "question", "guidance", "answer_type", "choices", "created_at"]
    readonly_fields = fields
    verbose_name = "earlier wording"
    verbose_name_plural = "earlier wordings"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    form = CriterionForm
    list_display = [
        "dimension", "framework", "key", "position", "answer_type", "weight", "required_for_handoff", "active",
        "version",
    ]
    list_filter = ["framework", "answer_type", "required_for_handoff", "active"]
    search_fields = ["key", "dimension", "question", "guidance", "framework__name"]
    list_select_related = ["framework"]
    ordering = ["framework__position", "framework_id", "position", "id"]
    readonly_fields = ["version"]
    fields = [
        "framework", ("position", "key", "dimension"), "question", "guidance", ("answer_type", "choices"),
        ("weight", "required_for_handoff", "active"), "version",
    ]
    inlines = [CriterionRevisionInline]


@admin.register(Answer)
class AnswerAdmin(admin.ModelAdmin):
    """Read-only: answers are append-only evidence; a correction is a new answer on the lead page."""

    list_display = ["lead", "criterion", "display_value", "criterion_version", "author", "created_at"]
    list_filter = ["criterion__framework", "status", "criterion"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email"]
    list_select_related = ["lead", "criterion__framework", "author"]
    autocomplete_fields = ["lead", "author"]
    date_hierarchy = "created_at"
    fields = [
        "lead", "criterion", "criterion_version", "question_text", "status", "value", "evidence", "author",
        "created_at",
    ]

    @admin.display(description="Answer")
    def display_value(self, obj: Answer) -> str:
        return obj.display_value

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
