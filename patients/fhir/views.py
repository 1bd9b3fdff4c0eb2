"""The FHIR endpoints (namespace fhir, under /fhir/): one child's record, a clinic's bulk export,
and the clinic admin's API tokens.

Two kinds of reader, one scope: a signed-in nurse (the chart's button; the chart's gate, scoping
and audit) or a hospital integration presenting a clinic's API token (`Authorization: Bearer …`).
Either way the children are those of the reader's clinic and no other: another clinic's child is
404, an unknown or revoked token 401, and every read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

from patients import api_tokens, audit
from patients.accounts.permissions import clinic_of, staff_required
from patients.fhir.bundle import bundle, child_resources, export_queryset
from patients.models import ClinicApiToken, Patient

FHIR_JSON = "application/fhir+json"
NDJSON = "application/fhir+ndjson"
CHUNK = 200  # children per query batch in the bulk export


@dataclass(frozen=True)
class Reader:
    clinic: object
    patients: object  # the children this reader may see
    token: ClinicApiToken | None = None

    def audit(self, request, *, action: str, **fields):
        if self.token is not None:
            return audit.audit_record(
                request=request, action=action, actor_label=api_tokens.token_label(self.token), **fields
            )
        return audit.audit_record(request=request, action=action, **fields)


def _outcome(status: int, code: str, words: str) -> HttpResponse:
    outcome = OperationOutcome(issue=[{"severity": "error", "code": code, "diagnostics": words}])
    response = HttpResponse(outcome.model_dump_json(), status=status, content_type=FHIR_JSON)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="fhir"'
    return response


def fhir_reader(view):
    """A nurse of the clinic (staff_required, as the chart) or a clinic's active API token."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            scheme, _, secret = header.partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                return _outcome(
                    401, "login", "Send the clinic's API token as: Authorization: Bearer <token>."
                )
            try:
                token = api_tokens.token_authenticate(secret.strip(), request=request)
            except api_tokens.TokenError:
                return _outcome(401, "login", "This API token is unknown or has been revoked.")
            reader = Reader(
                clinic=token.clinic, patients=Patient.objects.filter(clinic=token.clinic), token=token
            )
            return view(request, reader, *args, **kwargs)

        @staff_required
        def as_staff(request):
            user = request.user
            reader = Reader(clinic=clinic_of(user), patients=Patient.objects.visible_to(user))
            return view(request, reader, *args, **kwargs)

        return as_staff(request)

    return wrapped


def _base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _json(resource, *, filename: str = "") -> HttpResponse:
    response = HttpResponse(resource.model_dump_json(), content_type=FHIR_JSON)
    if filename:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def capability(request):
    """The server's CapabilityStatement (what this endpoint offers); no health data."""
    statement = CapabilityStatement(
        status="active",
        date=timezone.now(),
        kind="instance",
        fhirVersion="4.0.1",
        format=["application/fhir+json"],
        rest=[
            {
                "mode": "server",
                "security": {"description": "A clinic's API token as a Bearer token, or a signed-in nurse."},
                "resource": [
                    {
                        "type": "Patient",
                        "interaction": [{"code": "read"}],
                        "operation": [
                            {
                                "name": "everything",
                                "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                            }
                        ],
                    }
                ],
                "operation": [
                    {
                        "name": "export",
                        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
                    }
                ],
            }
        ],
    )
    return _json(statement)


def _child(reader: Reader, pk: int):
    return export_queryset(reader.patients).filter(pk=pk).first()


@require_GET
@fhir_reader
def everything(request, reader: Reader, pk: int):
    """Patient/{id}/$everything: the child's record as a searchset Bundle."""
    patient = _child(reader, pk)
    if patient is None:
        reader.audit(
            request,
            action=audit.FHIR_READ,
            outcome="missing",
            object_type="patients.patient",
            object_id=str(pk),
        )
        return _outcome(404, "not-found", "No such child in this clinic.")
    reader.audit(request, action=audit.FHIR_READ, obj=patient)
    base = _base_url(request)
    result = bundle(
        child_resources(patient, base_url=base),
        base_url=base,
        kind="searchset",
        now=timezone.now(),
        self_url=request.build_absolute_uri(),
    )
    return _json(result)


@require_GET
@fhir_reader
def collection(request, reader: Reader, pk: int):
    """The child's record as a collection Bundle, downloaded (the chart's button)."""
    patient = _child(reader, pk)
    if patient is None:
        reader.audit(
            request,
            action=audit.FHIR_READ,
            outcome="missing",
            object_type="patients.patient",
            object_id=str(pk),
        )
        return _outcome(404, "not-found", "No such child in this clinic.")
    reader.audit(request, action=audit.FHIR_READ, obj=patient)
    base = _base_url(request)
    result = bundle(child_resources(patient, base_url=base), base_url=base, now=timezone.now())
    return _json(result, filename=f"patient-{patient.pk}-fhir.json")


def ndjson_lines(patients, *, base_url: str, types: set[str] | None = None):
    """One line per resource, child by child, in chunks of CHUNK children: memory stays flat
    however many children the clinic has (tests/benchmarks/bench_fhir.py measures it)."""
    rows = export_queryset(patients.order_by("pk")).iterator(chunk_size=CHUNK)
    for patient in rows:
        lines = []
        for resource in child_resources(patient, base_url=base_url):
            if types is None or resource.get_resource_type() in types:
                lines.append(resource.model_dump_json() + "\n")
        if lines:
            yield "".join(lines)


@require_GET
@fhir_reader
def bulk_export(request, reader: Reader):
    """All children of the reader's clinic as NDJSON (FHIR Bulk Data's format: one resource a
    line), streamed. `_type=Patient,Device` keeps only those types (one file per type, as Bulk
    Data writes them)."""
    wanted = {t.strip() for t in request.GET.get("_type", "").split(",") if t.strip()} or None
    reader.audit(
        request,
        action=audit.FHIR_BULK_EXPORTED,
        object_type="patients.clinic",
        object_id=str(reader.clinic.pk),
    )
    response = StreamingHttpResponse(
        ndjson_lines(reader.patients, base_url=_base_url(request), types=wanted), content_type=NDJSON
    )
    response["Cache-Control"] = "no-store"
    return response


def clinic_admin_required(view):
    @staff_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.user.staff_profile.role != "clinic_admin":
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "POST"])
@clinic_admin_required
def tokens(request):
    """The clinic's API tokens: a new one (its secret shown once, here) and the list."""
    clinic = clinic_of(request.user)
    issued = None
    error = ""
    if request.method == "POST":
        try:
            issued = api_tokens.token_create(
                clinic=clinic, by=request.user, name=request.POST.get("name", ""), request=request
            )
        except ValueError as problem:
            error = str(problem)
    return render(
        request,
        "fhir/tokens.html",
        {
            "tokens": ClinicApiToken.objects.filter(clinic=clinic),
            "issued": issued,
            "error": error,
            "clinic": clinic,
            "base_url": _base_url(request) + "/fhir/",
        },
        status=400 if error else 200,
    )


@require_POST
@clinic_admin_required
def token_revoke(request, pk: int):
    token = get_object_or_404(ClinicApiToken, pk=pk, clinic=clinic_of(request.user))
    api_tokens.token_revoke(token=token, by=request.user, request=request)
    return redirect("fhir:tokens")
