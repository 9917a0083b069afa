from __future__ import annotations

from django import forms
from django.utils import timezone

from qualify.ids import posted_id

from .bulk import ACTIONS
from .models import NOTE_MAX_LENGTH, DisqualifyReason, ReasonAction, TouchKind, TouchOutcome, note_too_long


def _note_length(value: str) -> None:
    """The verbs' own message (one number format: "20,000"), not Django's max_length one."""
    if len(value) > NOTE_MAX_LENGTH:
        raise forms.ValidationError(note_too_long(len(value)), code="max_length")


def note_field() -> forms.CharField:
    return forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), validators=[_note_length])


class TouchForm(forms.Form):
    kind = forms.ChoiceField(choices=TouchKind.choices, error_messages={
        "required": "Choose what kind of touch it was (call, email...).",
        "invalid_choice": "'%(value)s' is not a kind of touch.",
    })
    outcome = forms.ChoiceField(choices=TouchOutcome.choices, error_messages={
        "required": "Choose the touch's outcome.",
        "invalid_choice": "'%(value)s' is not a touch outcome.",
    })
    note = note_field()


class MoveForm(forms.Form):
    to = forms.CharField()
    expect = forms.CharField(required=False)


class ReasonForm(forms.Form):
    """Nurture or disqualify: the reason's own rules (note length, recycle delay) are checked by
    the lifecycle, not here, so the API and the page refuse exactly the same things."""

    reason = forms.ModelChoiceField(
        queryset=DisqualifyReason.objects.filter(active=True), empty_label="Choose a reason…",
        widget=forms.Select(attrs={"aria-label": "Reason"}),
        error_messages={"required": "Choose a reason.", "invalid_choice": "That reason no longer exists; choose another."},
    )
    note = note_field()
    recycle_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "The recycle date is not a date; use the date picker (YYYY-MM-DD)."},
    )

    def __init__(self, *args, kind: str = "disqualify", **kwargs):
        super().__init__(*args, **kwargs)
        if kind == "nurture":
            self.fields["reason"].queryset = DisqualifyReason.objects.filter(active=True, action=ReasonAction.NURTURE)
            self.fields["recycle_on"].widget.attrs["min"] = (timezone.localdate()).isoformat()
        else:
            self.fields["reason"].queryset = DisqualifyReason.objects.filter(active=True)
            del self.fields["recycle_on"]


class LeadIdsField(forms.Field):
    """The checked rows: any integers. Which of them the user may change is decided row by row."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        ids = [posted_id(v) for v in value or []]  # int() read "١٢" as lead 12
        if None in ids:
            raise forms.ValidationError("The selection is not a list of lead ids.")
        return ids


class BulkForm(forms.Form):
    """The queue's bulk bar: an action, the selected rows, and what the action needs. Each rule
    here names what is missing; the verbs then judge each row (bulk.apply)."""

    action = forms.ChoiceField(choices=[], error_messages={
        "required": "Choose what to do with the selected leads.",
        "invalid_choice": "'%(value)s' is not something the queue can do to leads.",
    })
    ids = LeadIdsField(error_messages={"required": "Select at least one lead first."})
    owner = forms.IntegerField(required=False, error_messages={"invalid": "Choose who gets the leads."})
    reason = forms.ModelChoiceField(
        queryset=DisqualifyReason.objects.filter(active=True), required=False,
        error_messages={"invalid_choice": "That reason no longer exists; choose another."},
    )
    note = forms.CharField(required=False, validators=[_note_length])

    def __init__(self, *args, max_rows: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.max_rows = max_rows
        self.fields["action"].choices = list(ACTIONS.items())

    def clean(self):
        data = super().clean()
        action, ids = data.get("action"), data.get("ids") or []
        if len(ids) > self.max_rows:
            raise forms.ValidationError(f"Select at most {self.max_rows} leads at a time ({len(ids)} selected).")
        if action in ("nurture", "disqualify") and not data.get("reason"):
            self.add_error("reason", f"Choose a reason to {action} the selected leads.")
        if action == "nurture" and data.get("reason") and data["reason"].action != ReasonAction.NURTURE:
            self.add_error("reason", f"“{data['reason']}” does not nurture leads; choose a nurture reason.")
        if action == "reassign" and not data.get("owner"):
            self.add_error("owner", "Choose who gets the selected leads.")
        return data
