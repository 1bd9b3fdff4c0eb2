"""After-visit summaries and emergency cards: what goes on them, and storing each version.

Contracts: the refill service calls `pumps.tasks.visit_summary_queue(visit=...)` and, when the
program changed, `emergency_card_queue(patient=...)` inside its transaction; both queue the Celery
task after commit (`delay_on_commit`, itbportal/celery.py) so nothing is rendered before
commit. The tasks call `visit_summary_store` / `emergency_card_store`, which rebuild the PDFs
from the database.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from appointments.models import Appointment
from patients.clinic_hours import clinic_calendar
from patients.models import CaregiverLink, Language, Patient
from pumps import safety
from pumps.models import Document, Program, Pump, RefillVisit
from pumps.pdf import render_pdf

SUMMARY_TEMPLATE = "documents/visit_summary.html"
CARD_TEMPLATE = "documents/emergency_card.html"


def document_languages(patient: Patient) -> list[str]:
    """One language per need: the primary caregiver's first, then any other caregiver's."""
    known = {code for code, _ in Language.choices}
    links = (
        CaregiverLink.objects.filter(patient=patient, active=True)
        .order_by("-primary_contact", "pk")
        .values_list("caregiver__preferred_language", flat=True)
    )
    languages: list[str] = []
    for code in links:
        if code in known and code not in languages:
            languages.append(code)
    return languages or [Language.ENGLISH.value]


def plain_number(value: Decimal | None) -> Decimal | None:
    """300.00 -> 300 and 12.50 -> 12.5 (the template localises the decimal mark)."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def _program_facts(program: Program) -> dict:
    return {
        "drug": program.drug,
        "concentration": plain_number(program.concentration_mcg_ml),
        "daily_dose": plain_number(program.daily_dose_mcg),
        "is_flex": program.mode == Program.Mode.FLEX,
        "flex_steps": [
            {"start": step.start, "mcg_per_hour": plain_number(step.mcg_per_hour)} for step in program.steps()
        ],
        "has_patient_bolus": program.has_patient_bolus,
        "bolus_mcg": plain_number(program.bolus_mcg),
        "bolus_max_per_day": program.bolus_max_per_day,
    }


def _next_appointment(visit: RefillVisit) -> Appointment | None:
    chosen = visit.next_appointment
    if chosen is not None and chosen.is_open:
        return chosen
    return (
        Appointment.objects.filter(patient_id=visit.pump.patient_id, start__gt=visit.visit_at)
        .filter(status__in=Appointment.OPEN_STATUSES)
        .order_by("start")
        .first()
    )


def _dose_change(visit: RefillVisit) -> dict | None:
    percent = visit.dose_change_percent
    if percent is None:
        return None
    return {
        "old": plain_number(visit.pre_daily_dose_mcg),
        "new": plain_number(visit.program.daily_dose_mcg),
        "sign": "+" if percent > 0 else ("−" if percent < 0 else ""),
        "percent": plain_number(abs(percent)),
        "increase": percent > 0,
    }


def _governing_dates(visit: RefillVisit, clinic) -> safety.Dates:
    """The dates that govern as of this visit, by the assessment's own function on the same facts
    (the clinic's rules and calendar included): an earlier printed alarm date governs until a nurse
    resolves it, and the refill-due date moves with it onto an open day."""
    tz = clinic.tzinfo
    facts = safety.Facts(
        tz=tz,
        rules=clinic.safety_rules(),
        latest=visit.safety_fact(tz),
        calendar=clinic_calendar(clinic),
    )
    return safety.governing_dates(facts)


def visit_summary_context(visit: RefillVisit) -> dict:
    """Everything the summary shows, read from the database (no clock: reruns are identical)."""
    pump, program = visit.pump, visit.program
    patient = pump.patient
    clinic = patient.clinic
    tz = clinic.tzinfo
    visit_local = timezone.localtime(visit.visit_at, tz)
    appointment = _next_appointment(visit)
    nurse = visit.nurse
    dates = _governing_dates(visit, clinic)
    return {
        "patient": patient,
        "clinic": clinic,
        "visit": visit,
        "visit_date": visit_local.date(),
        "nurse_name": (nurse.get_full_name() or nurse.email) if nurse else "",
        "program": _program_facts(program),
        "dose_change": _dose_change(visit),
        "bridge_bolus_ml": plain_number(visit.bridge_bolus_ml) if visit.bridge_bolus_ml else None,
        "alarm_date": dates.alarm_day,
        "alarm_nominal_date": (
            timezone.localtime(visit.alarm_at, tz).date() if program.has_patient_bolus else None
        ),
        "refill_due": dates.refill_due,
        "appointment": appointment,
        "appointment_start": timezone.localtime(appointment.start, tz) if appointment else None,
        "replace_by": pump.replace_by() if pump.battery_window_open(visit_local.date()) else None,
        "created": visit.visit_at,
    }


def _summary_title(context: dict) -> str:
    day = formats.date_format(context["visit_date"], "DATE_FORMAT")
    return gettext("After-visit summary: %(name)s, %(date)s") % {
        "name": context["patient"].full_name,
        "date": day,
    }


def document_store(
    *,
    kind: str,
    patient: Patient,
    visit: RefillVisit | None,
    program: Program | None,
    language: str,
    pdf: bytes,
) -> Document:
    """Keep `pdf` as the next version, unless the newest version has the same checksum."""
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        # Lock the child's row so two renders never pick the same version number.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        newest = (
            Document.objects.filter(kind=kind, patient=patient, visit=visit, language=language)
            .newest_first()
            .first()
        )
        if newest is not None and newest.sha256 == digest:
            return newest
        version = newest.version + 1 if newest else 1
        document = Document(
            kind=kind,
            patient=patient,
            visit=visit,
            program=program,
            language=language,
            version=version,
            sha256=digest,
            created_at=timezone.now(),
        )
        owner = f"visit{visit.pk}" if visit else f"patient{patient.pk}"
        document.file.save(f"{kind}-{owner}-{language}-v{version}.pdf", ContentFile(pdf), save=False)
        document.save()
    return document


def visit_summary_store(*, visit: RefillVisit) -> list[Document]:
    """Render the summary of `visit` in each language its family needs, and store each."""
    visit = RefillVisit.objects.select_related(
        "pump__patient__clinic", "program", "nurse", "next_appointment"
    ).get(pk=visit.pk)
    patient = visit.pump.patient
    context = visit_summary_context(visit)
    documents = []
    for language in document_languages(patient):
        with translation.override(language):
            title = _summary_title(context)
        pdf = render_pdf(template=SUMMARY_TEMPLATE, context=context, language=language, title=title)
        documents.append(
            document_store(
                kind=Document.Kind.VISIT_SUMMARY,
                patient=patient,
                visit=visit,
                program=visit.program,
                language=language,
                pdf=pdf,
            )
        )
    return documents


def active_pump(patient: Patient) -> Pump | None:
    return Pump.objects.filter(patient=patient, explant_date__isnull=True).order_by("-implant_date").first()


def emergency_card_context(patient: Patient) -> dict | None:
    """The card's facts from the current program; None when the child has no programmed pump."""
    pump = active_pump(patient)
    program = pump.current_program if pump else None
    if program is None:
        return None
    return {
        "patient": patient,
        "clinic": patient.clinic,
        "pump": pump,
        "program_row": program,
        "program": _program_facts(program),
        "created": program.effective_from,
    }


def emergency_card_title(patient: Patient) -> str:
    return gettext("Emergency card: %(name)s") % {"name": patient.full_name}


def emergency_card_pdf(*, patient: Patient, language: str) -> tuple[bytes, dict] | None:
    context = emergency_card_context(patient)
    if context is None:
        return None
    with translation.override(language):
        title = emergency_card_title(patient)
    return render_pdf(template=CARD_TEMPLATE, context=context, language=language, title=title), context


def emergency_card_store(*, patient: Patient) -> list[Document]:
    """Store the card as it stands with the current program, in each language needed."""
    patient = Patient.objects.select_related("clinic").get(pk=patient.pk)
    documents = []
    for language in document_languages(patient):
        rendered = emergency_card_pdf(patient=patient, language=language)
        if rendered is None:
            return []
        pdf, context = rendered
        documents.append(
            document_store(
                kind=Document.Kind.EMERGENCY_CARD,
                patient=patient,
                visit=None,
                program=context["program_row"],
                language=language,
                pdf=pdf,
            )
        )
    return documents
