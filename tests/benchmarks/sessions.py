"""Signed-in sessions for load tests: created directly in the session store, as a login would."""

from __future__ import annotations

from django.conf import settings


def _otp_device_id(user) -> str | None:
    """A confirmed TOTP device's persistent id when django_otp is in use (staff second factor)."""
    if (
        "django_otp" not in settings.INSTALLED_APPS
        or "django_otp.plugins.otp_totp" not in settings.INSTALLED_APPS
    ):
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    return device.persistent_id


def _backend() -> str:
    """The backend a password sign-in records: ModelBackend when listed (a guard such as axes'
    standalone backend may come first but never authenticates anyone itself)."""
    model_backend = "django.contrib.auth.backends.ModelBackend"
    backends = settings.AUTHENTICATION_BACKENDS
    return model_backend if model_backend in backends else backends[0]


def session_cookie(user) -> str:
    """A 'Cookie:' header value for `user`, signed in (and second-factor verified for staff)."""
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = _backend()
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if getattr(user, "is_clinic_staff", False):
        device_id = _otp_device_id(user)
        if device_id:
            store["otp_device_id"] = device_id
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"
