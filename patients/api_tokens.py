"""A clinic's API tokens for a hospital integration (the FHIR export, patients/fhir/).

A token belongs to one clinic and reaches that clinic's children only. The secret is shown once,
at creation; only its SHA-256 is stored (a 256-bit random secret needs no slow hash). Creation,
revocation and every presentation of a token (accepted or refused) are audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from patients import audit
from patients.models import ClinicApiToken

PREFIX = "itb_"


class TokenError(Exception):
    """A token that cannot be used: unknown or revoked."""


@dataclass(frozen=True)
class Issued:
    token: ClinicApiToken
    secret: str  # shown once to the clinic admin; never stored


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def token_create(*, clinic, by, name: str, request=None, now=None) -> Issued:
    """A new token for `clinic`, made by a clinic admin `by`."""
    name = (name or "").strip()[:100]
    if not name:
        raise ValueError("Give the token a name, for example the hospital system it is for.")
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ClinicApiToken.objects.create(
            clinic=clinic,
            name=name,
            prefix=secret[:10],
            token_hash=digest(secret),
            created_by=by,
            created_at=now or timezone.now(),
        )
        audit.audit_record(request=request, actor=by, action=audit.API_TOKEN_CREATED, obj=token)
    return Issued(token=token, secret=secret)


def token_revoke(*, token: ClinicApiToken, by, request=None, now=None) -> bool:
    """Revoke once: a second revocation changes nothing and returns False."""
    with transaction.atomic():
        locked = ClinicApiToken.objects.select_for_update().get(pk=token.pk)
        if locked.revoked_at is not None:
            return False
        locked.revoked_at = now or timezone.now()
        locked.revoked_by = by
        locked.save(update_fields=["revoked_at", "revoked_by"])
        audit.audit_record(request=request, actor=by, action=audit.API_TOKEN_REVOKED, obj=locked)
    token.revoked_at, token.revoked_by = locked.revoked_at, by
    return True


def token_label(token: ClinicApiToken) -> str:
    """How the audit trail names a token's use (no secret, no health data)."""
    return f"api-token {token.pk} {token.prefix}"


def token_authenticate(secret: str, *, request=None) -> ClinicApiToken:
    """The active token for `secret`; TokenError (audited) when it is unknown or revoked."""
    token = ClinicApiToken.objects.select_related("clinic").filter(token_hash=digest(secret or "")).first()
    if token is None or token.revoked_at is not None:
        audit.audit_record(
            request=request,
            action=audit.API_TOKEN_REFUSED,
            outcome="refused",
            actor_label=token_label(token) if token else "api-token unknown",
            object_type="patients.clinicapitoken",
            object_id=str(token.pk) if token else "",
        )
        raise TokenError("revoked" if token else "unknown")
    return token
