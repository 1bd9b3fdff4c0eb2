from django import forms
from django.utils.translation import gettext_lazy as _

from patients.accounts.two_factor import normalise_token


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
    )

    def clean_token(self) -> str:
        token = normalise_token(self.cleaned_data["token"])
        if not token:
            raise forms.ValidationError(_("Please type the code."))
        return token
