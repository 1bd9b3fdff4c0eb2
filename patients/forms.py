"""Forms for the parents' portal. Every label, help text and error is in plain, translatable words."""

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from patients.models import Caregiver, Language


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%H:%M")


class TextSettingsForm(forms.ModelForm):
    """The caregiver's own text-message settings: number, consent, language and quiet hours."""

    mobile = PhoneNumberField(
        label=_("Mobile phone number"),
        required=False,
        help_text=_("The number that gets the reminders, for example 801 555 0123."),
        error_messages={
            "invalid": _(
                "This does not look like a mobile phone number. Please type the 10 digits, "
                "for example 801 555 0123."
            )
        },
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    sms_consent = forms.BooleanField(label=_("Yes, send me text messages"), required=False)

    class Meta:
        model = Caregiver
        fields = ["mobile", "preferred_language", "quiet_hours_start", "quiet_hours_end"]
        labels = {
            "preferred_language": _("Language for the portal and for text messages"),
            "quiet_hours_start": _("No texts after"),
            "quiet_hours_end": _("No texts before"),
        }
        help_texts = {
            "quiet_hours_start": _("Texts wait until morning, unless the pump alarm is 2 days away or less."),
        }
        widgets = {"quiet_hours_start": TimeInput(), "quiet_hours_end": TimeInput()}
        error_messages = {
            "quiet_hours_start": {"invalid": _("Please enter a time, for example 21:00.")},
            "quiet_hours_end": {"invalid": _("Please enter a time, for example 08:00.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sms_consent"].initial = self.instance.sms_consent
        if self.instance.mobile and self.instance.mobile.is_valid():
            # Shown the way a parent writes it; stored in E.164.
            self.initial["mobile"] = self.instance.mobile.as_national
        self.fields["preferred_language"].choices = [(v, label) for v, label in LANGUAGE_NAMES]

    def clean(self):
        data = super().clean()
        if data.get("sms_consent") and not data.get("mobile") and "mobile" not in self.errors:
            self.add_error("mobile", _("To get text messages, please enter your mobile phone number."))
        return data


# Each language named in its own words, so a parent can find theirs whatever page language.
LANGUAGE_NAMES = [(Language.ENGLISH.value, "English"), (Language.SPANISH.value, "Español")]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=LANGUAGE_NAMES)
    next = forms.CharField(required=False)


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
        from patients.lockout import sign_in_pause

        if self.errors:
            return self.cleaned_data  # no sign-in attempt (nor lockout record) for a bad shape
        if sign_in_pause(request=self.request, username=self.cleaned_data.get("username") or ""):
            raise forms.ValidationError(
                _(
                    "Sign-in is paused for a few minutes because the password was typed wrong too many "
                    "times. Please wait, then try again, or choose a new password."
                ),
                code="paused",
            )
        return super().clean()
