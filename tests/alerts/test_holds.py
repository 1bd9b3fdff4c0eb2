"""Sending holds: a held clinic gives one probe per sweep, other clinics send as usual; the admins'
e-mail is tried again at the next sweep when the mail server failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts import holds
from alerts.models import Reminder
from alerts.sending import reminders_claim_due
from tests.alerts.conftest import at, refill_text
from tests.factories import ClinicFactory, StaffFactory

pytestmark = pytest.mark.django_db
T0 = at(2026, 11, 16, 10, 1)


def due_texts(clinic, n: int) -> list[int]:
    pks = []
    for i in range(n):
        row = refill_text(clinic, first_name=f"C{i}")
        Reminder.objects.filter(pk=row.pk).update(send_after=T0 - timedelta(minutes=i))
        pks.append(row.pk)
    return pks


def test_a_held_clinic_gives_one_probe_at_a_time_and_other_clinics_send_as_usual(clinic, other_clinic):
    held = due_texts(clinic, 3)
    free = due_texts(other_clinic, 2)
    holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate", now=T0)
    claimed = reminders_claim_due(now=T0)
    assert set(free) < set(claimed) and len(set(claimed) & set(held)) == 1
    assert set(reminders_claim_due(now=T0 + timedelta(minutes=1))) == set()  # the probe is in flight
    holds.hold_release(clinic_id=clinic.pk, began_at=T0 + timedelta(minutes=1), now=T0 + timedelta(minutes=2))
    assert len(reminders_claim_due(now=T0 + timedelta(minutes=2))) == 2  # the rest, at once


def test_the_admins_are_alerted_once_and_again_at_the_next_sweep_if_the_mail_failed(
    clinic, settings, mailoutbox, monkeypatch
):
    StaffFactory(clinic=clinic, role="clinic_admin", user__email="admin@hospital.test")
    StaffFactory(clinic=ClinicFactory(), role="clinic_admin", user__email="elsewhere@hospital.test")

    def down(*args, **kwargs):
        raise OSError("mail server down")

    monkeypatch.setattr(holds, "send_mail", down)
    holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate", now=T0)
    (hold,) = holds.holds_open()
    holds.hold_alert(hold_id=hold.pk)
    assert holds.holds_open()[0].alerted_at is None
    monkeypatch.undo()
    holds.holds_alert_pending()
    holds.holds_alert_pending()
    assert [m.to for m in mailoutbox] == [["admin@hospital.test"]]
    assert "20003" in mailoutbox[0].body and holds.holds_open()[0].alerted_at is not None
    assert holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="again", now=T0) is False


# --- Errors about one number are about that number (issue 23, point 5) ---------------------------


def attempt(now):
    from alerts.sending import reminder_send

    for pk in reminders_claim_due(now=now):
        reminder_send(reminder=Reminder.objects.get(pk=pk), now=now)


@pytest.mark.parametrize("code", [21606, 21608])
def test_a_refusal_about_one_destination_fails_that_text_tells_the_nurses_and_holds_nothing(
    clinic, fake_twilio, code
):
    from alerts.models import Concern

    one, other = due_texts(clinic, 2)
    fake_twilio.fail_next(("error", 400, code))
    attempt(T0)
    assert holds.holds_open() == []
    refused = Reminder.objects.get(
        pk=[pk for pk in (one, other) if Reminder.objects.get(pk=pk).status == "failed"][0]
    )
    assert refused.attempts == 1 and str(code) in refused.last_error
    (concern,) = Concern.objects.open().filter(kind="unreachable", patient=refused.patient)
    assert str(code) in concern.nurse_words
    assert len(fake_twilio.accepted) == 1  # the other family's text went
    attempt(T0 + timedelta(minutes=1))  # and the refused one is not probed again
    assert len(fake_twilio.requests) == 2


def test_a_hold_is_released_only_by_a_text_of_the_clinic_accepted_after_it_began(clinic, other_clinic):
    holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate", now=T0)
    # A text begun before the hold (or with it) proves nothing about the fix.
    assert holds.hold_release(clinic_id=clinic.pk, began_at=T0 - timedelta(seconds=5)) is False
    assert holds.hold_release(clinic_id=clinic.pk, began_at=T0) is False
    assert holds.hold_release(clinic_id=clinic.pk, began_at=None) is False
    assert holds.hold_release(clinic_id=other_clinic.pk, began_at=T0 + timedelta(minutes=1)) is False
    assert [h.clinic_id for h in holds.holds_open()] == [clinic.pk]
    assert holds.hold_release(clinic_id=clinic.pk, began_at=T0 + timedelta(minutes=1)) is True
    assert holds.holds_open() == []


def test_a_failed_reply_to_the_probe_does_not_release_the_hold(clinic, fake_twilio):
    (row,) = due_texts(clinic, 1)
    holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate", now=T0)
    fake_twilio.fail_next(("reply", {"status": "failed", "error_code": 30003}))
    attempt(T0 + timedelta(minutes=1))
    assert Reminder.objects.get(pk=row).status == "failed"
    assert [h.clinic_id for h in holds.holds_open()] == [clinic.pk]


def test_while_a_hold_lasts_the_admins_are_alerted_again_each_hour(clinic, mailoutbox):
    StaffFactory(clinic=clinic, role="clinic_admin", user__email="admin@hospital.test")
    holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate", now=T0)
    holds.holds_alert_pending(now=T0)
    holds.holds_alert_pending(now=T0 + timedelta(minutes=30))
    holds.holds_alert_pending(now=T0 + timedelta(minutes=59))
    assert len(mailoutbox) == 1 and "Texts are on hold" in mailoutbox[0].subject
    holds.holds_alert_pending(now=T0 + timedelta(minutes=61))
    holds.holds_alert_pending(now=T0 + timedelta(minutes=90))
    assert len(mailoutbox) == 2 and mailoutbox[1].subject.startswith("[ITB Portal] Still on hold")
    holds.hold_release(clinic_id=clinic.pk, began_at=T0 + timedelta(minutes=91))
    holds.holds_alert_pending(now=T0 + timedelta(hours=3))
    assert len(mailoutbox) == 2


def test_after_the_clinics_time_the_nurses_get_a_concern_for_each_child_whose_texts_wait(
    clinic, other_clinic, mailoutbox, django_capture_on_commit_callbacks, celery_eager
):
    from alerts.escalations import escalations_check
    from alerts.models import Concern

    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.texts_held_tell_nurses_minutes = 45
    clinic.save()
    waiting = due_texts(clinic, 2)
    elsewhere = due_texts(other_clinic, 1)
    holds.hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate", now=T0)
    with django_capture_on_commit_callbacks(execute=True):
        escalations_check(now=T0 + timedelta(minutes=44))
        assert not Concern.objects.filter(kind="texts_held").exists()
        escalations_check(now=T0 + timedelta(minutes=46))
    concerns = Concern.objects.open().filter(kind="texts_held")
    patients = set(Reminder.objects.filter(pk__in=waiting).values_list("patient_id", flat=True))
    assert set(concerns.values_list("patient_id", flat=True)) == patients
    assert not concerns.filter(patient__reminders__pk__in=elsewhere).exists()
    assert all(c.tier == "urgent" and "on hold since" in c.nurse_words for c in concerns)
    mails = [m for m in mailoutbox if "Texts to the family wait" in m.subject]
    names = {Reminder.objects.get(pk=pk).patient.full_name for pk in waiting}
    assert len(mails) == 2 and {n for n in names for m in mails if n in m.body} == names
    # The texts flow again: the concerns resolve at the next check, saying why.
    holds.hold_release(clinic_id=clinic.pk, began_at=T0 + timedelta(minutes=50))
    escalations_check(now=T0 + timedelta(minutes=51))
    assert not Concern.objects.open().filter(kind="texts_held").exists()
    assert set(Concern.objects.filter(kind="texts_held").values_list("resolved_reason", flat=True)) == {
        "texts flow again, or the waiting texts went or were cancelled"
    }
