"""Who may open which kind of page. Object-level access is in the querysets (`visible_to`)."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied

from patients.accounts.two_factor import two_factor_redirect


def staff_required(view):
    """Clinic staff with a verified second factor only: anonymous users go to sign-in, staff
    without a verified device go to the two-factor step, anyone else (a parent) gets 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_clinic_staff:
            raise PermissionDenied
        if not user.is_verified():
            return two_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapped


def caregiver_required(view):
    """Parents and guardians only: anonymous users go to sign-in, staff get 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user.is_caregiver:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def audit_viewer_required(view):
    """Staff who may search the audit trail: the clinic admin role, or the view_auditevent permission."""

    @staff_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        user = request.user
        if not (user.staff_profile.role == "clinic_admin" or user.has_perm("patients.view_auditevent")):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def clinic_of(user):
    """The clinic a staff member works in."""
    return user.staff_profile.clinic
