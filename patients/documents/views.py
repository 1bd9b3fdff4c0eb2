"""Document views: every lookup goes through `visible_to`, so another family gets 404.

PDFs are never public media URLs: they are streamed here, with no caching, and each download
is written to the audit trail (without health data).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from patients import audit
from patients.accounts.permissions import staff_required
from patients.audit import audit_record
from patients.models import Patient
from pumps import documents
from pumps.models import Document, RefillVisit

NO_STORE = "no-store, private"


def _pdf_headers(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Type"] = "application/pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = NO_STORE
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _filename(document: Document) -> str:
    stem = "after-visit-summary" if document.kind == Document.Kind.VISIT_SUMMARY else "emergency-card"
    day = document.visit.visit_at.date().isoformat() if document.visit_id else document.created_at.date()
    return f"{stem}-{day}-{document.language}-v{document.version}.pdf"


@login_required
def document_download(request, pk: int):
    document = get_object_or_404(Document.objects.visible_to(request.user).select_related("visit"), pk=pk)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        audit_record(
            request=request,
            action=audit.DOCUMENT_DOWNLOADED,
            obj=document,
            patient_id=document.patient_id,
            outcome="missing",
        )
        raise Http404(_("This document could not be found. Please ask the nurses to rebuild it.")) from None
    audit_record(
        request=request, action=audit.DOCUMENT_DOWNLOADED, obj=document, patient_id=document.patient_id
    )
    response = FileResponse(handle)
    return _pdf_headers(response, _filename(document))


@login_required
@never_cache
def document_list(request, patient_pk: int):
    patient = get_object_or_404(Patient.objects.visible_to(request.user), pk=patient_pk)
    rows = Document.objects.filter(patient=patient).summaries().select_related("visit")
    rows = rows.order_by("-visit__visit_at", "language", "-version")
    audit_record(request=request, action=audit.SUMMARIES_LISTED, obj=patient, patient_id=patient.pk)
    return render(request, "documents/list.html", {"patient": patient, "documents": rows})


@require_POST
@staff_required
def visit_summary_regenerate(request, visit_pk: int):
    visits = RefillVisit.objects.filter(pump__patient__in=Patient.objects.visible_to(request.user))
    visit = get_object_or_404(visits.select_related("pump"), pk=visit_pk)
    stored = documents.visit_summary_store(visit=visit)
    for document in stored:
        audit_record(
            request=request, action=audit.DOCUMENT_REGENERATED, obj=document, patient_id=document.patient_id
        )
    messages.success(request, _("The after-visit summary was rebuilt."))
    return redirect("documents:list", patient_pk=visit.pump.patient_id)


def _card_language(request, patient: Patient) -> str:
    asked = request.GET.get("lang")
    if asked in ("en", "es"):
        return asked
    return translation.get_language() or documents.document_languages(patient)[0]


@login_required
@never_cache
def emergency_card_page(request, patient_pk: int):
    patient = get_object_or_404(
        Patient.objects.visible_to(request.user).select_related("clinic"), pk=patient_pk
    )
    context = documents.emergency_card_context(patient) or {"patient": patient, "clinic": patient.clinic}
    audit_record(request=request, action=audit.EMERGENCY_CARD_VIEWED, obj=patient, patient_id=patient.pk)
    response = render(request, "documents/card_page.html", context)
    response["Cache-Control"] = NO_STORE
    return response


@login_required
def emergency_card_download(request, patient_pk: int):
    """The card as it stands now: rendered from the current program on every request."""
    patient = get_object_or_404(
        Patient.objects.visible_to(request.user).select_related("clinic"), pk=patient_pk
    )
    language = _card_language(request, patient)[:2]
    rendered = documents.emergency_card_pdf(patient=patient, language=language)
    if rendered is None:
        messages.warning(request, _("There is no programmed pump on record for this child yet."))
        return redirect("documents:card", patient_pk=patient.pk)
    audit_record(request=request, action=audit.EMERGENCY_CARD_VIEWED, obj=patient, patient_id=patient.pk)
    return _pdf_headers(HttpResponse(rendered[0]), f"emergency-card-{language}.pdf")
