"""The audit trail: who viewed, changed, signed in, or was refused, and from where.

A row names the actor, the action, the object (type and id), the child's id, the time (UTC), the
client address and the outcome, and never health data (no names, doses, dates or notes).
Other parts call `audit_record(...)` with one of the action names in ACTIONS.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.utils import timezone

from patients.models import AuditEvent

# Action names. The lead wires the chart/dose/appointment/document calls into the other parts.
SIGN_IN = "auth.sign_in"
SIGN_IN_FAILED = "auth.sign_in_failed"
SIGN_OUT = "auth.sign_out"
LOCKED_OUT = "auth.locked_out"
TWO_FACTOR_VERIFIED = "auth.2fa_verified"
TWO_FACTOR_FAILED = "auth.2fa_failed"
TWO_FACTOR_ENROLLED = "auth.2fa_enrolled"
TWO_FACTOR_REMOVED = "auth.2fa_removed"
RECOVERY_CODES_REGENERATED = "auth.recovery_codes_regenerated"
SESSION_EXPIRED = "auth.session_expired"
ACCESS_REFUSED = "access.refused"
CHART_VIEWED = "chart.viewed"
CHILD_PAGE_VIEWED = "child_page.viewed"  # a parent's page about one child
SUMMARIES_LISTED = "summaries.listed"
DOCUMENT_DOWNLOADED = "document.downloaded"
DOCUMENT_REGENERATED = "document.regenerated"
EMERGENCY_CARD_VIEWED = "emergency_card.viewed"
DOSE_CHANGED = "dose.changed"
VISIT_RECORDED = "visit.recorded"
APPOINTMENT_CREATED = "appointment.created"
APPOINTMENT_CHANGED = "appointment.changed"
APPOINTMENT_CANCELLED = "appointment.cancelled"
AUDIT_SEARCHED = "audit.searched"
CALL_OUTCOME_RECORDED = "ladder.call_outcome"
ADMIN_SAVED = "admin.saved"  # a user, staff role or clinic saved on the admin site
FHIR_READ = "fhir.read"  # one child's record as FHIR (by a nurse or an API token)
FHIR_BULK_EXPORTED = "fhir.bulk_exported"  # a clinic's children as NDJSON
API_TOKEN_CREATED = "api_token.created"
API_TOKEN_REVOKED = "api_token.revoked"
API_TOKEN_REFUSED = "api_token.refused"  # an unknown or revoked token was presented
SIGNS_REPORTED = "signs.reported"  # a parent reported warning signs (a new report)
SIGNS_REPORT_REPEATED = "signs.repeated"  # a send within the hour, folded into the open report
SIGNS_OUTCOME_RECORDED = "signs.outcome"  # a nurse recorded what was done

ACTIONS = [
    SIGN_IN,
    SIGN_IN_FAILED,
    SIGN_OUT,
    LOCKED_OUT,
    TWO_FACTOR_VERIFIED,
    TWO_FACTOR_FAILED,
    TWO_FACTOR_ENROLLED,
    TWO_FACTOR_REMOVED,
    RECOVERY_CODES_REGENERATED,
    SESSION_EXPIRED,
    ACCESS_REFUSED,
    CHART_VIEWED,
    CHILD_PAGE_VIEWED,
    SUMMARIES_LISTED,
    DOCUMENT_DOWNLOADED,
    DOCUMENT_REGENERATED,
    EMERGENCY_CARD_VIEWED,
    DOSE_CHANGED,
    VISIT_RECORDED,
    APPOINTMENT_CREATED,
    APPOINTMENT_CHANGED,
    APPOINTMENT_CANCELLED,
    AUDIT_SEARCHED,
    CALL_OUTCOME_RECORDED,
    ADMIN_SAVED,
    FHIR_READ,
    FHIR_BULK_EXPORTED,
    API_TOKEN_CREATED,
    API_TOKEN_REVOKED,
    API_TOKEN_REFUSED,
    SIGNS_REPORTED,
    SIGNS_REPORT_REPEATED,
    SIGNS_OUTCOME_RECORDED,
]

OUTCOMES = ["ok", "failed", "refused", "missing"]


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def _from_trusted_proxy(remote: str | None) -> bool:
    """True when the connection comes from a configured proxy (TRUSTED_PROXY_ADDRESSES)."""
    address = _valid_ip(remote)
    if address is None:
        return False
    for entry in getattr(settings, "TRUSTED_PROXY_ADDRESSES", []):
        try:
            if ipaddress.ip_address(address) in ipaddress.ip_network(entry.strip(), strict=False):
                return True
        except ValueError:
            continue
    return False


def client_ip(request) -> str | None:
    """The client's address. Behind TRUSTED_PROXY_COUNT proxies, each appending to X-Forwarded-For,
    the client is the Nth entry from the right; entries further left are whatever the client sent
    and are never trusted. The header is believed only on a connection from a configured proxy
    (TRUSTED_PROXY_ADDRESSES): anyone reaching the app directly gets their own REMOTE_ADDR.
    Used by the audit log and by django-axes (AXES_CLIENT_IP_CALLABLE)."""
    if request is None:
        return None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count > 0 and forwarded and _from_trusted_proxy(request.META.get("REMOTE_ADDR")):
        parts = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(parts) >= count:
            address = _valid_ip(parts[-count])
            if address:
                return address
    return _valid_ip(request.META.get("REMOTE_ADDR"))


def _printable(text: str) -> str:
    """What was typed or asked for, without NUL bytes (PostgreSQL text refuses them)."""
    return str(text).replace("\x00", "")


def _patient_id_of(obj) -> int | None:
    """The child an object belongs to: obj.patient_id, or through its pump (visits, programs)."""
    patient_id = getattr(obj, "patient_id", None)
    if patient_id is None and getattr(obj, "pump_id", None) is not None:
        patient_id = obj.pump.patient_id
    return patient_id


def _actor_of(request, actor):
    if actor is not None:
        return actor
    user = getattr(request, "user", None) if request is not None else None
    if user is not None and user.is_authenticated:
        return user
    return None


def audit_record(
    *,
    request=None,
    actor=None,
    action: str,
    obj=None,
    patient_id: int | None = None,
    outcome: str = "ok",
    actor_label: str = "",
    object_type: str = "",
    object_id: str = "",
) -> AuditEvent:
    """Append one row. `obj` gives the object type and id (never its contents); a Patient object
    also fills patient_id, and any object with a `patient_id` attribute does too."""
    actor = _actor_of(request, actor)
    if obj is not None:
        object_type = obj._meta.label_lower if hasattr(obj, "_meta") else type(obj).__name__
        object_id = str(getattr(obj, "pk", "") or "")
        if patient_id is None:
            if object_type == "patients.patient":
                patient_id = obj.pk
            else:
                patient_id = _patient_id_of(obj)
    label = actor_label or (actor.email if actor is not None else "")
    if patient_id is not None and not 0 < patient_id < 2**63:
        patient_id = None  # a hostile URL's id (e.g. 10^30) names no child
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=_printable(label)[:254],
        action=action,
        object_type=_printable(object_type)[:64],
        object_id=_printable(object_id)[:64],
        patient_id=patient_id,
        at=timezone.now(),
        ip_address=client_ip(request),
        outcome=outcome,
    )
