"""Staff actions on appointments: book, move, cancel, complete, no-show. Thin: form, service, redirect."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from appointments import services
from appointments.models import Appointment
from patients.accounts.permissions import staff_required
from patients.models import Patient
from patients.staff.appointment_forms import AppointmentForm, RescheduleForm, add_service_error


def _alarm_context(patient) -> dict:
    """The dates a nurse needs beside the calendar: the worst-case alarm and the refill-due date."""
    from pumps.models import RefillVisit

    visit = (
        RefillVisit.objects.filter(pump__patient=patient, pump__explant_date__isnull=True)
        .order_by("-visit_at", "-pk")
        .first()
    )
    return {"latest": visit}


def _next_url(request) -> str:
    return request.POST.get("next") or request.GET.get("next", "")


def _back(request, patient_pk: int):
    target = request.POST.get("next", "")
    if target.startswith("/staff/"):
        return redirect(target)
    return redirect("staff:chart", pk=patient_pk)


@staff_required
def book(request, pk: int):
    patient = get_object_or_404(Patient.objects.visible_to(request.user).select_related("clinic"), pk=pk)
    initial = {"kind": request.GET.get("kind", Appointment.Kind.REFILL)}
    form = AppointmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_book(patient=patient, by=request.user, **form.cleaned_data)
        except services.AppointmentError as error:
            add_service_error(form, error, "after_alarm_reason")
        else:
            messages.success(request, "Appointment booked.")
            return _back(request, patient.pk)
    return render(
        request,
        "staff/appointment_form.html",
        {
            "form": form,
            "patient": patient,
            "title": "Book an appointment",
            "next_url": _next_url(request),
            **_alarm_context(patient),
        },
    )


def _appointment(request, pk: int) -> Appointment:
    return get_object_or_404(Appointment.objects.visible_to(request.user).select_related("patient"), pk=pk)


@staff_required
def reschedule(request, pk: int):
    appointment = _appointment(request, pk)
    form = RescheduleForm(request.POST or None, initial={"start": appointment.start})
    if request.method == "POST" and form.is_valid():
        try:
            services.appointment_reschedule(appointment=appointment, by=request.user, **form.cleaned_data)
        except services.AppointmentError as error:
            add_service_error(form, error, None)
        else:
            messages.success(request, "Appointment moved. The family will be asked to confirm the new time.")
            return _back(request, appointment.patient_id)
    return render(
        request,
        "staff/appointment_form.html",
        {
            "form": form,
            "patient": appointment.patient,
            "appointment": appointment,
            "title": "Move the appointment",
            "next_url": _next_url(request),
            **_alarm_context(appointment.patient),
        },
    )


ACTIONS = {
    "cancel": (services.appointment_cancel, "Appointment cancelled."),
    "complete": (services.appointment_complete, "Marked as completed."),
    "no_show": (services.appointment_no_show, "Marked as no-show. Call the family to rebook."),
}


@require_POST
@staff_required
def act(request, pk: int, action: str):
    appointment = _appointment(request, pk)
    if action not in ACTIONS:
        return redirect("staff:chart", pk=appointment.patient_id)
    service, done = ACTIONS[action]
    try:
        service(appointment=appointment, by=request.user)
    except services.AppointmentError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return _back(request, appointment.patient_id)
