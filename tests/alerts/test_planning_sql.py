"""The SQL twin of the reminder plan (alerts/planning_sql.py) agrees with the rule's home
(alerts/planning.py: plan_for_patient and _apply) on the same rows.

Hypothesis draws stored states the plan reads: clinics in three time zones with their own
offsets and battery repeat, children with or without a pump (and an explanted older one), the
governing dates anywhere around `now` (alarm passed, due passed, far ahead), a battery notice,
caregivers who can or cannot receive texts, appointments (two on one day, cancelled, past,
battery), and Reminder rows already there in every status (planned, retried, cancelled, claimed,
sent). From the same state, the Python path and the SQL path run in turn (each inside a
savepoint that is rolled back), and the Reminder tables they leave must be equal."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.models import ChildSafety, Reminder
from alerts.planning import plan_for_patient, reminders_replan_all, reminders_replan_many
from alerts.planning_sql import plan_apply, wanted_rows
from appointments.models import Appointment
from tests.factories import (
    AppointmentFactory,
    CaregiverFactory,
    CaregiverLinkFactory,
    ClinicFactory,
    PatientFactory,
    PumpFactory,
)

pytestmark = pytest.mark.django_db

ZONES = ["America/Denver", "America/Phoenix", "America/New_York"]
# From early December 2026 to late March 2027: both sides of the spring clock change.
BASE = date(2026, 12, 1)
offsets = st.lists(st.integers(0, 21), min_size=0, max_size=4, unique=True)
nearby = st.integers(-30, 70)  # days from today
mostly = st.sampled_from([True, True, True, True, False])  # each condition of "can receive texts"


class Rollback(Exception):
    pass


def table() -> list[tuple]:
    return sorted(
        Reminder.objects.values_list(
            "patient_id", "kind", "target_date", "offset_days", "caregiver_id", "status",
            "send_after", "attempts", "pump_id", "appointment_id", "updated_at",
        )
    )  # fmt: skip


def both_ways(ids: list[int], now: datetime) -> tuple[list, list]:
    out = []
    for run in (
        lambda: reminders_replan_many(patient_ids=ids, now=now, refresh=False),
        lambda: plan_apply(patient_ids=ids, now=now),
    ):
        try:
            with transaction.atomic():
                run()
                out.append(table())
                raise Rollback
        except Rollback:
            pass
    return out[0], out[1]


@st.composite
def states(draw):
    day = BASE + timedelta(days=draw(st.integers(0, 115)))
    tz = draw(st.sampled_from(ZONES))
    now = datetime.combine(
        day, time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30, 59]))), ZoneInfo(tz)
    )
    clinic = dict(
        time_zone=tz,
        reminder_refill_due_days=draw(offsets),
        reminder_alarm_days=draw(offsets),
        reminder_appointment_days=draw(offsets),
        reminder_battery_repeat_days=draw(st.integers(0, 40)),
    )
    children = []
    for _ in range(draw(st.integers(1, 3))):
        children.append(
            dict(
                active=draw(st.booleans() | st.just(True)),
                pump=draw(st.sampled_from(["none", "one", "two", "explanted"])),
                due=draw(st.none() | nearby),
                alarm=draw(st.none() | nearby),
                alarm_hour=draw(st.integers(0, 23)),
                notice=draw(st.none() | st.integers(-70, 40)),
                caregivers=draw(st.lists(st.tuples(mostly, mostly, mostly, mostly), max_size=2)),
                appointments=draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(["refill", "battery"]),
                            st.sampled_from(["scheduled", "confirmed", "cancelled"]),
                            st.integers(-3, 40),
                            st.sampled_from([8, 8, 13, 23]),
                        ),
                        max_size=3,
                    )
                ),
                existing=draw(
                    st.lists(
                        st.tuples(
                            st.sampled_from(["refill_due", "alarm", "overdue", "appointment", "battery"]),
                            st.integers(-5, 40),
                            st.integers(-40, 21),
                            st.sampled_from(["planned", "planned", "cancelled", "claimed", "sent"]),
                            st.integers(0, 2),
                            st.integers(-5, 5),
                        ),
                        max_size=4,
                    )
                ),
            )
        )
    return now, clinic, children


def build(now: datetime, clinic_fields: dict, children: list[dict]) -> list[int]:
    tz = ZoneInfo(clinic_fields["time_zone"])
    today = now.astimezone(tz).date()
    clinic = ClinicFactory(**clinic_fields)
    ids = []
    for spec in children:
        patient = PatientFactory(clinic=clinic, active=spec["active"])
        ids.append(patient.pk)
        pump = None
        if spec["pump"] != "none":
            pump = PumpFactory(patient=patient, implant_date=date(2024, 1, 10))
            if spec["pump"] == "two":  # a newer implant: the older one is no longer the child's
                pump = PumpFactory(patient=patient, implant_date=date(2025, 6, 1))
            elif spec["pump"] == "explanted":
                PumpFactory(patient=patient, implant_date=date(2023, 1, 1), explant_date=date(2024, 1, 9))
        caregivers = []
        for consent, mobile, user_active, link_active in spec["caregivers"]:
            caregiver = CaregiverFactory(
                sms_consent=consent, user__is_active=user_active, **({} if mobile else {"mobile": ""})
            )
            CaregiverLinkFactory(caregiver=caregiver, patient=patient, active=link_active)
            caregivers.append(caregiver)
        appointments = []
        for kind, status, days, hour in spec["appointments"]:
            start = datetime.combine(today + timedelta(days=days), time(hour), tz)
            appointments.append(AppointmentFactory(patient=patient, kind=kind, status=status, start=start))
        # Stored last: booking an appointment through the factory assesses the child.
        alarm_day = today + timedelta(days=spec["alarm"]) if spec["alarm"] is not None else None
        ChildSafety.objects.update_or_create(
            patient=patient,
            defaults=dict(
                clinic=clinic,
                pump=pump,
                refill_due=today + timedelta(days=spec["due"]) if spec["due"] is not None else None,
                alarm_day=alarm_day,
                alarm_at=datetime.combine(alarm_day, time(spec["alarm_hour"]), tz) if alarm_day else None,
                battery_notice_from=today + timedelta(days=spec["notice"])
                if spec["notice"] is not None
                else None,
                refreshed_at=now,
            ),
        )
        for kind, target, offset, status, attempts, shift in spec["existing"]:
            if not caregivers:
                break
            target_day = today + timedelta(days=target)
            Reminder.objects.get_or_create(
                patient=patient,
                kind=kind,
                target_date=target_day,
                offset_days=offset,
                caregiver=caregivers[(target + offset) % len(caregivers)],
                defaults=dict(
                    status=status,
                    attempts=attempts,
                    pump=pump,
                    appointment=appointments[0] if appointments and kind == "appointment" else None,
                    send_after=datetime.combine(target_day - timedelta(days=offset), time(10), tz)
                    + timedelta(hours=shift),
                ),
            )
    return ids


def test_the_sql_plan_leaves_the_same_rows_as_the_python_plan():
    seen: set[tuple[str, str]] = set()

    # Derandomized: the same 80 examples at every run, so the check below that they made every
    # kind of text cannot pass at one run and fail at the next (it failed once in four runs with
    # fresh random examples: no new alarm text among them).
    @settings(
        max_examples=80,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(state=states())
    def agree(state):
        now, clinic, children = state
        try:
            with transaction.atomic():
                ids = build(now, clinic, children)
                before = table()
                python, sql = both_ways(ids, now)
                assert sql == python
                seen.update((row[1], row[5]) for row in set(python) - set(before))
                raise Rollback
        except Rollback:
            pass

    agree()
    # Not vacuous: the examples made every kind of text, and cancelled and moved rows.
    kinds = {kind for kind, _ in seen}
    assert kinds == {"refill_due", "alarm", "overdue", "appointment", "battery"}, seen
    assert {"planned", "cancelled"} <= {status for _, status in seen}, seen


PLAIN = dict(
    time_zone="America/Denver",
    reminder_refill_due_days=[14, 7, 1],
    reminder_alarm_days=[3, 0],
    reminder_appointment_days=[1],
    reminder_battery_repeat_days=30,
)


def _child(**fields) -> dict:
    spec = dict(active=True, pump="one", due=5, alarm=12, alarm_hour=15, notice=None,
                caregivers=[(True, True, True, True), (True, True, True, True)],
                appointments=[("refill", "scheduled", 4, 8)], existing=[])  # fmt: skip
    return {**spec, **fields}


@pytest.mark.parametrize(
    "spec, created",
    [
        # A refill booked in time (day 4: before the refill-due day 5 and the alarm): no "refill
        # due" text, the appointment's own speaks. Alarm: 3 and 0; appointment.
        (_child(), 2 * (2 + 1)),
        (_child(notice=-31), 2 * (2 + 1 + 1)),  # and the battery's second repeat
        (_child(notice=30), 2 * (2 + 1 + 1)),  # the window opens in exactly one repeat
        (_child(notice=31), 2 * (2 + 1)),  # ... and one day later: not yet
        # Nothing booked for the refill: refill 1 (14 and 7 passed), alarm 3 and 0, appointment.
        (_child(notice=0, appointments=[("battery", "confirmed", 9, 13)]), 2 * (1 + 2 + 1)),
        # Booked after the refill-due date (day 7 > day 5): the refill-due text still goes.
        (_child(appointments=[("refill", "scheduled", 7, 8)]), 2 * (1 + 2 + 1)),
        # Booked on the refill-due day itself, in time.
        (_child(appointments=[("refill", "scheduled", 5, 8)]), 2 * (2 + 1)),
        # Booked after the alarm instant (day 12 at 16:00, the alarm at 15:00): not in time.
        # Refill due day 12: 7 and 1 before it still to come.
        (_child(appointments=[("refill", "scheduled", 12, 16)], due=12), 2 * (2 + 2 + 1)),
        # A cancelled booking is no booking.
        (_child(appointments=[("refill", "cancelled", 4, 8)]), 2 * (1 + 2)),
        (_child(due=-3, alarm=-1, alarm_hour=0), 2 * (1 + 1)),  # alarm passed: overdue, appointment
        (_child(caregivers=[(True, False, True, True), (False, True, True, True)]), 0),
    ],
)
def test_the_sql_plan_matches_plan_for_patient_row_by_row(spec, created):
    """Plain cases and the boundaries, read without writing: the wanted rows against the pure
    function."""
    from alerts.planning import _load_children, _today

    now = datetime(2027, 3, 10, 9, tzinfo=ZoneInfo("America/Denver"))
    ids = build(now, PLAIN, [spec])
    [child] = _load_children(ids, now)
    create, holding = plan_for_patient(child, today=_today(child.tz, now))
    sql = wanted_rows(patient_ids=ids, now=now)
    assert {row[:5] for row in sql} == holding
    assert sorted(row[:8] for row in sql if row[8]) == sorted(tuple(w) for w in create)
    assert len(create) == created


def test_replan_all_plans_in_sql_and_assesses_only_a_child_never_assessed(
    clinic, django_assert_max_num_queries
):
    from tests.alerts.conftest import at, make_child

    now = at(2026, 11, 2, 8)
    children = [make_child(clinic, first_name=f"K{i}") for i in range(6)]
    reminders_replan_all(now=now)  # the first run assesses them (no ChildSafety yet)
    assert ChildSafety.objects.filter(patient__in=children).count() == 6
    first = table()
    assert len(first) > 6 * 3
    with django_assert_max_num_queries(16):  # no Python per child: a fixed number of statements
        assert reminders_replan_all(now=now) == 6
    assert table() == first
    # An appointment booked behind the plan's back is planned by the next daily run.
    Appointment.objects.create(
        patient=children[0], kind="refill", start=at(2026, 11, 20, 9), location="Clinic"
    )
    reminders_replan_all(now=now)
    assert Reminder.objects.filter(patient=children[0], kind="appointment").exists()
