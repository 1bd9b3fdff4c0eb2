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
    holds.hold_release(clinic_id=clinic.pk, now=T0 + timedelta(minutes=2))
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
