"""Celery tasks for pumps: they take ids, reload the rows, and call one service."""

from __future__ import annotations

from celery import shared_task

from patients.models import Patient
from pumps import documents
from pumps.models import RefillVisit

# Rendering one summary takes about a second; these limits stop a runaway layout.
PDF_SOFT_TIME_LIMIT = 60
PDF_TIME_LIMIT = 90


@shared_task(
    name="pumps.tasks.visit_summary_render", soft_time_limit=PDF_SOFT_TIME_LIMIT, time_limit=PDF_TIME_LIMIT
)
def visit_summary_render(visit_id: int) -> list[int]:
    """Rebuild the after-visit summary of a visit from the database (a rerun is harmless)."""
    visit = RefillVisit.objects.filter(pk=visit_id).first()
    if visit is None:
        return []
    return [doc.pk for doc in documents.visit_summary_store(visit=visit)]


@shared_task(
    name="pumps.tasks.emergency_card_render", soft_time_limit=PDF_SOFT_TIME_LIMIT, time_limit=PDF_TIME_LIMIT
)
def emergency_card_render(patient_id: int) -> list[int]:
    """Store the emergency card as it stands with the child's current program."""
    patient = Patient.objects.filter(pk=patient_id).first()
    if patient is None:
        return []
    return [doc.pk for doc in documents.emergency_card_store(patient=patient)]


def visit_summary_queue(*, visit) -> None:
    """Queue the after-visit summary PDF for `visit` once the surrounding transaction commits."""
    visit_summary_render.delay_on_commit(visit.pk)


def emergency_card_queue(*, patient) -> None:
    """Queue a fresh emergency card for `patient` (after a program change) on commit."""
    emergency_card_render.delay_on_commit(patient.pk)
