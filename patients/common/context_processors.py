"""What every page needs: the clinic's phone numbers (the emergency link is on every page) and
whether the person is clinic staff.

For a signed-in person the session keeps a copy (issue 27: reading it cost two queries under every
page), believed only while it was made for this user at their current page-context version (every
write that changes it bumps the version: patients/page_context.py) and is younger than MAX_AGE.
"""

import time

from patients.models import Clinic
from patients.page_context import MAX_AGE, clinic_from_values, clinic_values, page_context_compute

SESSION_KEY = "page_context"


def portal(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"clinic": Clinic.objects.order_by("pk").first(), "is_staff_user": False}
    session = getattr(request, "session", None)
    if session is None:
        return page_context_compute(user)
    kept = session.get(SESSION_KEY)
    now = time.time()
    if (
        isinstance(kept, dict)
        and kept.get("user") == user.pk
        and kept.get("version") == user.page_context_version
        and 0 <= now - kept.get("at", 0) < MAX_AGE
    ):
        return {"clinic": clinic_from_values(kept["clinic"]), "is_staff_user": kept["is_staff_user"]}
    # The version is the one read with the user, before this read: a write committed meanwhile
    # bumped it past the copy's, and the next page reads again.
    context = page_context_compute(user)
    session[SESSION_KEY] = {
        "user": user.pk,
        "version": user.page_context_version,
        "at": now,
        "clinic": clinic_values(context["clinic"]),
        "is_staff_user": context["is_staff_user"],
    }
    return context
