from __future__ import annotations

from django import forms
from django.utils import timezone

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
