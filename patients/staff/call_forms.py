"""Forms of the reminder engine's staff pages."""

from __future__ import annotations

from django import forms

from alerts.models import LadderStep


class CallOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="How did the call go?",
        choices=LadderStep.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose how the call went.",
            "invalid_choice": "Choose how the call went.",
        },
    )
    note = forms.CharField(
        label="Note (optional)", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
