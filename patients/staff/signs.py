"""A report of warning signs on the nurses' console (issue 25): the report, and its outcome.

The nurse records what was done (advice given, seen in clinic, sent to the emergency
department, no action needed); the child's "signs reported" concern resolves with it in the same
transaction (patients/sign_reports.py), and the chart keeps the report."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from patients.accounts.permissions import clinic_of, staff_required
from patients.models import SignReport
from patients.sign_reports import SignReportError, sign_report_outcome_record
from patients.signs import nurse_summary


class SignOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="What was done?",
        choices=SignReport.Outcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose what was done.", "invalid_choice": "Choose what was done."},
    )
    note = forms.CharField(
        label="Note (optional)", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


@staff_required
def sign_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(SignReport.objects.for_clinic(clinic_of(request.user)), pk=pk)
    form = SignOutcomeForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                sign_report_outcome_record(
                    report=report,
                    outcome=form.cleaned_data["outcome"],
                    note=form.cleaned_data["note"],
                    by=request.user,
                    request=request,
                )
            except SignReportError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request, "Outcome recorded: the concern is resolved; the chart keeps the report."
                )
            return redirect("staff:chart", pk=report.patient_id)
        status = 400
    context = {
        "report": report,
        "patient": report.patient,
        "form": form,
        "summary": nurse_summary(report.signs),
    }
    return render(request, "staff/sign_outcome.html", context, status=status)
