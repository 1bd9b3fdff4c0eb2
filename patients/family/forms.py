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


# What the family reads when the text name they typed cannot be used (text_names.text_name_problem).
TEXT_NAME_PROBLEMS = {
    "empty": _("Please type a short name, for example the first letter and a dot: L."),
    "too_long": _("Please use 12 letters or fewer."),
    "characters": _("Please use letters only (a dot, a space or a dash is fine)."),
    "full_name": _(
        "Please do not use your child's full first or last name: anyone can read a text on a locked "
        "phone. A nickname or initials work well."
    ),
    "clinical": _(
        "Please choose a name without medical words (no medicine, pump or illness): anyone can read "
        "a text on a locked phone."
    ),
    "taken": _("Another of your children already has this name in texts. Please choose a different one."),
}


class ChildAboutForm(forms.Form):
    """How the texts name this child (a nickname or initials, unique in the family), and what
    comforts the child at refills (the handout asks families to tell the nurses)."""

    text_name = forms.CharField(
        label=_("Name in text messages"),
        max_length=40,
        help_text=_(
            "A nickname or initials, up to 12 letters. Not the full name: anyone can read a text on a "
            "locked phone. Each of your children needs a different one."
        ),
        error_messages={"required": TEXT_NAME_PROBLEMS["empty"]},
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "words"}),
    )
    comfort_note = forms.CharField(
        label=_("What comforts your child at refills"),
        required=False,
        max_length=300,
        help_text=_(
            "For example music, a book, a toy or a video. The pump nurses read it before the refill. "
            "Up to 300 letters."
        ),
        error_messages={"max_length": _("Please keep it to 300 letters or fewer.")},
        widget=forms.Textarea(attrs={"rows": 3}),
    )
