"""Forms for the parents' portal. Every label, help text and error is in plain, translatable words."""

from django import forms
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
