from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import DisqualifyReason, ReasonAction, TouchKind, TouchOutcome


class TouchForm(forms.Form):
    kind = forms.ChoiceField(choices=TouchKind.choices)
    outcome = forms.ChoiceField(choices=TouchOutcome.choices)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class MoveForm(forms.Form):
    to = forms.CharField()
    expect = forms.CharField(required=False)


class ReasonForm(forms.Form):
    """Nurture or disqualify: the reason's own rules (note length, recycle delay) are checked by
    the lifecycle, not here, so the API and the page refuse exactly the same things."""

    reason = forms.ModelChoiceField(queryset=DisqualifyReason.objects.filter(active=True), empty_label="Choose a reason…")
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    recycle_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, kind: str = "disqualify", **kwargs):
        super().__init__(*args, **kwargs)
        if kind == "nurture":
            self.fields["reason"].queryset = DisqualifyReason.objects.filter(active=True, action=ReasonAction.NURTURE)
            self.fields["recycle_on"].widget.attrs["min"] = (timezone.localdate()).isoformat()
        else:
            self.fields["reason"].queryset = DisqualifyReason.objects.filter(active=True)
            del self.fields["recycle_on"]
