"""Refill and programming visits, their live preview, and registering a new patient after implant."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from appointments.services import AppointmentError
from patients.accounts.permissions import clinic_of, staff_required
from patients.models import Patient
from patients.registration import patient_register
from patients.staff.forms import NewPatientForm
from patients.staff.visit_forms import VisitForm
from pumps.services import RefillError, refill_record

KINDS = {"refill": "Refill visit", "programming": "Dose change without refill"}


def _active_pump(request, pk: int):
    patient = get_object_or_404(Patient.objects.visible_to(request.user).select_related("clinic"), pk=pk)
    pump = patient.pumps.filter(explant_date__isnull=True).order_by("-implant_date").first()
    if pump is None:
        raise Http404("This child has no active pump.")
    pump.patient = patient
    return patient, pump


def _save(request, form, pump) -> bool:
    try:
        refill_record(pump=pump, by=request.user, **form.service_kwargs())
    except (RefillError, AppointmentError) as error:
        field = getattr(error, "field", None) or "after_alarm_reason"
        form.add_error(field if field in form.fields else None, str(error))
        return False
    return True


@staff_required
def visit(request, pk: int, kind: str):
    if kind not in KINDS:
        raise Http404
    patient, pump = _active_pump(request, pk)
    form = VisitForm(request.POST or None, pump=pump, kind=kind)
    if request.method == "POST" and form.is_valid() and _save(request, form, pump):
        messages.success(
            request, f"{KINDS[kind]} saved. Reminders re-planned; the summary is being prepared."
        )
        return redirect("staff:chart", pk=patient.pk)
    return render(
        request,
        "staff/visit_form.html",
        {"form": form, "patient": patient, "pump": pump, "kind": kind, "title": KINDS[kind]},
    )


@require_POST
@staff_required
def visit_preview(request, pk: int, kind: str):
    """What the alarm, refill-due and empty dates would be for what was typed (no save)."""
    if kind not in KINDS:
        raise Http404
    patient, pump = _active_pump(request, pk)
    form = VisitForm(request.POST, pump=pump, kind=kind)
    form.is_valid()
    html = render_to_string("staff/_preview.html", {"form": form, "patient": patient}, request=request)
    errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
    return JsonResponse({"html": html, "errors": errors, "ok": form.preview is not None})


def _new_patient_forms(request):
    clinic = clinic_of(request.user)
    data = request.POST or None
    patient_form = NewPatientForm(data, clinic=clinic)
    fill_form = VisitForm(data, pump=patient_form.pump_draft(), kind="implant", prefix="fill")
    return clinic, patient_form, fill_form


@require_POST
@staff_required
def patient_new_preview(request):
    """The first fill's alarm, refill-due and empty dates, before anything is saved."""
    _, patient_form, fill_form = _new_patient_forms(request)
    fill_form.is_valid()
    html = render_to_string("staff/_preview.html", {"form": fill_form}, request=request)
    return JsonResponse({"html": html, "ok": fill_form.preview is not None})


@staff_required
def patient_new(request):
    clinic, patient_form, fill_form = _new_patient_forms(request)
    if request.method == "POST" and patient_form.is_valid() and fill_form.is_valid():
        fill = fill_form.service_kwargs()
        fill.pop("kind")
        try:
            patient = patient_register(
                clinic=clinic,
                by=request.user,
                patient=patient_form.patient_fields(),
                pump=patient_form.pump_fields(),
                fill=fill,
            )
        except (RefillError, AppointmentError) as error:
            field = getattr(error, "field", None) or "after_alarm_reason"
            fill_form.add_error(field if field in fill_form.fields else None, str(error))
        else:
            messages.success(request, f"{patient.full_name} registered with the first program and fill.")
            return redirect("staff:chart", pk=patient.pk)
    return render(request, "staff/patient_new.html", {"patient_form": patient_form, "form": fill_form})
