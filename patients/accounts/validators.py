"""Password rules: 12 characters for clinic staff, 10 for everyone else (parents).

The common-password check is Django's CommonPasswordValidator (settings.AUTH_PASSWORD_VALIDATORS).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _is_staff_user(user) -> bool:
    if user is None:
        return False
    return bool(getattr(user, "is_staff", False) or getattr(user, "is_clinic_staff", False))


class RoleMinimumLengthValidator:
    """Staff (clinic staff or admin-site users) need `staff_min` characters, others `other_min`."""

    def __init__(self, staff_min: int = 12, other_min: int = 10):
        self.staff_min = staff_min
        self.other_min = other_min

    def minimum_for(self, user) -> int:
        return self.staff_min if _is_staff_user(user) else self.other_min

    def validate(self, password: str, user=None) -> None:
        minimum = self.minimum_for(user)
        if len(password) < minimum:
            raise ValidationError(
                ngettext(
                    "This password is too short. It must have at least %(min_length)d character.",
                    "This password is too short. It must have at least %(min_length)d characters.",
                    minimum,
                ),
                code="password_too_short",
                params={"min_length": minimum},
            )

    def get_help_text(self) -> str:
        return _("Your password must have at least %(other)d characters (%(staff)d for clinic staff).") % {
            "other": self.other_min,
            "staff": self.staff_min,
        }
