"""reminders_replan: the plan in the database, idempotent, cancelling what no longer holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine
from django.db import transaction

from alerts.models import ChildSafety, Concern, Reminder
from alerts.planning import reminders_replan, reminders_replan_all
from alerts.tasks import sweep
from appointments.models import Appointment
from patients.services import sms_consent_record
from tests.alerts.conftest import DENVER, at, make_child, set_dates
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill

NOW = at(2026, 11, 2, 8)
pytestmark = pytest.mark.django_db


def rows(patient):
    return list(
        Reminder.objects.filter(patient=patient)
        .order_by("kind", "target_date", "offset_days", "caregiver_id")
        .values_list("pk", "kind", "target_date", "offset_days", "caregiver_id", "send_after", "status")
    )


@pytest.fixture
def child(clinic):
    patient = make_child(clinic)
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    return patient


def test_plan_has_refill_due_and_alarm_reminders_per_clinic_offsets(child):
    reminders_replan(patient=child, now=NOW)
    planned = {(r[1], r[2], r[3]) for r in rows(child)}
    assert planned == {
        ("refill_due", date(2026, 11, 30), 14),
        ("refill_due", date(2026, 11, 30), 7),
        ("refill_due", date(2026, 11, 30), 3),
        ("refill_due", date(2026, 11, 30), 1),
        ("alarm", date(2026, 12, 7), 3),
        ("alarm", date(2026, 12, 7), 1),
        ("alarm", date(2026, 12, 7), 0),
    }
    sixteenth = Reminder.objects.get(patient=child, kind="refill_due", offset_days=14)
    assert sixteenth.send_after.astimezone(DENVER).replace(tzinfo=None).isoformat() == "2026-11-16T10:00:00"
    assert sixteenth.pump_id == child.pumps.get().pk


def test_replanning_twice_gives_the_same_rows(child):
    reminders_replan(patient=child, now=NOW)
    first = rows(child)
    reminders_replan(patient=child, now=NOW)
    assert rows(child) == first
    assert len(first) == 7


def test_one_row_per_caregiver_who_can_receive_texts_only(clinic):
    patient = make_child(clinic, caregivers=2)
    CaregiverLinkFactory(patient=patient, caregiver__sms_consent=False)
    CaregiverLinkFactory(patient=patient, caregiver__mobile="")
    CaregiverLinkFactory(patient=patient, active=False)
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=NOW)
    assert Reminder.objects.filter(patient=patient).values("caregiver").distinct().count() == 2
    assert Reminder.objects.filter(patient=patient).count() == 14


def test_a_new_refill_cancels_reminders_for_the_old_dates_and_never_touches_sent_ones(child):
    reminders_replan(patient=child, now=NOW)
    sent = Reminder.objects.get(patient=child, kind="refill_due", offset_days=14)
    Reminder.objects.filter(pk=sent.pk).update(status="sent")
    set_dates(child, refill_due=date(2027, 2, 20), alarm=at(2027, 2, 27, 15))
    reminders_replan(patient=child, now=NOW)
    old = Reminder.objects.filter(patient=child, target_date__in=[date(2026, 11, 30), date(2026, 12, 7)])
    assert set(old.exclude(pk=sent.pk).values_list("status", flat=True)) == {"cancelled"}
    assert Reminder.objects.get(pk=sent.pk).status == "sent"
    assert (
        Reminder.objects.filter(patient=child, status="planned", target_date=date(2027, 2, 20)).count() == 4
    )


def test_no_reminder_planned_for_a_day_already_past(child):
    reminders_replan(patient=child, now=at(2026, 11, 28, 8))
    planned = set(Reminder.objects.filter(patient=child).values_list("kind", "offset_days"))
    assert ("refill_due", 14) not in planned and ("refill_due", 7) not in planned
    assert ("refill_due", 1) in planned and ("alarm", 0) in planned


def test_a_rolled_back_change_plans_nothing_and_sends_nothing(clinic, outbox, settings):
    settings.SMS_BACKEND = "locmem"
    patient = PatientFactory(clinic=clinic)
    CaregiverLinkFactory(patient=patient)
    with pytest.raises(RuntimeError), transaction.atomic():
        refill(PumpFactory(patient=patient), visit_at=at(2026, 11, 1, 9))
        reminders_replan(patient=patient, now=NOW)
        assert Reminder.objects.filter(patient=patient).exists()
        raise RuntimeError("the refill form failed after planning")
    assert not Reminder.objects.filter(patient=patient).exists()
    with time_machine.travel(at(2026, 11, 30, 12), tick=False):  # the plan's texts would be due
        sweep()
    assert outbox == []


def test_appointment_is_reminded_the_day_before_and_cancelled_when_the_visit_is(child):
    appt = Appointment.objects.create(patient=child, start=at(2026, 11, 20, 14), kind="refill")
    reminders_replan(patient=child, now=NOW)
    row = Reminder.objects.get(patient=child, kind="appointment")
    assert (row.target_date, row.offset_days, row.appointment_id) == (date(2026, 11, 20), 1, appt.pk)
    assert row.send_after == at(2026, 11, 19, 10)
    Appointment.objects.filter(pk=appt.pk).update(status="cancelled")
    reminders_replan(patient=child, now=NOW)
    assert Reminder.objects.get(pk=row.pk).status == "cancelled"


def test_battery_window_reminds_every_30_days_until_a_replacement_is_booked(clinic):
    patient = make_child(clinic)
    pump = patient.pumps.get()
    pump.implant_date = date(2020, 3, 1)  # window opened 2026-09-01 (implant + 6.5 years)
    pump.save()
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=NOW)
    row = Reminder.objects.get(patient=patient, kind="battery")
    # Told at the next sending time after the window is first seen, then every 30 days from then.
    assert (row.target_date, row.offset_days) == (NOW.date(), 0)
    reminders_replan(patient=patient, now=NOW + timedelta(days=1))
    later = Reminder.objects.get(patient=patient, kind="battery", offset_days=-30)
    assert later.target_date == NOW.date()
    Appointment.objects.create(patient=patient, start=at(2027, 1, 10, 8), kind="battery")
    reminders_replan(patient=patient, now=NOW)
    assert Reminder.objects.get(pk=row.pk).status == "cancelled"


def test_withdrawing_consent_cancels_texts_and_tells_the_nurses_restoring_plans_them_again(child):
    reminders_replan(patient=child, now=NOW)
    caregiver = child.caregivers.get()
    sms_consent_record(caregiver=caregiver, given=False, source="portal", now=NOW)
    assert set(Reminder.objects.filter(patient=child).values_list("status", flat=True)) == {"cancelled"}
    concern = Concern.objects.open().get(patient=child, kind="unreachable")
    assert concern.details["reasons"] == ["no_textable", "opted_out"]
    sms_consent_record(caregiver=caregiver, given=True, source="portal", now=NOW)
    assert set(Reminder.objects.filter(patient=child).values_list("status", flat=True)) == {"planned"}
    assert Reminder.objects.filter(patient=child).count() == 7


def test_a_child_nobody_can_text_is_escalated_once(clinic):
    patient = make_child(clinic, sms_consent=False)
    reminders_replan(patient=patient, now=NOW)
    reminders_replan(patient=patient, now=NOW)
    assert not Reminder.objects.filter(patient=patient).exists()
    assert Concern.objects.filter(patient=patient, kind="unreachable").count() == 1


def test_send_time_stays_10am_local_across_the_end_of_daylight_saving(child):
    # Refill due Nov 5 2026; clocks go back on Nov 1: 7 days before is Oct 29 (MDT, UTC-6),
    # 1 day before is Nov 4 (MST, UTC-7). Both must go out at 10:00 in Salt Lake City.
    set_dates(child, refill_due=date(2026, 11, 5), alarm=at(2026, 11, 12, 15))
    reminders_replan(patient=child, now=at(2026, 10, 20, 8))
    before = Reminder.objects.get(patient=child, kind="refill_due", offset_days=7).send_after
    after = Reminder.objects.get(patient=child, kind="refill_due", offset_days=1).send_after
    assert before.astimezone(DENVER).hour == 10 and after.astimezone(DENVER).hour == 10
    assert (before.hour, after.hour) == (16, 17)  # UTC, stored


def test_send_time_stays_10am_local_across_the_start_of_daylight_saving(child):
    set_dates(child, refill_due=date(2027, 3, 16), alarm=at(2027, 3, 23, 15))
    reminders_replan(patient=child, now=at(2027, 2, 20, 8))
    before = Reminder.objects.get(patient=child, kind="refill_due", offset_days=14).send_after  # Mar 2
    after = Reminder.objects.get(patient=child, kind="refill_due", offset_days=1).send_after  # Mar 15
    assert (before.hour, after.hour) == (17, 16)
    assert {before.astimezone(DENVER).hour, after.astimezone(DENVER).hour} == {10}


def test_replan_all_plans_every_child_in_a_bounded_number_of_queries(clinic, django_assert_max_num_queries):
    children = [make_child(clinic, first_name=f"K{i}") for i in range(25)]
    lonely = [make_child(clinic, first_name=f"L{i}", sms_consent=False) for i in range(3)]
    # The factories assessed them before their caregiver was linked (in registration, no
    # "cannot be reached" yet): as children never assessed, the re-plan assesses them.
    ChildSafety.objects.filter(patient__in=lonely).delete()
    with django_assert_max_num_queries(40):
        assert reminders_replan_all(now=NOW) == 28
    assert Concern.objects.open().filter(kind="unreachable", patient__in=lonely).count() == 3
    first = Reminder.objects.count()
    assert first == sum(Reminder.objects.filter(patient=c).count() for c in children) > 25 * 3
    with django_assert_max_num_queries(24):
        reminders_replan_all(now=NOW)
    assert Reminder.objects.count() == first
