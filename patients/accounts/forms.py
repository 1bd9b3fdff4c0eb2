"""The sign-in form."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import ngettext

from patients.accounts.lockout import sign_in_pause, sign_in_pause_minutes


class BoundedAuthenticationForm(AuthenticationForm):
    """Django's sign-in form sets the user name's max_length after the field is built, so it is
    never checked: a 20,000-character name reached the lockout records in the database. Here it
    is a form error, before anything is looked up or recorded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 254))
        self.fields["password"].validators.append(MaxLengthValidator(4096))

    def clean(self):
        if self.errors:
            return self.cleaned_data  # no sign-in attempt (nor lockout record) for a bad shape
        username = self.cleaned_data.get("username") or ""
        why = sign_in_pause(request=self.request, username=username)
        if why:
            minutes = sign_in_pause_minutes(why=why, username=username)
            raise forms.ValidationError(
                ngettext(
                    "Sign-in is paused for %(minutes)d more minute because the password was typed "
                    "wrong too many times. Please try again after that, or choose a new password.",
                    "Sign-in is paused for %(minutes)d more minutes because the password was typed "
                    "wrong too many times. Please try again after that, or choose a new password.",
                    minutes,
                )
                % {"minutes": minutes},
                code="paused",
            )
        return super().clean()
