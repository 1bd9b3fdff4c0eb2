"""Security middleware: session limits, the two-factor gate, no-store caching, refusal audit."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from patients import audit
from patients.accounts.two_factor import SESSION_REQUIRED, two_factor_redirect, two_factor_required

LOGIN_AT = "security_login_at"
SEEN_AT = "security_seen_at"
IDLE_LIMIT = "security_idle_limit"
SEEN_RESOLUTION = 60  # seconds: last activity is written at most once a minute


def now() -> float:
    return time.time()


def idle_limit_for(user) -> int:
    if getattr(user, "is_clinic_staff", False) or user.is_staff:
        return settings.STAFF_IDLE_TIMEOUT
    return settings.PARENT_IDLE_TIMEOUT


def session_stamp_login(request, user) -> None:
    """Called at sign-in: start the clocks and note whether a second factor is required."""
    stamp = now()
    request.session[LOGIN_AT] = stamp
    request.session[SEEN_AT] = stamp
    request.session[IDLE_LIMIT] = idle_limit_for(user)
    request.session[SESSION_REQUIRED] = two_factor_required(user)


class SessionTimeoutMiddleware:
    """Ends a signed-in session after the idle limit (staff 15 min, parents 30) or 12 hours."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            expired = self._check(request, user)
            if expired:
                return expired
        return self.get_response(request)

    def _check(self, request, user):
        session = request.session
        current = now()
        login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
        if login_at is None or seen_at is None:
            session_stamp_login(request, user)
            return None
        idle = session.get(IDLE_LIMIT) or idle_limit_for(user)
        if current - seen_at > idle or current - login_at > settings.SESSION_ABSOLUTE_TIMEOUT:
            audit.audit_record(request=request, actor=user, action=audit.SESSION_EXPIRED)
            logout(request)  # flushes the server-side session
            messages.info(
                request, _("You were signed out because the page was left open. Please sign in again.")
            )
            return redirect_to_login(request.get_full_path())
        if current - seen_at >= SEEN_RESOLUTION:
            session[SEEN_AT] = current
        return None


# URL names an unverified person may still open (sign-in, sign-out, the emergency page...).
OPEN_URL_NAMES = {
    "login",
    "logout",
    "emergency",
    "set_language",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


class TwoFactorGateMiddleware:
    """No page (staff pages, the admin, home) for staff without a verified second factor, nor for
    a parent who turned it on. Runs after OTPMiddleware, which sets user.is_verified()."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        required = request.session.get(SESSION_REQUIRED)
        if required is None:
            required = request.session[SESSION_REQUIRED] = two_factor_required(user)
        if not required:
            return None
        match = request.resolver_match
        if match is not None and (match.namespace == "two_factor" or match.view_name in OPEN_URL_NAMES):
            return None
        return two_factor_redirect(request)


class NoStoreMiddleware:
    """Anything sent to a signed-in person may hold health data: never cache it anywhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
            response["Cache-Control"] = "no-store, no-cache, must-revalidate, private, max-age=0"
        return response


PATIENT_KWARGS = ("patient_pk", "patient_id", "patient")


class RefusalAuditMiddleware:
    """Records a 403 or 404 on a matched URL (a stranger trying someone's child) as 'refused'."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if (
            response.status_code in (403, 404)
            and match is not None
            and user is not None
            and user.is_authenticated
        ):
            self._record(request, match)
        return response

    @staticmethod
    def _record(request, match) -> None:
        patient_id = None
        for name in PATIENT_KWARGS:
            value = match.kwargs.get(name)
            if value is not None and str(value).isdigit():
                patient_id = int(value)
                break
        first = next(iter(match.kwargs.values()), "")
        audit.audit_record(
            request=request,
            action=audit.ACCESS_REFUSED,
            outcome="refused",
            object_type=f"url:{match.view_name}"[:64],
            object_id=str(first)[:64],
            patient_id=patient_id,
        )


BIGINT_MAX = 2**63 - 1


class BoundedPathIdsMiddleware:
    """A path id past what the database can hold (e.g. /children/10^30/) or a NUL byte in the path
    is a 404, and a NUL byte in a query string or form a 400, not a database error: checked once
    here, before any view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from django.core.exceptions import BadRequest
        from django.http import Http404

        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not -BIGINT_MAX <= value <= BIGINT_MAX:
                raise Http404("No such record.")
            if isinstance(value, str) and "\x00" in value:
                raise Http404("No such record.")
        # A NUL byte is never part of what a person types; PostgreSQL text refuses it.
        for data in (request.GET, request.POST if request.method == "POST" else {}):
            for values in data.lists() if data else ():
                if "\x00" in values[0] or any("\x00" in v for v in values[1]):
                    raise BadRequest("A NUL byte in the request.")
        return None
