import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.db.models import Count
from django.forms import ModelForm
from django.http import HttpRequest

from qualify.errors import DomainError

from . import merge, properties, records
from .assignment import assign
from .changes import gathered
from .models import Account, DisqualifyReason, Event, Lead, Property, PropertyEntity, StageChange, Touch
from .touches import log_touch


def _merge_two(model_admin, request, queryset, verb) -> None:
    """The admin's merge: exactly two records, through the same verb as the page and the API. The
    survivor is the lead further along (then the older), or the older account; every field takes
    the non-empty, more recently changed value. For a field-by-field choice use the duplicates page."""
    rows = list(queryset.order_by("pk")[:3])
    if len(rows) != 2:
        model_admin.message_user(request, "Select exactly two records to merge.", messages.ERROR)
        return
    survivor = merge.default_survivor(*rows) if isinstance(rows[0], Lead) else rows[0]
    other = rows[1] if survivor is rows[0] else rows[0]
    try:
        kept = verb(survivor, other, by=request.user)
    except DomainError as e:
        model_admin.message_user(request, e.message, messages.ERROR)
        return
    except PermissionDenied as e:  # staff who are not the team's manager nor RevOps
        model_admin.message_user(request, str(e), messages.ERROR)
        return
    model_admin.message_user(request, f"Merged #{other.pk} into {kept} (#{kept.pk}).")


def _property_changes(form: ModelForm, entity: str) -> None:
    """The admin edits the whole properties dict as JSON; the verbs take a partial change, so a
    key the admin deleted becomes key: None. Validated here (form error, nothing saved) rather
    than in save_model, where a DomainError would be a 500."""
    if "properties" not in form.changed_data:
        return
    new = form.cleaned_data.get("properties") or {}
    if not isinstance(new, dict):
        form.add_error("properties", "Properties are an object of key: value.")
        return
    old = form.instance.properties if form.instance.pk else {}
    changes = {**{key: None for key in old if key not in new}, **new}
    try:
        properties.clean_values(entity, old, changes)
    except DomainError as e:
        form.add_error("properties", e.message)
        return
    form.cleaned_data["properties"] = changes


class AccountForm(ModelForm):
    def clean(self):
        cleaned = super().clean()
        _property_changes(self, PropertyEntity.ACCOUNT)
        return cleaned


class LeadForm(ModelForm):
    def clean(self):
        cleaned = super().clean()
        _property_changes(self, PropertyEntity.LEAD)
        return cleaned


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    form = AccountForm
    list_display = ["name", "domain", "industry", "employee_count", "segment", "region", "team", "owner"]
    list_filter = ["segment", "region", "team", "industry", "revenue_band"]
    search_fields = ["name", "domain"]
    autocomplete_fields = ["owner", "team"]
    list_select_related = ["team", "owner"]
    show_full_result_count = False
    actions = ["merge_two"]

    def get_readonly_fields(self, request: HttpRequest, obj: Account | None = None):
        # records.edit_account keeps an account in its team (its leads would be stranded).
        return [*super().get_readonly_fields(request, obj), *(["team"] if obj is not None else [])]

    @admin.action(description="Merge the two selected accounts (the older one is kept)")
    def merge_two(self, request, queryset):
        _merge_two(self, request, queryset, merge.merge_accounts)

    def save_model(self, request: HttpRequest, obj: Account, form: ModelForm, change: bool) -> None:
        """Through records.create_account / edit_account, like every other door."""
        values = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            fresh = Account.objects.get(pk=obj.pk)
            records.edit_account(fresh, by=request.user, **values)
            obj.refresh_from_db()
        else:
            created = records.create_account(by=request.user, **{f: form.cleaned_data[f] for f in form.cleaned_data})
            obj.pk = created.pk
            obj.refresh_from_db()


class StageChangeInline(admin.TabularInline):
    model = StageChange
    extra = 0
    can_delete = False
    fields = ["at", "from_stage", "to_stage", "by", "reason", "why"]
    readonly_fields = fields
    ordering = ["-at"]

    def has_add_permission(self, request, obj=None):
        return False


class TouchInline(admin.TabularInline):
    """Touches as they were logged; a new one is logged from Touches (through log_touch)."""

    model = Touch
    extra = 0
    can_delete = False
    fields = ["occurred_at", "kind", "outcome", "author", "note"]
    readonly_fields = fields
    ordering = ["-occurred_at"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    form = LeadForm
    list_display = ["__str__", "email", "account", "team", "owner", "stage", "score", "source", "created_at"]
    list_filter = ["stage", "source", "team", "account__segment", "seniority", "persona"]
    search_fields = ["first_name", "last_name", "email", "account__name", "external_id"]
    autocomplete_fields = ["account", "owner", "ae"]
    list_select_related = ["account", "team", "owner"]
    readonly_fields = ["stage", "stage_changed_at", "recycle_on", "disqualify_reason", "score", "last_touch_at", "created_at", "updated_at"]
    # The owner and AE change through assignment (the "Return to pool" action, the lead page's
    # reassign card) so every change is recorded; a new lead may be created with an owner.
    owner_fields = ["owner", "ae"]
    # Counting a million rows on every changelist page costs more than the page; show "Show all".
    show_full_result_count = False
    inlines = [StageChangeInline, TouchInline]
    actions = ["return_to_pool", "merge_two"]
    fieldsets = [
        (None, {"fields": ["first_name", "last_name", "email", "phone", "title", "seniority", "department", "persona"]}),
        ("Ownership", {"fields": ["account", "team", "owner", "ae"]}),
        ("Source", {"fields": ["source", "campaign", "partner_name", "partner_contact", "external_id"]}),
        ("Custom properties (JSON of key: value; see Properties)", {"fields": ["properties"]}),
        ("Lifecycle (changed through the workflow, not here)", {"fields": readonly_fields}),
    ]

    def get_readonly_fields(self, request, obj=None):
        # A lead keeps its team here, as an account does: a move would keep its account and owner
        # of the old team (the API refuses the account; nothing here checked either).
        return [*self.readonly_fields, *(self.owner_fields + ["team"] if obj is not None else ["ae"])]

    def save_model(self, request: HttpRequest, obj: Lead, form: ModelForm, change: bool) -> None:
        """Through records.create_lead / edit_lead, like every other door."""
        if change:
            values = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
            records.edit_lead(Lead.objects.get(pk=obj.pk), by=request.user, **values)
        else:
            values = dict(form.cleaned_data)
            created = records.create_lead(by=request.user, **values)
            obj.pk = created.pk
        obj.refresh_from_db()

    @admin.action(description="Return selected leads to their team's pool")
    def return_to_pool(self, request, queryset):
        with gathered():  # one batch for the after-commit listeners, however many leads
            for lead in queryset.select_related("team"):
                try:
                    assign(lead, owner=None, by=request.user, why="Returned to the pool in admin")
                except DomainError as e:
                    self.message_user(request, f"{lead}: {e.message}", messages.ERROR)
        self.message_user(request, "Returned to the pool.")

    @admin.action(description="Merge the two selected leads (the one further along keeps its stage and owner)")
    def merge_two(self, request, queryset):
        _merge_two(self, request, queryset, merge.merge_leads)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Events are immutable signals; admin can look, never edit."""

    list_display = ["type", "lead", "occurred_at", "received_at", "client_id"]
    list_filter = ["type"]
    search_fields = ["client_id", "lead__email"]
    raw_id_fields = ["lead"]
    show_full_result_count = False

    def has_change_permission(self, request, obj=None):
        return False


class TouchForm(ModelForm):
    def clean_occurred_at(self):
        at = self.cleaned_data.get("occurred_at")
        if at and at > timezone.now() + datetime.timedelta(minutes=5):
            raise ValidationError("A touch cannot be logged in the future.")
        return at


@admin.register(Touch)
class TouchAdmin(admin.ModelAdmin):
    """A touch added here is logged through log_touch (last touch, SLA clocks, Working), as the
    author admin names; a logged touch is history and stays as it was."""

    form = TouchForm
    list_display = ["occurred_at", "lead", "author", "kind", "outcome"]
    list_filter = ["kind", "outcome"]
    search_fields = ["lead__email", "lead__last_name", "note"]
    autocomplete_fields = ["lead", "author"]
    list_select_related = ["lead", "author"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return ["lead", "author", "kind", "outcome", "note", "occurred_at"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Touch, form: ModelForm, change: bool) -> None:
        if change:
            return
        data = form.cleaned_data
        touch = log_touch(data["lead"], by=data["author"], kind=data["kind"], outcome=data["outcome"],
                          note=data.get("note") or "", occurred_at=data.get("occurred_at"))
        obj.pk = touch.pk
        obj.refresh_from_db()


@admin.register(DisqualifyReason)
class DisqualifyReasonAdmin(admin.ModelAdmin):
    list_display = ["name", "action", "recycle_days", "note_required", "min_note_length", "dimension", "active", "position", "uses"]
    list_editable = ["active", "position"]
    list_filter = ["action", "active"]
    search_fields = ["name", "description"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            _uses=Count("stage_changes")
        )

    @admin.display(description="Used", ordering="_uses")
    def uses(self, obj) -> int:
        return obj._uses

    def has_delete_permission(self, request, obj=None):
        """Reasons in use can only be retired (unticked "active"), never deleted."""
        if obj is None:
            return super().has_delete_permission(request)
        in_use = StageChange.objects.filter(reason=obj).exists() or Lead.objects.filter(disqualify_reason=obj).exists()
        return not in_use and super().has_delete_permission(request, obj)




class PropertyForm(ModelForm):
    class Meta:
        model = Property
        fields = ["key", "label", "entity", "kind", "choices", "known_after_contact", "active", "position"]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and ("key" in self.changed_data or "entity" in self.changed_data or "kind" in self.changed_data):
            # Stored values, filters, rules and exports name the key and rely on the kind.
            raise ValidationError("The key, entity and kind of a property are fixed once created; retire it and add another.")
        try:
            cleaned["choices"] = properties.validate_definition(
                key=cleaned.get("key", ""), label=cleaned.get("label", ""), entity=cleaned.get("entity", ""),
                kind=cleaned.get("kind", ""), choices=cleaned.get("choices"),
            )
        except DomainError as e:
            raise ValidationError({e.field: e.message} if e.field in self.fields else e.message) from None
        return cleaned


@admin.register(Property)
class PropertyAdmin(admin.ModelAdmin):
    """RevOps defines the fields real exports carry; values live on each lead/account (JSONB)."""

    form = PropertyForm
    list_display = ["label", "key", "entity", "kind", "known_after_contact", "active", "position"]
    list_filter = ["entity", "kind", "active", "known_after_contact"]
    search_fields = ["key", "label"]
    list_editable = ["known_after_contact", "active", "position"]

    def has_delete_permission(self, request, obj=None):
        return False  # values and history name the key: retire (active off) instead
