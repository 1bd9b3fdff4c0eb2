"""Searching the audit trail per child, for staff with the clinic-admin role or the permission."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.shortcuts import render

from patients import audit
from patients.accounts.permissions import audit_viewer_required
from patients.models import AuditEvent, Patient

PAGE_SIZE = 200


@audit_viewer_required
def audit_search(request):
    children = Patient.objects.visible_to(request.user)
    text = request.GET.get("q", "").strip()[:100]
    matches = children.search(text).order_by("last_name", "first_name")[:50] if text else children.none()
    chosen = None
    events = AuditEvent.objects.none()
    raw_id = request.GET.get("patient", "")
    if raw_id.isdigit():
        chosen = children.filter(pk=int(raw_id)).first()
        if chosen is None:
            raise Http404  # another clinic's child: same answer as a child that does not exist
    if chosen is not None:
        events = list(
            AuditEvent.objects.filter(
                Q(patient_id=chosen.pk) | Q(object_type="patients.patient", object_id=str(chosen.pk))
            ).order_by("-at")[:PAGE_SIZE]
        )
        audit.audit_record(request=request, action=audit.AUDIT_SEARCHED, obj=chosen)
    context = {"q": text, "matches": matches, "chosen": chosen, "events": events, "page_size": PAGE_SIZE}
    return render(request, "security/audit_search.html", context)
