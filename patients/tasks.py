"""Celery tasks of the domain's people: ids in, one service call each."""

from __future__ import annotations

from celery import shared_task

from patients.registration import caregiver_invite_mail


@shared_task(name="patients.tasks.caregiver_invite_send", ignore_result=True)
def caregiver_invite_send(caregiver_id: int, patient_id: int) -> bool:
    """The set-password e-mail of a parent the clinic made an account for (made here, after the
    commit, so its link never sits in a broker message)."""
    return caregiver_invite_mail(caregiver_id=caregiver_id, patient_id=patient_id)
