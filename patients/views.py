"""The entry points every user shares: home (which sends each person to their own start page)
and the emergency page, which anyone can open in one tap, signed in or not."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone

from pumps.models import Pump

from .models import Patient


@login_required
def home(request):
    if request.user.is_caregiver and not request.user.is_clinic_staff:
        return redirect("family:home")
    patients = Patient.objects.visible_to(request.user).active()
    pumps = (
        Pump.objects.active()
        .filter(patient__in=patients)
        .select_related("patient")
        .with_current()
        .order_by("patient__last_name", "patient__first_name")
    )
    return render(request, "home.html", {"pumps": pumps, "now": timezone.now()})


def emergency(request):
    return render(request, "emergency.html")
