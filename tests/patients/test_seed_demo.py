import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from patients.models import Caregiver, Patient, StaffProfile
from pumps.models import Pump, RefillVisit

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_varied_clinic_once(capsys):
    call_command("seed_demo", "--no-summaries")
    counts = (Patient.objects.count(), StaffProfile.objects.count(), Caregiver.objects.count())
    call_command("seed_demo", "--no-summaries")
    assert (
        (Patient.objects.count(), StaffProfile.objects.count(), Caregiver.objects.count())
        == counts
        == (20, 2, 6)
    )
    out = capsys.readouterr().out
    assert "nurse.rosa@demo.itbportal.test" in out and "already present" in out


def test_seed_demo_covers_the_states_a_nurse_must_see():
    call_command("seed_demo", "--no-summaries")
    now = timezone.now()
    pumps = list(Pump.objects.active().with_current().with_alarm())
    alarms = [p.alarm_at_worst for p in pumps]
    assert any(a < now for a in alarms), "an alarm passed with no refill"
    assert any(now < a < now + timezone.timedelta(days=3) for a in alarms), "an alarm within 3 days"
    assert any(p.current_program.mode == "flex" for p in pumps)
    assert any(p.current_program.has_patient_bolus for p in pumps)
    assert any(p.battery_window_open(timezone.localdate()) for p in pumps)
    assert any(v.residual_discrepancy for v in RefillVisit.objects.all())
    assert Caregiver.objects.annotate(n=Count("links")).filter(n__gte=2).exists(), (
        "a family with two children"
    )
    assert Patient.objects.annotate(n=Count("caregiver_links")).filter(n=2).exists(), (
        "a child with two caregivers"
    )
    assert RefillVisit.objects.filter(visit_at__gt=now).count() == 0


def test_demo_nurses_can_pass_the_second_step_with_the_printed_key():
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from patients.demo import seed as demo

    call_command("seed_demo", "--no-summaries")
    for device in TOTPDevice.objects.filter(user__staff_profile__isnull=False):
        assert device.confirmed and device.verify_token(demo.current_code())
    assert TOTPDevice.objects.filter(confirmed=True).count() == 2


def test_the_demo_has_a_year_of_history_for_the_safety_figures():
    from patients.models import Clinic
    from patients.staff.figures.data import clinic_figures

    call_command("seed_demo")
    months = clinic_figures(clinic=Clinic.objects.order_by("pk").first(), now=timezone.now())
    assert len(months) == 12
    assert sum(m.refills for m in months) >= 60
    assert sum(1 for m in months[:-1] if m.refills) >= 10, "refills in (almost) every past month"
    assert sum(m.texts_sent for m in months) > 0 and sum(m.texts_undelivered for m in months) > 0
    assert any(m.ack_median_hours is not None for m in months)
    assert sum(m.ladder["text"] for m in months) > 0
    margins = [v for m in months for v in m.margins]
    assert min(margins) < 0 < max(margins), "a refill after its alarm date, and refills in time"


def test_the_demo_call_list_shows_a_family_the_ladder_could_not_reach(client):
    """Issue 24, item 13: a newcomer sees the call list at work: a child whose family was
    texted and called without an answer is on today's list; the live ladder leaves it there."""
    from django.urls import reverse

    from alerts.ladder import ladders_advance
    from alerts.models import LadderStep
    from patients.models import User
    from tests.helpers import login_as

    call_command("seed_demo", "--no-summaries")
    listed = LadderStep.objects.get(rung="call_list")
    clinic = listed.concern.patient.clinic
    assert listed.list_day == timezone.localdate(timezone.now(), clinic.tzinfo)
    rungs = list(listed.concern.ladder_steps.order_by("at", "pk").values_list("rung", flat=True))
    assert rungs[0] == "text" and "call" in rungs and rungs[-1] == "call_list"
    ladders_advance(now=timezone.now())
    assert LadderStep.objects.filter(rung="call_list").count() == 1  # nothing more today
    nurse = User.objects.get(email="nurse.rosa@demo.itbportal.test")
    html = login_as(client, nurse).get(reverse("staff:call_list")).content.decode()
    assert listed.concern.patient.last_name in html
