"""Two-factor sign-in (django-otp): an authenticator app (TOTP) plus one-time recovery codes.

Staff must use it; parents may opt in. The session flag SESSION_REQUIRED records, at sign-in, whether
this person must pass the second step, so the gate costs no query per page.
"""

from __future__ import annotations

import base64
import secrets
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import devices_for_user
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

SESSION_REQUIRED = "security_2fa_required"
DEVICE_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def two_factor_mandatory(user) -> bool:
    """Clinic staff and admin-site users must use a second factor."""
    return bool(user.is_staff or user.is_superuser or getattr(user, "is_clinic_staff", False))


def user_has_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def two_factor_required(user) -> bool:
    return two_factor_mandatory(user) or user_has_device(user)


def totp_pending_device(*, user) -> TOTPDevice:
    """The unconfirmed authenticator being set up (one per user; reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def totp_secret_base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def totp_qr_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (no script, allowed by the CSP)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=12)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@transaction.atomic
def totp_confirm(*, device: TOTPDevice, token: str) -> bool:
    """Confirm the pending authenticator if the code matches; older authenticators are removed."""
    if not device.verify_token(token):
        return False
    TOTPDevice.objects.filter(user=device.user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return True


def _new_code() -> str:
    raw = secrets.token_hex(5)  # 10 hex characters, shown as two groups of five
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """Replace the person's recovery codes with a fresh set; each works once."""
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_new_code() for _ in range(settings.TWO_FACTOR_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def recovery_codes_remaining(*, user) -> list[str]:
    return list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))


def normalise_token(raw: str) -> str:
    """People type codes with spaces; TOTP codes are digits, recovery codes keep their hyphen."""
    return "".join((raw or "").split()).lower()[:32]


@transaction.atomic
def two_factor_remove(*, user) -> None:
    """A parent who opted in may turn two-factor off again (staff may not)."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def two_factor_redirect(request):
    """Send a signed-in person who still owes the second step to verify (or to set it up)."""
    name = "two_factor:verify" if user_has_device(request.user) else "two_factor:enrol"
    return redirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")
