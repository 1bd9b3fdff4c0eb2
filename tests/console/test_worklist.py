"""The worklist: ordering, flags on the demo data, filters, search, and a constant query count."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from alerts.models import Escalation, Reminder
from patients.models import Patient, User
from patients.worklist import battery_implant_cutoff, worklist
from pumps.models import Program, Pump, RefillVisit
from pumps.services import visit_forecast
from tests.factories import PatientFactory, PumpFactory, refill
from tests.helpers import login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client):
    call_command("seed_demo", "--no-summaries")
    nurse = User.objects.get(email="nurse.rosa@demo.itbportal.test")
    return login_as(client, nurse), nurse


def _flags_by_first_name(response) -> dict[str, list[str]]:
    return {row["patient"].first_name: [k for k, _ in row["flags"]] for row in response.context["rows"]}


def test_demo_worklist_is_ordered_by_worst_case_alarm(demo):
    client, _ = demo
    response = client.get(reverse("staff:worklist"))
    alarms = [row["pump"].alarm_at_worst for row in response.context["rows"]]
    assert len(alarms) == 20
    assert alarms == sorted(alarms)
    assert response.context["rows"][0]["patient"].first_name == "Ava"  # alarm passed
    assert response.context["rows"][1]["patient"].first_name == "Liam"  # alarm in 2 days


def test_demo_worklist_shows_each_danger_flag_on_the_right_child(demo):
    client, _ = demo
    flags = _flags_by_first_name(client.get(reverse("staff:worklist")))
    assert {"alarm_passed", "no_refill_booked"} <= set(flags["Ava"])
    assert "no_refill_booked" in flags["Liam"]
    assert "appt_after_alarm" in flags["Noah"]
    assert "residual" in flags["Oliver"]
    assert "dose_change" in flags["Isabella"]
    assert "battery" in flags["Mia"]
    assert {"battery", "eri"} <= set(flags["Elena"])
    assert flags["Sofia"] == []
    assert flags["Samuel"] == []


def test_flags_are_shown_in_words_not_colour_alone(demo):
    client, _ = demo
    html = client.get(reverse("staff:worklist")).content.decode()
    for words in ("Alarm passed, no refill", "Appointment after the alarm date", "Residual discrepancy"):
        assert words in html


def test_filter_by_flag_keeps_only_flagged_children(demo):
    client, _ = demo
    response = client.get(reverse("staff:worklist"), {"flag": "residual"})
    assert [r["patient"].first_name for r in response.context["rows"]] == ["Oliver"]
    response = client.get(reverse("staff:worklist"), {"flag": "no_refill_booked"})
    names = {r["patient"].first_name for r in response.context["rows"]}
    assert {"Ava", "Liam"} <= names and "Sofia" not in names


def test_search_finds_by_name_or_record_number(demo):
    client, _ = demo
    response = client.get(reverse("staff:worklist"), {"q": "garcía"})
    assert {r["patient"].first_name for r in response.context["rows"]} == {"Sofia", "Mateo"}
    mrn = Patient.objects.get(first_name="Oliver").mrn
    response = client.get(reverse("staff:worklist"), {"q": mrn})
    assert [r["patient"].first_name for r in response.context["rows"]] == ["Oliver"]


def test_reminder_not_delivered_is_flagged_from_a_failed_reminder_or_an_open_escalation(
    nurse_client, child, other_child, parent
):
    today = timezone.localdate()
    Reminder.objects.create(
        patient=child,
        caregiver=parent.caregiver,
        kind="refill_due",
        target_date=today + timedelta(days=3),
        offset_days=7,
        send_after=timezone.now(),
        status=Reminder.Status.FAILED,
    )
    Escalation.objects.create(
        clinic=other_child.clinic,
        patient=other_child,
        kind=Escalation.Kind.OPTED_OUT,
        dedupe_key="x",
        message="m",
        created_at=timezone.now(),
    )
    response = nurse_client.get(reverse("staff:worklist"), {"flag": "reminder_failed"})
    assert {r["patient"].first_name for r in response.context["rows"]} == {"Sofia", "Liam"}
    Escalation.objects.update(resolved_at=timezone.now())
    response = nurse_client.get(reverse("staff:worklist"), {"flag": "reminder_failed"})
    assert {r["patient"].first_name for r in response.context["rows"]} == {"Sofia"}


def test_a_pump_with_no_fill_recorded_comes_first(nurse_client, child, clinic):
    PumpFactory(patient=PatientFactory(clinic=clinic, first_name="Nofill"))
    response = nurse_client.get(reverse("staff:worklist"))
    assert response.context["rows"][0]["patient"].first_name == "Nofill"
    assert "No fill recorded" in response.content.decode()


def test_worklist_shows_only_the_nurses_clinic(nurse_client, child, child_in_other_clinic):
    response = nurse_client.get(reverse("staff:worklist"))
    assert [r["patient"].first_name for r in response.context["rows"]] == ["Sofia"]


def test_battery_cutoff_matches_the_half_year_before_seven_years():
    today = date(2026, 11, 23)
    cutoff = battery_implant_cutoff(today)
    pump = Pump(implant_date=cutoff, model="sm2_20")
    assert pump.battery_window_open(today)
    assert not Pump(implant_date=cutoff + timedelta(days=1), model="sm2_20").battery_window_open(today)


def _bulk_children(clinic, n: int) -> None:
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            first_name=f"Kid{i}",
            last_name="Bulk",
            date_of_birth=date(2015, 1, 1),
            mrn=f"B{i:05d}",
        )
        for i in range(n)
    )
    pumps = Pump.objects.bulk_create(
        Pump(patient=p, serial_number=f"S{i}", implant_date=date(2024, 1, 1)) for i, p in enumerate(patients)
    )
    now = timezone.now()
    programs = Program.objects.bulk_create(
        Program(
            pump=p,
            effective_from=now - timedelta(days=5),
            concentration_mcg_ml=Decimal(1000),
            daily_dose_mcg=Decimal(300),
        )
        for p in pumps
    )
    visits = []
    for i, (pump, program) in enumerate(zip(pumps, programs, strict=True)):
        pump.patient = patients[i]
        pump.patient.clinic = clinic
        visit_at = now - timedelta(days=i % 60)
        fields = visit_forecast(pump=pump, program=program, visit_at=visit_at, volume_after_ml=Decimal(19))
        visits.append(
            RefillVisit(pump=pump, program=program, visit_at=visit_at, volume_after_ml=Decimal(19), **fields)
        )
    RefillVisit.objects.bulk_create(visits)


def test_worklist_query_count_is_constant_with_2000_children(
    nurse_client, clinic, django_assert_max_num_queries
):
    _bulk_children(clinic, 2000)
    # 11: session, user, staff profile, OTP device, count, the page's ids, its rows, 2 prefetches, ...
    with django_assert_max_num_queries(11):
        response = nurse_client.get(reverse("staff:worklist"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 2000
    with django_assert_max_num_queries(11):
        response = nurse_client.get(reverse("staff:worklist"), {"flag": "alarm_passed", "page": "2"})
    assert response.status_code == 200


def test_worklist_annotations_agree_with_the_model_properties(child, nurse):
    pump = child.pumps.get()
    now = timezone.now()
    row = worklist(user=nurse, now=now, today=timezone.localdate()).get(pk=pump.pk)
    assert row.alarm_at_worst == pump.latest_visit.alarm_at_worst
    assert row.flag_residual is pump.latest_visit.residual_discrepancy is False


def test_residual_flag_uses_the_latest_visit_only(child, nurse):
    pump = child.pumps.get()
    refill(
        pump,
        visit_at=timezone.now() - timedelta(days=3),
        expected_residual_ml=Decimal(5),
        actual_residual_ml=Decimal("7.5"),
    )
    row = worklist(user=nurse, now=timezone.now(), today=timezone.localdate()).get(pk=pump.pk)
    assert row.flag_residual
    refill(
        pump,
        visit_at=timezone.now() - timedelta(days=1),
        expected_residual_ml=Decimal(5),
        actual_residual_ml=Decimal("5.2"),
    )
    row = worklist(user=nurse, now=timezone.now(), today=timezone.localdate()).get(pk=pump.pk)
    assert not row.flag_residual


def test_worklist_rows_come_only_from_children_the_user_may_see(child, parent, nurse):
    now, today = timezone.now(), timezone.localdate()
    assert worklist(user=parent, now=now, today=today).count() == 1  # the rule, not the page guard
    assert worklist(user=nurse, now=now, today=today).count() == 1
