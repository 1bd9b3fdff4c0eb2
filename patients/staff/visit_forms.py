"""The nurse's refill and programming visit form. Rules live in pumps.services; the form maps
each problem to the field it names, so every message sits next to what the nurse typed."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from django import forms
from django.utils import timezone

from patients.clinic_hours import clinic_calendar
from patients.staff.appointment_forms import (
    APPOINTMENT_AHEAD,
    VISIT_AHEAD,
    ask_hours_confirmation,
    hours_confirmation_field,
    not_too_far_ahead,
)
from pumps import delivery, safety
from pumps.models import USUAL_CONCENTRATIONS, Program
from pumps.services import (
    NEXT_HOURS_CONFIRM_FIELD,
    PROGRAM_FIELDS,
    VISIT_DETAIL_FIELDS,
    RefillError,
    dose_change_percent,
    dose_warning,
    program_draft,
    pump_fills,
    refill_forecast,
    visit_problems,
)

STEP_LINE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s+(\d+(?:\.\d+)?)\s*$")
DT_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _dec(label, required=False, places=2, **kw):
    return forms.DecimalField(label=label, required=required, decimal_places=places, max_digits=8, **kw)


def parse_flex_steps(text: str) -> list[dict]:
    """'HH:MM rate' per line (rate in mcg/hour) -> [{"start": "HH:MM", "mcg_per_hour": "rate"}]."""
    steps = []
    for n, line in enumerate(row for row in (text or "").splitlines() if row.strip()):
        match = STEP_LINE.match(line)
        if not match or int(match[1]) > 23 or int(match[2]) > 59:
            raise forms.ValidationError(
                f"Line {n + 1} ('{line.strip()}') should be a start time and a rate, like '07:00 14.5'."
            )
        steps.append({"start": f"{int(match[1]):02d}:{match[2]}", "mcg_per_hour": match[3]})
    return steps


def _is_usual(value) -> bool:
    try:
        return Decimal(str(value)) in USUAL_CONCENTRATIONS
    except (ArithmeticError, ValueError):
        return not str(value or "").strip()


def _is_zero(value) -> bool:
    try:
        return Decimal(str(value or 0)) == 0
    except (ArithmeticError, ValueError):
        return False


class VisitForm(forms.Form):
    """Every field of a refill visit (docs/rules.md#what-a-refill-visit-records). `kind` = refill,
    implant or programming."""

    visit_at = forms.DateTimeField(label="Visit date and time", widget=DT_WIDGET)
    pre_concentration_mcg_ml = _dec("Concentration before (mcg/mL)", places=1)
    pre_mode = forms.ChoiceField(
        label="Mode before", choices=[("", "—"), *Program.Mode.choices], required=False
    )
    pre_daily_dose_mcg = _dec("Daily dose before (mcg/day)")
    expected_residual_ml = _dec("Expected residual (mL, programmer)")
    actual_residual_ml = _dec("Actual residual aspirated (mL)")
    volume_instilled_ml = _dec("Volume instilled (mL)")
    volume_after_ml = _dec("Volume entered after refill (mL)", required=True)
    concentration_mcg_ml = _dec("New concentration (mcg/mL)", required=True, places=1)
    concentration_reason = forms.CharField(
        label="Reason for an unusual concentration", required=False, max_length=200
    )
    mode = forms.ChoiceField(label="Mode", choices=Program.Mode.choices)
    daily_dose_mcg = _dec("Daily dose (mcg/day)", help_text="Simple mode. For flex, fill the schedule.")
    flex_steps = forms.CharField(
        label="Flex schedule",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One step per line: start time (pump clock) and mcg/hour, for example 07:00 14.5.",
    )
    bolus_mcg = _dec("Patient bolus dose (mcg)", initial=Decimal(0))
    bolus_max_per_day = forms.IntegerField(
        label="Patient boluses allowed per day", required=False, min_value=0
    )
    alarm_volume_ml = _dec("Low-reservoir alarm volume (mL)", required=True, places=1, initial=Decimal("2.0"))
    dose_change_reason = forms.CharField(label="Reason for the dose change", required=False, max_length=300)
    dose_change_confirmed = forms.BooleanField(label="I confirm a dose change over 20%", required=False)
    bridge_bolus_ml = _dec("Bridge or other one-off bolus (mL)", places=3, initial=Decimal(0))
    bolus_note = forms.CharField(label="Bolus note", required=False, max_length=200)
    printed_alarm_date = forms.DateField(
        label="Alarm date on the programmer printout", required=False, widget=DATE_WIDGET
    )
    next_appointment_at = forms.DateTimeField(
        label="Next refill appointment", required=False, widget=DT_WIDGET
    )
    after_alarm_reason = forms.CharField(
        label="Reason the appointment is after the alarm date", required=False, max_length=300
    )
    next_appointment_hours_confirmed = hours_confirmation_field()
    tone_assessment = forms.CharField(
        label="Tone assessment",
        help_text="Printed on the after-visit summary too (as “Muscle tone today”).",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label="Notes for the family",
        help_text="Printed on the after-visit summary the family gets. Plain words, no abbreviations.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    private_notes = forms.CharField(
        label="Private notes (staff only)",
        help_text="Seen only by the clinic's staff in the chart; never printed or shown to the family.",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    eri_reported_date = forms.DateField(
        label="ERI reported by the pump on", required=False, widget=DATE_WIDGET
    )
    catheter_revised = forms.BooleanField(
        label="Catheter revised or replaced since the last fill",
        required=False,
        help_text="Observed delivery starts again from this refill.",
    )

    REFILL_ONLY = ("expected_residual_ml", "actual_residual_ml", "volume_instilled_ml", "catheter_revised")

    def __init__(self, *args, pump, kind="refill", **kwargs):
        self.pump, self.kind = pump, kind
        self.preview: dict | None = None
        self.warnings: list[str] = []
        current = pump.current_program if pump.pk else None
        if kind == "implant":
            current = None
        self.current = current
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {**self._initial_from(current), **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        if kind != "refill":
            for name in self.REFILL_ONLY:
                del self.fields[name]
        if kind == "programming":
            self.fields["volume_after_ml"].label = "Reservoir volume the programmer shows now (mL)"
        if kind == "implant":
            for name in (
                "dose_change_reason",
                "dose_change_confirmed",
                "eri_reported_date",
                "volume_instilled_ml",
            ):
                self.fields.pop(name, None)
            self.fields["volume_after_ml"].label = "Volume entered after the first fill (mL)"
            self.fields["concentration_mcg_ml"].label = "Concentration (mcg/mL)"
        if current is None:
            for name in ("pre_concentration_mcg_ml", "pre_mode", "pre_daily_dose_mcg"):
                self.fields.pop(name, None)

    @staticmethod
    def _initial_from(current: Program | None) -> dict:
        initial = {"visit_at": timezone.localtime().replace(second=0, microsecond=0)}
        if current is None:
            return initial
        steps = "\n".join(f"{s['start']} {s['mcg_per_hour']}" for s in current.flex_steps)
        return {
            **initial,
            "pre_concentration_mcg_ml": current.concentration_mcg_ml,
            "pre_mode": current.mode,
            "pre_daily_dose_mcg": current.daily_dose_mcg,
            "concentration_mcg_ml": current.concentration_mcg_ml,
            "concentration_reason": current.concentration_reason,
            "mode": current.mode,
            "daily_dose_mcg": current.daily_dose_mcg if current.mode == Program.Mode.SIMPLE else None,
            "flex_steps": steps,
            "bolus_mcg": current.bolus_mcg,
            "bolus_max_per_day": current.bolus_max_per_day,
            "alarm_volume_ml": current.alarm_volume_ml,
        }

    def _value(self, name: str):
        """What the field holds now: as typed (a bound form), else its initial value."""
        if self.is_bound:
            return self.data.get(self.add_prefix(name), "")
        return self.initial.get(name, self.fields[name].initial if name in self.fields else None)

    def applies(self, name: str) -> bool:
        """Whether a field applies to what is typed so far (refill-form.js asks the same on each
        change, from the data-applies-when attributes): a field that does not is hidden, never
        emptied; one with an error is always shown, and a reason or bolus count with a value."""
        if self.is_bound and self.errors.get(name):
            return True
        mode = self._value("mode") or Program.Mode.SIMPLE
        if name == "daily_dose_mcg":
            return mode == Program.Mode.SIMPLE
        if name == "flex_steps":
            return mode == Program.Mode.FLEX
        if name == "concentration_reason":
            return bool(self._value(name)) or not _is_usual(self._value("concentration_mcg_ml"))
        if name == "bolus_max_per_day":
            return not _is_zero(self._value(name)) or not _is_zero(self._value("bolus_mcg"))
        return True

    # The rule each hidden-when-not-applying field follows, for refill-form.js.
    APPLIES_WHEN = {
        "daily_dose_mcg": "mode=simple",
        "flex_steps": "mode=flex",
        "concentration_reason": "concentration_mcg_ml!=usual",
        "bolus_max_per_day": "bolus_mcg!=0",
    }

    @property
    def helper(self) -> FormHelper:
        """Built when the form is drawn (after validation), so it knows which fields apply."""
        return self._helper()

    def _helper(self) -> FormHelper:
        helper = FormHelper()
        helper.form_tag = False
        names = set(self.fields)

        def cell(name):
            attrs = {"css_class": "col-sm-6 col-lg-6 col-xl-4", "data_field": name}
            if name in self.APPLIES_WHEN:
                attrs["data_applies_when"] = self.APPLIES_WHEN[name]
                if not self.applies(name):
                    attrs["hidden"] = "hidden"
            return Div(name, **attrs)

        def group(title, *fields):
            present = [cell(f) for f in fields if f in names]
            return Fieldset(title, Div(*present, css_class="row")) if present else HTML("")

        helper.layout = Layout(
            group("Visit", "visit_at"),
            group(
                "Before (the programmer's reading)",
                "pre_concentration_mcg_ml",
                "pre_mode",
                "pre_daily_dose_mcg",
                "expected_residual_ml",
                "actual_residual_ml",
                "catheter_revised",
            ),
            group(
                "Fill",
                "volume_instilled_ml",
                "volume_after_ml",
                "concentration_mcg_ml",
                "concentration_reason",
                "bridge_bolus_ml",
                "bolus_note",
            ),
            group(
                "Program",
                "mode",
                "daily_dose_mcg",
                "flex_steps",
                "alarm_volume_ml",
                "bolus_mcg",
                "bolus_max_per_day",
                "dose_change_reason",
                "dose_change_confirmed",
            ),
            group(
                "Alarm date and next visit",
                "printed_alarm_date",
                "next_appointment_at",
                "next_appointment_hours_confirmed",
                "after_alarm_reason",
            ),
            group("Assessment and notes", "tone_assessment", "notes", "private_notes", "eri_reported_date"),
        )
        return helper

    def clean_flex_steps(self):
        return parse_flex_steps(self.cleaned_data.get("flex_steps", ""))

    def clean_visit_at(self):
        """No visit before the pump's implant, nor more than a year ahead."""
        value = not_too_far_ahead(self.cleaned_data["visit_at"], ahead=VISIT_AHEAD, what="A visit")
        implant = self.pump.implant_date
        if implant and timezone.localtime(value, self.pump.patient.clinic.tzinfo).date() < implant:
            raise forms.ValidationError(
                f"A visit cannot be before the pump's implant ({implant:%d %b %Y}). Check the date."
            )
        return value

    def clean_next_appointment_at(self):
        return not_too_far_ahead(
            self.cleaned_data.get("next_appointment_at"), ahead=APPOINTMENT_AHEAD, what="An appointment"
        )

    def clean_printed_alarm_date(self):
        return not_too_far_ahead(
            self.cleaned_data.get("printed_alarm_date"), ahead=APPOINTMENT_AHEAD, what="An alarm date"
        )

    def clean_eri_reported_date(self):
        return not_too_far_ahead(
            self.cleaned_data.get("eri_reported_date"), ahead=timedelta(days=1), what="An ERI date"
        )

    def program_input(self) -> dict:
        data = self.cleaned_data
        return {name: data.get(name) for name in PROGRAM_FIELDS}

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data["mode"] == Program.Mode.FLEX and not data.get("flex_steps"):
            self.add_error("flex_steps", "Flex mode needs a schedule: one line per step.")
            return data
        if data["mode"] == Program.Mode.SIMPLE and data.get("daily_dose_mcg") is None:
            self.add_error("daily_dose_mcg", "Enter the daily dose.")
            return data
        visit_at = data["visit_at"]
        printed = data.get("printed_alarm_date")
        if printed and printed <= timezone.localtime(visit_at, self.pump.patient.clinic.tzinfo).date():
            self.add_error(
                "printed_alarm_date",
                "The printout's alarm date must be after the visit. Check the date on the printout.",
            )
            return data
        draft = program_draft(pump=self.pump, program=self.program_input(), visit_at=visit_at)
        try:
            fields = refill_forecast(
                pump=self.pump,
                kind=self.kind,
                program=draft,
                visit_at=visit_at,
                volume_after_ml=data["volume_after_ml"],
                bridge_bolus_ml=data.get("bridge_bolus_ml") or Decimal(0),
                expected_residual_ml=data.get("expected_residual_ml"),
                actual_residual_ml=data.get("actual_residual_ml"),
                catheter_revised=bool(data.get("catheter_revised")),
            )
        except RefillError as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
            return data
        self.preview = self._preview(fields, draft)
        problems = visit_problems(
            kind=self.kind,
            current=self.current,
            draft=draft,
            bridge_bolus_ml=data.get("bridge_bolus_ml"),
            dose_change_confirmed=data.get("dose_change_confirmed", False),
            alarm_at_worst=self.preview["governing_alarm_at"],
            next_appointment_at=data.get("next_appointment_at"),
            after_alarm_reason=data.get("after_alarm_reason", ""),
            clinic=self.pump.patient.clinic,
            next_appointment_hours_confirmed=data.get(NEXT_HOURS_CONFIRM_FIELD, False),
        )
        for field, message in problems:
            if field == NEXT_HOURS_CONFIRM_FIELD:
                ask_hours_confirmation(self, field, message)
            else:
                self.add_error(field, message)
        return data

    def _preview(self, fields: dict, draft: Program) -> dict:
        warning = dose_warning(draft)
        if warning:
            self.warnings.append(warning)
        self._residual_warning()
        printed = self.cleaned_data.get("printed_alarm_date")
        ours = timezone.localtime(fields["alarm_at_worst"], self.pump.patient.clinic.tzinfo).date()
        if printed and abs((ours - printed).days) > 1:
            self.warnings.append(
                f"The printout's alarm date ({printed:%d %b %Y}) differs from the computed one "
                f"({ours:%d %b %Y}) by more than a day. Check the volume and the program."
            )
        clinic = self.pump.patient.clinic
        tz = clinic.tzinfo
        # The governing dates by the assessment's own function (pumps/safety.py): the earliest of
        # the programmed worst case, the observed-rate alarm and the printed date.
        dates = safety.governing_dates(
            safety.Facts(
                tz=tz,
                rules=clinic.safety_rules(),
                calendar=clinic_calendar(clinic),
                latest=safety.Visit(
                    visit_id=0,
                    at=self.cleaned_data["visit_at"],
                    alarm_at=fields["alarm_at_worst"],
                    refill_due=fields["refill_due"],
                    printed_alarm_date=printed,
                    observed_alarm_at=fields["observed_alarm_at"],
                ),
            )
        )

        def day(instant):
            return timezone.localtime(instant, tz).date() if instant else None

        return {
            **fields,
            "daily_dose_mcg": draft.daily_dose_mcg,
            "dose_change_percent": dose_change_percent(self.current, draft),
            "governing_alarm_at": dates.alarm_at,
            "governing_refill_due": dates.refill_due,
            "governing_source": dates.source,
            "delivery_words": delivery.nurse_words(
                ratio=fields["delivery_ratio"],
                spread=fields["delivery_spread"],
                fills=fields["delivery_fills"],
                observed_day=day(fields["observed_alarm_at"]),
                programmed_day=day(fields["alarm_at_worst"]),
                observed_empty_day=day(fields["observed_empty_at"]),
            ),
        }

    def _residual_warning(self) -> None:
        """The residual judged as the assessment judges it (pumps/safety.residual_judgement): on
        the delivery ratio since the fill before, when there is one."""
        expected = self.cleaned_data.get("expected_residual_ml")
        actual = self.cleaned_data.get("actual_residual_ml")
        visit_at = self.cleaned_data.get("visit_at")
        before = pump_fills(self.pump, before=visit_at)[:1] if self.pump.pk and visit_at else []
        start = before[0].volume_after_ml - before[0].one_off_bolus_ml if before else None
        judged = safety.residual_judgement(start_ml=start, expected=expected, actual=actual)
        if judged is None:
            return
        kind, tier, ratio = judged
        diff = actual - expected
        percent = int((ratio * 100).to_integral_value()) if ratio is not None else None
        day = timezone.localtime(visit_at, self.pump.patient.clinic.tzinfo).date().isoformat()
        details = {"percent": percent, "visit_day": day, "expected_ml": expected, "actual_ml": actual}
        words = safety.nurse_words(kind, {**details, "difference_ml": f"{diff:+}"})
        self.warnings.append(f"{tier.value.capitalize()}: {words}")

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        details = {k: data[k] for k in sorted(VISIT_DETAIL_FIELDS) if k in data}
        details = {k: v for k, v in details.items() if v is not None}
        return {
            "kind": self.kind,
            "visit_at": data["visit_at"],
            "volume_after_ml": data["volume_after_ml"],
            "program": self.program_input(),
            "bridge_bolus_ml": data.get("bridge_bolus_ml") or Decimal(0),
            "next_appointment_at": data.get("next_appointment_at"),
            "after_alarm_reason": data.get("after_alarm_reason", ""),
            NEXT_HOURS_CONFIRM_FIELD: data.get(NEXT_HOURS_CONFIRM_FIELD, False),
            **details,
        }
