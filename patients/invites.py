"""Invitation links for parents: a password-setting link that expires after 7 days.

Like a password-reset token, it stops working once the password is set (the hash covers it).
"""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

INVITE_TIMEOUT_SECONDS = 7 * 24 * 3600


class InviteTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "itbportal.patients.invites.InviteTokenGenerator"
    timeout_seconds = INVITE_TIMEOUT_SECONDS

    def check_token(self, user, token) -> bool:
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return (self._num_seconds(self._now()) - ts) <= self.timeout_seconds


invite_token_generator = InviteTokenGenerator()
