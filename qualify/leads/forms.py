from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import NOTE_MAX_LENGTH, DisqualifyReason, ReasonAction, TouchKind, TouchOutcome

# Each message names its field and the problem, so a refused form says what to fix.
NOTE_ERRORS = {"max_length": "The note is too long: %(show_value)d characters; keep it to %(limit_value)d."}


class TouchForm(forms.Form):
    kind = forms.ChoiceField(choices=TouchKind.choices, error_messages={
        "required": "Choose what kind of touch it was (call, email...).",
        "invalid_choice": "'%(value)s' is not a kind of touch.",
    })
    outcome = forms.ChoiceField(choices=TouchOutcome.choices, error_messages={
        "required": "Choose the touch's outcome.",
        "invalid_choice": "'%(value)s' is not a touch outcome.",
    })
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=NOTE_MAX_LENGTH, error_messages=NOTE_ERRORS
    )


class MoveForm(forms.Form):
    to = forms.CharField()
    expect = forms.CharField(required=False)


class ReasonForm(forms.Form):
    """Nurture or disqualify: the reason's own rules (note length, recycle delay) are checked by
    the lifecycle, not here, so the API and the page refuse exactly the same things."""

    reason = forms.ModelChoiceField(
        queryset=DisqualifyReason.objects.filter(active=True), empty_label="Choose a reason…",
        error_messages={"required": "Choose a reason.", "invalid_choice": "That reason no longer exists; choose another."},
    )
    note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=NOTE_MAX_LENGTH, error_messages=NOTE_ERRORS
    )
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
