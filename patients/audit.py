"""The audit trail: one append-only row per access or change. No health data in a row."""

from __future__ import annotations

from django.utils import timezone

from .models import AuditEvent


def _client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *, request=None, actor=None, action: str, obj=None, patient_id: int | None = None, outcome: str = "ok"
) -> AuditEvent:
    """Record that `actor` (default: the request's user) did `action` to `obj`."""
    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        actor=actor,
        actor_label=(actor.email if actor is not None else "")[:254],
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        patient_id=patient_id,
        at=timezone.now(),
        ip_address=_client_ip(request),
        outcome=outcome,
    )
