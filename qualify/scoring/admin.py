"""RevOps edits scoring here: models with their segment conditions, groups and rules (a draft until
published), versions (read-only), recompute runs with live progress, and score history."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html

from qualify import queueing
from qualify.errors import DomainError
from qualify.formatting import show_datetime

from . import effect, runs
from .models import (
    FIELD_CHOICES, ModelVersion, Op, Rule, RuleGroup, ScoreRun, ScoreSnapshot, ScoringModel, SegmentCondition, condition_fields,
    show_values, unreachable_total_cap, value_labels,
)


class FieldMenu(forms.Select):
    """The field menu is as wide as the longest built-in field's name; a custom property's label
    (up to 100 characters) is cut in it. So the menu's title carries the chosen name, and a name
    longer than any built-in one is also written out under the menu, wrapped (scoring_admin.css
    hides it once another field is chosen)."""

    fits = max(len(label) for _, label in FIELD_CHOICES)

    def render(self, name, value, attrs=None, renderer=None):
        chosen = dict(self.choices).get(value or "", "") if value else ""
        html = super().render(name, value, {**(attrs or {}), "title": chosen} if chosen else attrs, renderer)
        if len(chosen) > self.fits:
            return format_html('{}<span class="field-full">{}</span>', html, chosen)
        return html


class ConditionFieldMenu:
    """The field of a rule or condition as a menu of built-in fields and active custom properties."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "field":
            return forms.ChoiceField(choices=[("", "---------"), *condition_fields()], required=False, widget=FieldMenu)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


class SegmentConditionInline(ConditionFieldMenu, admin.TabularInline):
    model = SegmentCondition
    extra = 0
    verbose_name_plural = "Segment: all of these must hold (none on the default model)"


class RuleGroupInline(admin.TabularInline):
    model = RuleGroup
    extra = 0
    fields = ["name", "kind", "cap", "window_days", "position"]


class WrappingText(forms.Textarea):
    """A one-line text that wraps in its box (scoring_admin.css grows the box to its content) rather
    than being cut: the rules table has no room for a long label or list of values on one line."""

    def __init__(self, attrs=None):
        super().__init__({"rows": 1, "cols": 20, **(attrs or {})})

    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return " ".join(value.split()) if isinstance(value, str) else value  # a line break typed in it


class ValueText(WrappingText):
    """The value as stored (the engine compares codes), and under it the labels of its codes where
    the rule's field has choices: "c_level" reads C-level."""

    labels: dict[str, str] = {}

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs, renderer)
        if shown := show_values(value or "", self.labels):
            return format_html('{}<span class="value-labels">{}</span>', html, shown)
        return html


# The operator menu in words that fit its column; the header's help says how to write the value.
OP_CHOICES = [(Op.EQUALS, "equals"), (Op.ONE_OF, "is one of"), (Op.RANGE, "is in range"), (Op.CONTAINS, "contains")]
OP_HELP = "is one of: values separated by commas; is in range: low..high, either end may be left out."


class RuleForm(forms.ModelForm):
    op = forms.ChoiceField(choices=OP_CHOICES, initial=Op.EQUALS, help_text=OP_HELP)

    class Meta:
        model = Rule
        fields = "__all__"
        widgets = {"label": WrappingText(), "value": ValueText()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.data.get(self.add_prefix("field"), "") if self.is_bound else self.instance.field
        self.fields["value"].widget.labels = value_labels(field or "")
        self.fields["position"].label = "Order"  # a narrower header for a narrow column


class RuleInline(ConditionFieldMenu, admin.TabularInline):
    model = Rule
    form = RuleForm
    extra = 0
    fields = ["group", "label", "points", "fires_now", "field", "event_type", "prop", "op", "value", "cap", "hard_trigger",
              "active", "position"]
    readonly_fields = ["fires_now"]
    # Set per request by ScoringModelAdmin.get_inline_instances (admin makes an inline per request).
    counts: effect.RuleEffect | None = None

    @admin.display(description="Fires now")
    def fires_now(self, rule: Rule) -> str:
        if not rule.pk or self.counts is None:
            return "—"
        return format_html('<span data-rule-fires="{}" title="{}">{}</span>', rule.pk, self.counts.why(rule.pk),
                           self.counts.describe(rule.pk))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only this model's groups (the draft being edited); a new model has none until saved.
        if db_field.name == "group":
            model_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
            kwargs["queryset"] = RuleGroup.objects.filter(model_id=model_id) if model_id else RuleGroup.objects.none()
            field = super().formfield_for_foreignkey(db_field, request, **kwargs)
            field.label_from_instance = lambda group: group.name  # its kind is in the groups table above
            return field
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ScoringModel)
class ScoringModelAdmin(admin.ModelAdmin):
    list_display = ["name", "is_default", "priority", "active", "mql_threshold", "half_life_days", "rule_count",
                    "published", "draft_state", "updated_at"]
    list_filter = ["active", "is_default"]
    search_fields = ["name", "description", "rules__label"]
    inlines = [SegmentConditionInline, RuleGroupInline, RuleInline]
    actions = ["publish_selected"]
    readonly_fields = ["published", "draft_state"]
    change_form_template = "admin/scoring/scoringmodel/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "description", "priority", "is_default", "active", "published", "draft_state"]}),
        ("Threshold and decay", {"fields": ["mql_threshold", "half_life_days"]}),
        ("Caps", {"fields": ["fit_cap", "engagement_cap", "total_cap"]}),
        ("Fit grades", {"fields": ["grade_a", "grade_b", "grade_c"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("current_version").annotate(
            n_rules=Count("rules", filter=Q(rules__active=True), distinct=True)
        ).distinct()

    @admin.display(description="Rules", ordering="n_rules")
    def rule_count(self, obj: ScoringModel) -> int:
        return getattr(obj, "n_rules", obj.rules.filter(active=True).count())

    @admin.display(description="Published version")
    def published(self, obj: ScoringModel) -> str:
        v = obj.current_version
        return f"v{v.number} ({show_datetime(v.published_at)})" if v else "never"

    @admin.display(description="Draft")
    def draft_state(self, obj: ScoringModel) -> str:
        if not obj.pk:
            return "new"
        if not obj.current_version:
            return "unpublished"
        return "same as published" if obj.draft_is_published() else "changed — publish to apply"

    @admin.action(description="Publish (new version) and recompute scores")
    def publish_selected(self, request: HttpRequest, queryset) -> None:
        for model in queryset:
            self._publish(request, model)

    def _publish(self, request: HttpRequest, model: ScoringModel) -> None:
        try:
            version = runs.publish(model, by=request.user)
        except DomainError as exc:
            self.message_user(request, f"{model}: {exc.message}", messages.ERROR)
            return
        run = version.runs.order_by("-id").first()
        url = reverse("admin:scoring_scorerun_change", args=[run.pk]) if run else ""
        self.message_user(
            request,
            format_html('{} published as v{}; <a href="{}">recompute progress</a>.', model, version.number, url),
            messages.SUCCESS,
        )

    class Media:
        css = {"all": ["css/scoring_admin.css"]}

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """Warn, on every view of the draft, when its caps make the total cap unreachable; count
        what each saved rule fires on (effect.rule_effect: one bounded statement) for the rules."""
        model = self.get_object(request, object_id)
        if request.method == "GET" and model is not None:
            if warning := unreachable_total_cap(model.fit_cap, model.engagement_cap, model.total_cap):
                self.message_user(request, warning, messages.WARNING)
            request.rule_effect = effect.rule_effect(model)
            extra_context = {**(extra_context or {}), "rule_effect": request.rule_effect,
                             "draft_is_published": model.draft_is_published()}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_inline_instances(self, request: HttpRequest, obj=None):
        inlines = super().get_inline_instances(request, obj)
        for inline in inlines:
            if isinstance(inline, RuleInline):
                inline.counts = getattr(request, "rule_effect", None)
        return inlines

    def save_model(self, request: HttpRequest, obj: ScoringModel, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if warning := unreachable_total_cap(obj.fit_cap, obj.engagement_cap, obj.total_cap):
            self.message_user(request, warning, messages.WARNING)

    def get_urls(self):
        return [
            path("<int:object_id>/publish/", self.admin_site.admin_view(self.publish_view), name="scoring_scoringmodel_publish"),
            *super().get_urls(),
        ]

    def publish_view(self, request: HttpRequest, object_id: int):
        if request.method != "POST" or not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:scoring_scoringmodel_change", args=[object_id]))
        model = ScoringModel.objects.get(pk=object_id)
        self._publish(request, model)
        return HttpResponseRedirect(reverse("admin:scoring_scoringmodel_change", args=[object_id]))


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "model", "number", "published_at", "published_by", "note"]
    list_filter = ["model"]
    search_fields = ["model__name", "note"]
    readonly_fields = ["model", "number", "spec", "published_at", "published_by"]
    list_select_related = ["model", "published_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        """The same warning for a published version, read from its frozen spec."""
        version = self.get_object(request, object_id)
        if request.method == "GET" and version is not None:
            spec = version.spec
            if warning := unreachable_total_cap(spec.get("fit_cap"), spec.get("engagement_cap"), spec.get("total_cap")):
                self.message_user(request, warning, messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ScoreRun)
class ScoreRunAdmin(admin.ModelAdmin):
    list_display = ["__str__", "state", "progress", "changed", "mqls", "created_at", "started_at", "finished_at", "created_by"]
    list_filter = ["state", "version__model"]
    search_fields = ["version__model__name"]
    list_select_related = ["version", "created_by"]
    readonly_fields = ["version", "state", "progress_bar", "total", "done", "changed", "mqls", "cursor", "lanes",
                       "lane_cursors", "max_id",
                       "batch_size", "error", "created_at", "started_at", "finished_at", "created_by"]
    fields = readonly_fields
    actions = ["resume"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="Progress")
    def progress(self, obj: ScoreRun) -> str:
        return format_html('<progress max="100" value="{}"></progress> {}%', obj.percent, obj.percent)

    @admin.display(description="Progress")
    def progress_bar(self, obj: ScoreRun) -> str:
        from django.template.loader import render_to_string

        return format_html("{}", render_to_string("scoring/run_progress.html", {"run": obj}))

    @admin.action(description="Resume (re-queue) selected runs")
    def resume(self, request, queryset):
        from .tasks import run_recompute

        sent = [queueing.send(run_recompute, run.pk, lane, fallback="the stale-run sweep queues it")
                for run in queryset.filter(state__in=["queued", "running"]) for lane in range(run.lanes)]
        if all(sent):
            self.message_user(request, "Re-queued; a run continues from its last committed batch.")
        else:
            self.message_user(request, "The task queue cannot be reached: not re-queued. The sweep that takes over stale "
                                       "runs queues them once it can.", level=messages.ERROR)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Recompute run"}
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ScoreSnapshot)
class ScoreSnapshotAdmin(admin.ModelAdmin):
    list_display = ["lead", "kind", "stage", "score", "fit", "engagement", "grade", "version", "at"]
    list_filter = ["kind", "grade", "stage", "version"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email"]
    list_select_related = ["lead", "version"]
    raw_id_fields = ["lead"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
