"""'Report a sign' and 'What to do now' (issue 25): a parent ticks what they see, and the next
screen says what to do first: the clinic's instructions for the group (withdrawal first), the one
number right for this hour (the clinic's calendar), and 911.

The report page is kept on the phone (patients/family/offline.py): without a network it still
shows what to do (static/js/signs.js reveals the same instructions, rendered here), keeps the
report on the phone and sends it once the phone is online again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from patients import signs as sign_lists
from patients.accounts.permissions import caregiver_required
from patients.clinic_hours import clinic_calendar
from patients.models import Patient, SignReport
from patients.sign_reports import SignReportError, sign_report_record

# How many days of the clinic's opening hours a kept page carries, to pick the number offline.
OFFLINE_CALENDAR_DAYS = 14


class SignReportForm(forms.Form):
    signs = forms.MultipleChoiceField(
        label=_("What do you see?"),
        choices=[(code, label) for code, (_group, label) in sign_lists.SIGNS.items()],
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Tick at least one sign you see."),
            "invalid_choice": _("Tick the signs from the lists on this page."),
        },
    )
    words = forms.CharField(
        label=_("Anything else the nurses should know? (you can leave this empty)"),
        required=False,
        max_length=sign_lists.WORDS_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("Please write fewer words (500 letters at most).")},
    )
    # Set by the phone for a report it kept without a network: when the parent wrote it (epoch
    # milliseconds by the phone's clock). Never a reason to refuse a report: a bad value is dropped.
    written_at = forms.CharField(required=False, widget=forms.HiddenInput, max_length=20)

    def written_at_instant(self) -> datetime | None:
        try:
            milliseconds = int(self.cleaned_data.get("written_at") or 0)
            return datetime.fromtimestamp(milliseconds / 1000, tz=UTC) if milliseconds > 0 else None
        except (OverflowError, OSError, ValueError):
            return None


def _children(request):
    return Patient.objects.signs_reportable_by(request.user).select_related("clinic")


def _groups(clinic, codes=None) -> list[dict]:
    """The groups (all, or those of these signs) in the order to act: withdrawal first."""
    language = translation.get_language()
    wanted = sign_lists.groups_of(codes) if codes is not None else list(sign_lists.GROUPS)
    return [
        {
            "code": group,
            "label": sign_lists.GROUP_LABELS[group],
            "instructions": clinic.sign_instructions(group, language),
            "signs": [(code, label) for code, (g, label) in sign_lists.SIGNS.items() if g == group],
        }
        for group in wanted
    ]


def _open_periods(clinic, now: datetime) -> list[list[int]]:
    """The clinic's opening hours ahead, as epoch milliseconds, for the kept page's script: the
    calendar decides them, the phone only finds the one it is in."""
    periods = clinic_calendar(clinic).open_periods(now, days=OFFLINE_CALENDAR_DAYS)
    return [[int(start.timestamp() * 1000), int(end.timestamp() * 1000)] for start, end in periods]


def _form_page(request, patient, form, *, status: int = 200):
    now = timezone.now()
    context = {
        "patient": patient,
        "form": form,
        "ticked": set(form["signs"].value() or []) if form.is_bound else set(),
        "groups": _groups(patient.clinic),
        "open_periods": _open_periods(patient.clinic, now),
        "now": now,
    }
    return render(request, "family/signs_form.html", context, status=status)


@caregiver_required
def signs_start(request):
    """One tap from the emergency page or a text: the report page of the parent's child, or the
    choice of child when there are several."""
    children = list(_children(request))
    if len(children) == 1:
        return _form_page(request, children[0], SignReportForm())
    return render(request, "family/signs_choose.html", {"children": children})


@caregiver_required
def signs_report(request, pk: int):
    patient = get_object_or_404(_children(request), pk=pk)
    if request.method != "POST":
        return _form_page(request, patient, SignReportForm())
    form = SignReportForm(request.POST)
    if form.is_valid():
        try:
            report, _created = sign_report_record(
                patient=patient,
                caregiver=request.user.caregiver,
                codes=form.cleaned_data["signs"],
                words=form.cleaned_data["words"],
                written_at=form.written_at_instant(),
                request=request,
            )
        except SignReportError as error:
            form.add_error(None, str(error))
        else:
            return redirect("family:signs_done", pk=report.pk)
    return _form_page(request, patient, form, status=400)


@caregiver_required
def signs_done(request, pk: int):
    """What to do now, for the report just sent."""
    report = SignReport.objects.filter(patient__in=_children(request)).select_related("patient__clinic")
    report = report.filter(pk=pk).first()
    if report is None:
        raise Http404
    clinic = report.patient.clinic
    context = {
        "report": report,
        "patient": report.patient,
        "groups": _groups(clinic, report.signs),
        "call_clinic": clinic,
    }
    return render(request, "family/signs_done.html", context)
