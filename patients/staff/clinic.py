"""The clinic's calendar for the nurses: open days, hours and the closed dates ahead."""

from __future__ import annotations

from django.shortcuts import render
from django.utils import timezone

from patients.accounts.permissions import clinic_of, staff_required
from patients.clinic_hours import appointments_outside_hours, hours_text


@staff_required
def clinic_calendar_view(request):
    clinic = clinic_of(request.user)
    now = timezone.now()
    today = timezone.localdate(now, clinic.tzinfo)
    context = {
        "the_clinic": clinic,
        "hours": hours_text(clinic),
        "closed_dates": clinic.closed_dates.filter(day__gte=today).order_by("day")[:30],
        "clashes": appointments_outside_hours(clinic, now=now),
        "can_edit": request.user.is_superuser or request.user.has_perm("patients.change_clinic"),
    }
    return render(request, "staff/clinic_calendar.html", context)
