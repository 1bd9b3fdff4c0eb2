"""The installable portal and a parent's offline copies (issue 15).

A parent's home card, child pages, emergency card and the emergency page are marked with
`X-Offline-Key`, a key of that signed-in parent alone; the service worker (static/js/sw.js, served
at /sw.js) keeps only marked pages, in a cache named after the key, and deletes every other key's
cache first. Staff pages are never marked. Signing out clears the kept pages.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# The pages a parent may need with no network, by view name.
# "Report a sign" too (issue 25): without a network it still shows what to do, and keeps the report.
OFFLINE_VIEWS = frozenset(
    {"family:home", "family:child", "documents:card", "emergency", "family:signs", "family:signs_report"}
)
STATIC = Path(settings.BASE_DIR) / "static"


def offline_key(user) -> str:
    """One parent's cache name: secret (SECRET_KEY), and new after a password change."""
    return salted_hmac("itbportal.offline", f"{user.pk}:{user.password}").hexdigest()[:32]


def keeps_offline_copies(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "is_caregiver", False)
        and not getattr(user, "is_clinic_staff", False)
    )


class OfflineCopyMiddleware:
    """Marks the pages a parent may keep offline; nothing else is ever kept."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        if (
            response.status_code == 200
            and match is not None
            and match.view_name in OFFLINE_VIEWS
            and keeps_offline_copies(user)
        ):
            response["X-Offline-Key"] = offline_key(user)
        return response


@require_GET
def service_worker(request):
    response = HttpResponse((STATIC / "js" / "sw.js").read_bytes(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
@cache_control(public=True, max_age=86400)
def favicon(request):
    return FileResponse((STATIC / "icons" / "favicon.ico").open("rb"), content_type="image/x-icon")


class SignOutView(LogoutView):
    """Sign out and clear what this browser kept: Clear-Site-Data, and the signed-out page's
    script (js/pwa.js) for browsers without that header."""

    def get_success_url(self):
        return reverse("login") + "?signed_out=1"

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        response["Clear-Site-Data"] = '"cache", "storage"'
        return response
