"""Forms both the family's pages and the nurses' console use."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ProofCodeForm(forms.Form):
    """The 6-digit code texted to a new mobile number."""

    code = forms.CharField(
        label=_("Code from the text"),
        max_length=12,
        error_messages={
            "required": _("Please type the 6 numbers from the text."),
            "max_length": _("The code has 6 numbers."),
        },
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
