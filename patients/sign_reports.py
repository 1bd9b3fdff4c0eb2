"""Writes of a report of warning signs (issue 25): a parent reports, a nurse records the outcome.

Each write is one transaction: the report, its audit row, and the engine told through the domain
event `children_reassess` (alerts/receivers.py), which opens, updates or resolves the child's
critical "signs reported" concern before the write commits. The rule is in docs/rules.md
("Warning signs from the family").
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from patients import audit, events, signs
from patients.models import Caregiver, Patient, SignReport

REPEAT_WINDOW = timedelta(minutes=signs.REPEAT_WINDOW_MINUTES)
# A time the phone says it wrote a report is kept only if it is at most this old (and not ahead).
WRITTEN_AT_MAX_AGE = timedelta(days=2)


class SignReportError(ValueError):
    """A report or an outcome that cannot be recorded; the message is a plain sentence."""


def _written_at(value: datetime | None, now: datetime) -> datetime | None:
    if value is None or value > now or value < now - WRITTEN_AT_MAX_AGE:
        return None
    return value


def _words(text: str) -> str:
    text = " ".join(str(text or "").replace("\x00", "").split())
    if len(text) > signs.WORDS_MAX:
        raise SignReportError(_("Please write fewer words (500 letters at most)."))
    return text


def sign_report_record(
    *,
    patient: Patient,
    caregiver: Caregiver,
    codes: list[str],
    words: str = "",
    written_at: datetime | None = None,
    now: datetime | None = None,
    request=None,
) -> tuple[SignReport, bool]:
    """Record what a parent sees. `patient` must come from `Patient.objects.signs_reportable_by`.
    A send within the hour of the child's open report adds to it (a repeat opens nothing new);
    a send that adds nothing (a phone sending its kept report twice) changes nothing.
    Returns the report and whether it is new."""
    now = now or timezone.now()
    try:
        codes = signs.check_signs(codes)
    except signs.SignError as error:
        raise SignReportError(str(error)) from error
    words = _words(words)
    with transaction.atomic():
        # The child's row lock: two sends at once (two parents, a phone sending twice) queue here.
        Patient.objects.select_for_update().filter(pk=patient.pk).exists()
        report = (
            SignReport.objects.select_for_update()
            .open()
            .filter(patient=patient, last_reported_at__gte=now - REPEAT_WINDOW)
            .order_by("-last_reported_at", "-pk")
            .first()
        )
        if report is None:
            report = SignReport.objects.create(
                patient=patient,
                clinic_id=patient.clinic_id,
                reporter=caregiver,
                reporter_name=str(caregiver)[:254],
                signs=codes,
                groups=signs.groups_of(codes),
                words=words,
                reported_at=now,
                last_reported_at=now,
                written_at=_written_at(written_at, now),
            )
            created, action = True, audit.SIGNS_REPORTED
        else:
            created, action = False, audit.SIGNS_REPORT_REPEATED
            if not _fold_in(report, codes=codes, words=words, caregiver=caregiver, now=now):
                audit.audit_record(request=request, actor=caregiver.user, action=action, obj=report)
                return report, False
        audit.audit_record(request=request, actor=caregiver.user, action=action, obj=report)
        events.children_reassess_send(patient_ids=[patient.pk], now=now)
    return report, created


def _fold_in(
    report: SignReport, *, codes: list[str], words: str, caregiver: Caregiver, now: datetime
) -> bool:
    """Add a repeat's signs and words to the open report; False when it adds nothing."""
    merged = signs.signs_in_order([*report.signs, *codes])
    new_words = bool(words) and words not in report.words
    if merged == report.signs and not new_words:
        return False
    report.signs = merged
    report.groups = signs.groups_of(merged)
    if new_words:
        who = "" if caregiver.pk == report.reporter_id else f"{caregiver}: "
        report.words = f"{report.words}\n{who}{words}".strip()[: signs.WORDS_MAX * 4]
    report.last_reported_at = now
    report.sends += 1
    report.save(update_fields=["signs", "groups", "words", "last_reported_at", "sends"])
    return True


def sign_report_outcome_record(
    *, report: SignReport, outcome: str, note: str = "", by, now: datetime | None = None, request=None
) -> SignReport:
    """A nurse records what was done. Once: a report already closed is refused, unchanged. The
    child's concern resolves with this outcome in the same transaction."""
    now = now or timezone.now()
    if outcome not in SignReport.Outcome.values:
        raise SignReportError("Choose what was done.")
    with transaction.atomic():
        report = SignReport.objects.select_for_update().select_related("patient").get(pk=report.pk)
        if report.outcome:
            raise SignReportError(
                f"The outcome was already recorded ({report.get_outcome_display()}); nothing changed."
            )
        report.outcome = outcome
        report.outcome_note = " ".join(str(note or "").split())[:500]
        report.outcome_by = by
        report.outcome_at = now
        report.save(update_fields=["outcome", "outcome_note", "outcome_by", "outcome_at"])
        audit.audit_record(request=request, actor=by, action=audit.SIGNS_OUTCOME_RECORDED, obj=report)
        events.children_reassess_send(patient_ids=[report.patient_id], now=now)
    return report
