"""One child's record as FHIR R4 resources, built with the `fhir.resources` models (each one is
validated as it is constructed). docs/fhir.md maps every field.

The models are those of `fhir.resources.R4B` (FHIR 4.3, the technical correction of R4 4.0.1):
for the resources emitted here the two versions have the same elements.

Reads only: the child, the caregivers, the pumps and their programs and visits, the appointments,
the after-visit summaries and the open concerns of the stored assessment (alerts.models.Concern;
this module compares no dates itself). Callers prefetch with `export_queryset` so a bulk export
costs a fixed number of queries per chunk of children.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch
from django.urls import reverse
from fhir.resources.R4B.appointment import Appointment as FhirAppointment
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.device import Device
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.relatedperson import RelatedPerson
from fhir.resources.R4B.resource import Resource

from alerts.models import Concern
from appointments.models import Appointment
from patients.models import CaregiverLink, Patient
from pumps.models import Document, Program, Pump, PumpModel, RefillVisit

# Public code systems.
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
FLAG_PRIORITY_EXT = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY = "http://hl7.org/fhir/flag-priority-code"
BCP47 = "urn:ietf:bcp:47"

BACLOFEN_RXCUI = "1292"  # RxNorm ingredient: baclofen
INTRATHECAL_ROUTE = "72607000"  # SNOMED CT: Intrathecal route

RELATIONSHIP_CODES = {  # v3 RoleCode; foster parent and "other" have no code there
    CaregiverLink.Relationship.MOTHER: "MTH",
    CaregiverLink.Relationship.FATHER: "FTH",
    CaregiverLink.Relationship.GUARDIAN: "GUARD",
    CaregiverLink.Relationship.GRANDPARENT: "GRPRN",
}
APPOINTMENT_STATUS = {
    Appointment.Status.SCHEDULED: "booked",
    Appointment.Status.CONFIRMED: "booked",
    Appointment.Status.COMPLETED: "fulfilled",
    Appointment.Status.CANCELLED: "cancelled",
    Appointment.Status.NO_SHOW: "noshow",
}
FLAG_PRIORITIES = {"critical": ("PH", "High priority"), "urgent": ("PM", "Medium priority")}
MODEL_NUMBERS = {PumpModel.SYNCHROMED_II_20: "8637-20", PumpModel.SYNCHROMED_II_40: "8637-40"}
BATTERY_KINDS = ("eri", "battery")  # the stored assessment's concern kinds about the battery

# The portal's own codes, where no public code fits (docs/fhir.md).
OBSERVATIONS = (
    ("expected_residual_ml", "residual-expected", "Reservoir residual volume, expected"),
    ("actual_residual_ml", "residual-aspirated", "Reservoir residual volume, aspirated"),
    ("volume_instilled_ml", "volume-filled", "Volume filled into the reservoir"),
    ("volume_after_ml", "volume-after", "Reservoir volume entered after the visit"),
)


def system_base() -> str:
    return getattr(settings, "FHIR_SYSTEM_BASE", "https://itbportal.org/fhir").rstrip("/")


def code_system(name: str) -> str:
    return f"{system_base()}/CodeSystem/{name}"


def extension_url(name: str) -> str:
    return f"{system_base()}/StructureDefinition/{name}"


def _ml(value: Decimal) -> dict:
    return {"value": value, "unit": "mL", "system": UCUM, "code": "mL"}


def _mcg(value: Decimal) -> dict:
    return {"value": value, "unit": "mcg", "system": UCUM, "code": "ug"}


def _ref(kind: str, pk) -> dict:
    return {"reference": f"{kind}/{pk}"}


def _coding(system: str, code: str, display: str = "") -> dict:
    row = {"system": system, "code": code}
    if display:
        row["display"] = str(display)
    return row


def export_queryset(patients):
    """`patients` with everything the builder reads prefetched (works with .iterator(chunk_size))."""
    return patients.select_related("clinic").prefetch_related(
        Prefetch(
            "caregiver_links",
            queryset=CaregiverLink.objects.filter(active=True)
            .select_related("caregiver__user")
            .order_by("pk"),
            to_attr="fhir_links",
        ),
        Prefetch(
            "pumps",
            queryset=Pump.objects.order_by("implant_date", "pk").prefetch_related(
                Prefetch("programs", queryset=Program.objects.order_by("effective_from", "pk")),
                Prefetch(
                    "visits",
                    queryset=RefillVisit.objects.select_related("nurse").order_by("visit_at", "pk"),
                ),
            ),
            to_attr="fhir_pumps",
        ),
        Prefetch(
            "appointments", queryset=Appointment.objects.order_by("start", "pk"), to_attr="fhir_appointments"
        ),
        Prefetch(
            "documents",
            queryset=Document.objects.filter(kind=Document.Kind.VISIT_SUMMARY).order_by("created_at", "pk"),
            to_attr="fhir_documents",
        ),
        Prefetch(
            "concerns", queryset=Concern.objects.open().order_by("tier_rank", "pk"), to_attr="fhir_concerns"
        ),
    )


def _patient(patient: Patient) -> FhirPatient:
    clinic = patient.clinic
    return FhirPatient(
        id=str(patient.pk),
        identifier=[
            {
                "use": "usual",
                "type": {"coding": [_coding(V2_0203, "MR", "Medical record number")]},
                "system": f"{system_base()}/clinic/{clinic.pk}/mrn",
                "value": patient.mrn,
            }
        ],
        active=patient.active,
        name=[{"use": "official", "family": patient.last_name, "given": [patient.first_name]}],
        birthDate=patient.date_of_birth,
        managingOrganization={"display": clinic.name},
    )


def _related_person(link: CaregiverLink, *, share_contact: bool) -> RelatedPerson:
    user = link.caregiver.user
    relationship = RELATIONSHIP_CODES.get(link.relationship)
    coding = (
        _coding(V3_ROLE, relationship, link.get_relationship_display())
        if relationship
        else _coding(code_system("relationship"), link.relationship, link.get_relationship_display())
    )
    codings = [{"coding": [coding]}]
    if link.primary_contact:
        codings.append(
            {"coding": [_coding(code_system("relationship"), "primary-contact", "Primary contact")]}
        )
    data = {
        "id": str(link.pk),
        "active": link.active,
        "patient": _ref("Patient", link.patient_id),
        "relationship": codings,
        "communication": [
            {"language": {"coding": [_coding(BCP47, link.caregiver.preferred_language)]}, "preferred": True}
        ],
    }
    name = {
        k: v
        for k, v in (("family", user.last_name), ("given", [user.first_name] if user.first_name else None))
        if v
    }
    if name:
        data["name"] = [name]
    if share_contact:
        telecom = []
        if link.caregiver.mobile:
            telecom.append({"system": "phone", "use": "mobile", "value": str(link.caregiver.mobile)})
        if user.email:
            telecom.append({"system": "email", "value": user.email})
        if telecom:
            data["telecom"] = telecom
    return RelatedPerson(**data)


def _device(pump: Pump, concerns: list[Concern]) -> Device:
    properties = [
        {
            "type": {
                "coding": [
                    _coding(code_system("device-property"), "reservoir-capacity", "Reservoir capacity")
                ]
            },
            "valueQuantity": [_ml(pump.capacity_ml)],
        }
    ]
    extensions = [{"url": extension_url("implant-date"), "valueDate": pump.implant_date}]
    if pump.is_active:
        battery_kinds = sorted({c.kind for c in concerns if c.kind in BATTERY_KINDS})
        state = battery_kinds[0] if battery_kinds else "ok"
        labels = {
            "ok": "Battery in service",
            "eri": "Elective replacement indicator",
            "battery": "Replacement due",
        }
        properties.append(
            {
                "type": {
                    "coding": [_coding(code_system("device-property"), "battery-state", "Battery state")]
                },
                "valueCode": [{"coding": [_coding(code_system("battery-state"), state, labels[state])]}],
            }
        )
        replace_by = pump.replace_by()
        if replace_by:
            extensions.append({"url": extension_url("battery-replace-by"), "valueDate": replace_by})
    if pump.eri_date:
        extensions.append({"url": extension_url("eri-reported-date"), "valueDate": pump.eri_date})
    if pump.explant_date:
        extensions.append({"url": extension_url("explant-date"), "valueDate": pump.explant_date})
    data = {
        "id": str(pump.pk),
        "extension": extensions,
        "status": "active" if pump.is_active else "inactive",
        "serialNumber": pump.serial_number,
        "deviceName": [{"name": pump.get_model_display(), "type": "model-name"}],
        "type": {"text": "Implanted intrathecal infusion pump"},
        "patient": _ref("Patient", pump.patient_id),
        "property": properties,
    }
    if pump.model != PumpModel.OTHER:
        data["manufacturer"] = "Medtronic"
    if pump.model in MODEL_NUMBERS:
        data["modelNumber"] = MODEL_NUMBERS[pump.model]
    return Device(**data)


def _time_of_day(start: str) -> str:
    return start if start.count(":") == 2 else f"{start}:00"


def _medication_request(program: Program, *, pump: Pump, current: bool) -> MedicationRequest:
    medication = {
        "resourceType": "Medication",
        "id": "med",
        "code": {
            "coding": [_coding(RXNORM, BACLOFEN_RXCUI, "baclofen")],
            "text": f"Baclofen intrathecal {program.concentration_mcg_ml} mcg/mL",
        },
        "ingredient": [
            {
                "itemCodeableConcept": {"coding": [_coding(RXNORM, BACLOFEN_RXCUI, "baclofen")]},
                "isActive": True,
                "strength": {"numerator": _mcg(program.concentration_mcg_ml), "denominator": _ml(Decimal(1))},
            }
        ],
    }
    route = {"coding": [_coding(SNOMED, INTRATHECAL_ROUTE, "Intrathecal route")]}
    daily = {
        "text": f"{program.daily_dose_mcg} mcg per day ({program.get_mode_display()})",
        "route": route,
        "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
        "doseAndRate": [{"doseQuantity": _mcg(program.daily_dose_mcg)}],
    }
    dosages = [daily]
    if program.mode == Program.Mode.FLEX:
        steps = list(program.flex_steps)
        for i, step in enumerate(steps):
            until = steps[(i + 1) % len(steps)]["start"]
            rate = Decimal(str(step["mcg_per_hour"]))
            dosages.append(
                {
                    "sequence": i + 1,
                    "text": f"Flex step from {step['start']} to {until}: {rate} mcg/h",
                    "route": route,
                    "timing": {"repeat": {"timeOfDay": [_time_of_day(step["start"])]}},
                    "doseAndRate": [
                        {"rateQuantity": {"value": rate, "unit": "mcg/h", "system": UCUM, "code": "ug/h"}}
                    ],
                }
            )
    if program.has_patient_bolus:
        dosages.append(
            {
                "text": f"Patient bolus {program.bolus_mcg} mcg, up to {program.bolus_max_per_day} a day",
                "route": route,
                "asNeededBoolean": True,
                "doseAndRate": [{"doseQuantity": _mcg(program.bolus_mcg)}],
                "maxDosePerPeriod": {
                    "numerator": _mcg(program.bolus_mcg * program.bolus_max_per_day),
                    "denominator": {"value": Decimal(1), "unit": "d", "system": UCUM, "code": "d"},
                },
            }
        )
    data = {
        "id": str(program.pk),
        "contained": [medication],
        "extension": [
            {
                "url": extension_url("low-reservoir-alarm-volume"),
                "valueQuantity": _ml(program.alarm_volume_ml),
            },
        ],
        "status": "active" if current else "completed",
        "intent": "order",
        "medicationReference": {"reference": "#med"},
        "subject": _ref("Patient", pump.patient_id),
        "authoredOn": program.effective_from,
        "dosageInstruction": dosages,
    }
    if program.change_reason:
        data["note"] = [{"text": program.change_reason}]
    return MedicationRequest(**data)


def _procedure(visit: RefillVisit, pump: Pump) -> Procedure:
    data = {
        "id": str(visit.pk),
        "status": "completed",
        "code": {
            "coding": [_coding(code_system("visit-kind"), visit.kind, visit.get_kind_display())],
            "text": str(visit.get_kind_display()),
        },
        "subject": _ref("Patient", pump.patient_id),
        "performedDateTime": visit.visit_at,
        "focalDevice": [{"manipulated": _ref("Device", pump.pk)}],
        "usedReference": [_ref("MedicationRequest", visit.program_id)],
    }
    if visit.nurse is not None:
        data["performer"] = [{"actor": {"display": str(visit.nurse)}}]
    if visit.notes:
        data["note"] = [{"text": visit.notes}]
    return Procedure(**data)


def _observations(visit: RefillVisit, pump: Pump) -> Iterator[Observation]:
    for field, code, display in OBSERVATIONS:
        value = getattr(visit, field)
        if value is None:
            continue
        yield Observation(
            id=f"{visit.pk}-{code}",
            status="final",
            category=[{"coding": [_coding(OBS_CATEGORY, "procedure", "Procedure")]}],
            code={"coding": [_coding(code_system("observation"), code, display)], "text": display},
            subject=_ref("Patient", pump.patient_id),
            partOf=[_ref("Procedure", visit.pk)],
            device=_ref("Device", pump.pk),
            effectiveDateTime=visit.visit_at,
            valueQuantity=_ml(value),
        )


def _appointment(appointment: Appointment) -> FhirAppointment:
    confirmed = appointment.status == Appointment.Status.CONFIRMED or appointment.confirmed_at is not None
    participants = [
        {
            "actor": _ref("Patient", appointment.patient_id),
            "required": "required",
            "status": "accepted" if confirmed else "needs-action",
        }
    ]
    if appointment.location:
        participants.append(
            {"actor": {"display": appointment.location}, "required": "information-only", "status": "accepted"}
        )
    data = {
        "id": str(appointment.pk),
        "status": APPOINTMENT_STATUS[appointment.status],
        "serviceType": [
            {
                "coding": [
                    _coding(code_system("appointment-kind"), appointment.kind, appointment.get_kind_display())
                ]
            }
        ],
        "start": appointment.start,
        "end": appointment.end,
        "minutesDuration": appointment.duration_minutes,
        "participant": participants,
    }
    if appointment.notes:
        data["comment"] = appointment.notes
    return FhirAppointment(**data)


def _document_reference(document: Document, *, base_url: str, latest: bool) -> DocumentReference:
    url = base_url + reverse("documents:summary", args=[document.pk])
    data = {
        "id": str(document.pk),
        "status": "current" if latest else "superseded",
        "docStatus": "final",
        "type": {
            "coding": [_coding(code_system("document-kind"), document.kind, document.get_kind_display())]
        },
        "subject": _ref("Patient", document.patient_id),
        "date": document.created_at,
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "language": document.language,
                    "url": url,
                    "title": f"{document.get_kind_display()} (version {document.version})",
                    "creation": document.created_at,
                }
            }
        ],
    }
    if document.visit_id:
        data["context"] = {"related": [_ref("Procedure", document.visit_id)]}
    return DocumentReference(**data)


def _flag(concern: Concern) -> Flag:
    extensions = []
    if concern.tier in FLAG_PRIORITIES:
        code, display = FLAG_PRIORITIES[concern.tier]
        extensions.append(
            {
                "url": FLAG_PRIORITY_EXT,
                "valueCodeableConcept": {"coding": [_coding(FLAG_PRIORITY, code, display)]},
            }
        )
    else:
        extensions.append(
            {
                "url": FLAG_PRIORITY_EXT,
                "valueCodeableConcept": {"coding": [_coding(FLAG_PRIORITY, "PL", "Low priority")]},
            }
        )
    if concern.act_by:
        extensions.append({"url": extension_url("act-by"), "valueDate": concern.act_by})
    return Flag(
        id=str(concern.pk),
        extension=extensions,
        status="active",
        category=[{"coding": [_coding(FLAG_CATEGORY, "clinical", "Clinical")]}],
        code={
            "coding": [
                _coding(code_system("concern-kind"), concern.kind, concern.get_kind_display()),
                _coding(code_system("concern-tier"), concern.tier, concern.get_tier_display()),
            ],
            "text": concern.nurse_words,
        },
        subject=_ref("Patient", concern.patient_id),
        period={"start": concern.opened_at},
    )


def child_resources(patient: Patient, *, base_url: str) -> Iterator[Resource]:
    """Every resource of one child, Patient first. `patient` comes from `export_queryset`."""
    yield _patient(patient)
    share = patient.clinic.fhir_shares_caregiver_contact
    for link in patient.fhir_links:
        yield _related_person(link, share_contact=share)
    concerns = patient.fhir_concerns
    pumps = patient.fhir_pumps
    for pump in pumps:
        yield _device(pump, concerns)
    for pump in pumps:
        programs = list(pump.programs.all())
        for program in programs:
            yield _medication_request(program, pump=pump, current=pump.is_active and program is programs[-1])
        for visit in pump.visits.all():
            yield _procedure(visit, pump)
            yield from _observations(visit, pump)
    for appointment in patient.fhir_appointments:
        yield _appointment(appointment)
    newest = {}
    for document in patient.fhir_documents:
        newest[(document.visit_id, document.language)] = document.pk
    for document in patient.fhir_documents:
        yield _document_reference(
            document, base_url=base_url, latest=newest[(document.visit_id, document.language)] == document.pk
        )
    for concern in concerns:
        yield _flag(concern)


def full_url(base_url: str, resource: Resource) -> str:
    return f"{base_url}{reverse('fhir:base')}{resource.get_resource_type()}/{resource.id}"


def bundle(
    resources: Iterable[Resource],
    *,
    base_url: str,
    kind: str = "collection",
    now: datetime,
    self_url: str = "",
) -> Bundle:
    """A Bundle of `resources`: a `collection`, or the `searchset` of Patient/{id}/$everything
    (the Patient is the match, the rest are included)."""
    entries = []
    for resource in resources:
        entry = {"fullUrl": full_url(base_url, resource), "resource": resource}
        if kind == "searchset":
            entry["search"] = {"mode": "match" if resource.get_resource_type() == "Patient" else "include"}
        entries.append(entry)
    data = {"type": kind, "timestamp": now, "entry": entries}
    if kind == "searchset":
        data["total"] = sum(1 for e in entries if e["search"]["mode"] == "match")
        if self_url:
            data["link"] = [{"relation": "self", "url": self_url}]
    return Bundle(**data)
