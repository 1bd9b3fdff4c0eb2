"""Home, the entry point every signed-in user shares: it sends each person to their own start page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render


@login_required
def home(request):
    if request.user.is_clinic_staff:
        return redirect("staff:worklist")
    if request.user.is_caregiver:
        return redirect("family:home")
    # Signed in, but neither clinic staff nor linked to a child (e.g. an admin-only account).
    return render(request, "home.html")
