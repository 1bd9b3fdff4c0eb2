"""What every page needs: the clinic's phone numbers (the emergency link is on every page)."""

from patients.models import Clinic


def portal(request) -> dict:
    user = getattr(request, "user", None)
    clinic = None
    if user is not None and user.is_authenticated:
        profile = getattr(user, "staff_profile", None)
        if profile is not None:
            clinic = profile.clinic
        elif hasattr(user, "caregiver"):
            link = user.caregiver.links.select_related("patient__clinic").filter(active=True).first()
            clinic = link.patient.clinic if link else None
    if clinic is None:
        clinic = Clinic.objects.order_by("pk").first()
    is_staff_user = bool(
        user is not None and user.is_authenticated and getattr(user, "is_clinic_staff", False)
    )
    return {"clinic": clinic, "is_staff_user": is_staff_user}
