"""Journey 1: a nurse signs in with her second factor, finds the child whose alarm is closest at
the top of the worklist, records a refill with a dose change (the live preview shows the new alarm
date before saving), books the next refill in the same form, and sees the reminders re-planned."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateformat import format as date_format

from alerts.models import Reminder
from appointments.models import Appointment
from pumps.models import RefillVisit
from tests.journeys.conftest import sign_in

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_nurse_records_a_refill_with_a_dose_change_and_books_the_next_one(
    live_server, scene, two_factor_key, desktop, shots
):
    page = desktop
    sign_in(page, live_server.url, scene.nurse.email, shots=shots, totp_key=two_factor_key)
    page.wait_for_url("**/staff/")
    first_row = page.locator("table.worklist tbody tr").first
    assert "Rivera, Mia" in first_row.inner_text()
    shots(page, "worklist")

    first_row.get_by_role("link", name="Rivera, Mia").click()
    page.wait_for_url(f"**/staff/patients/{scene.child.pk}/")
    old_visit = RefillVisit.objects.filter(pump=scene.pump).latest("visit_at")
    old_targets = set(
        Reminder.objects.filter(patient=scene.child, status="planned").values_list("target_date", flat=True)
    )
    assert old_targets
    old_alarm_day = date_format(timezone.localtime(old_visit.alarm_at_worst), "j M")
    assert f"({old_alarm_day})" in page.locator("#h-rem").locator("..").inner_text()
    page.get_by_role("link", name="Record a refill").click()
    page.wait_for_url("**/visit/refill/")
    shots(page, "refill-form")

    page.fill("#id_expected_residual_ml", "4.0")
    page.fill("#id_actual_residual_ml", "4.2")
    page.fill("#id_volume_instilled_ml", "14.8")
    page.fill("#id_volume_after_ml", "19")
    page.fill("#id_daily_dose_mcg", "400")
    page.fill("#id_dose_change_reason", "More tone in the legs at night")
    page.check("#id_dose_change_confirmed")
    preview = page.locator('#visit-preview [data-preview="alarm_at_worst"]')
    page.locator("#visit-preview").get_by_text("+33.3% change").wait_for()
    preview_alarm = preview.inner_text()
    assert preview_alarm
    shots(page, "live-preview")

    next_refill = (timezone.localtime() + timedelta(days=30)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    page.fill("#id_next_appointment_at", next_refill.strftime("%Y-%m-%dT%H:%M"))
    shots(page, "next-refill-booked-in-form")
    page.get_by_role("button", name="Save visit").click()
    page.wait_for_url(f"**/staff/patients/{scene.child.pk}/")
    shots(page, "chart-after-save")

    visit = RefillVisit.objects.filter(pump=scene.pump).latest("visit_at")
    assert visit.pk != old_visit.pk and visit.program.daily_dose_mcg == 400
    assert preview_alarm == date_format(timezone.localtime(visit.alarm_at_worst), "D j M Y, H:i")
    assert page.get_by_text("Refill visit saved").is_visible()
    booked = Appointment.objects.get(patient=scene.child, kind="refill")
    assert timezone.localtime(booked.start) == next_refill
    reminders = page.locator("#h-rem").locator("..")
    # The next refill is booked in time, so the appointment's own reminders speak and no
    # "refill due" text is planned (docs/rules.md: nothing repeats what the family already did).
    booked_day = timezone.localtime(booked.start).date()
    planned = Reminder.objects.filter(patient=scene.child, status="planned")
    assert planned.filter(kind="appointment", target_date=booked_day).exists()
    assert not planned.filter(kind="refill_due").exists()
    assert not planned.filter(target_date__in=old_targets).exists()
    assert reminders.get_by_text(f"({date_format(booked_day, 'j M')})").count() >= 1
    old_rows = reminders.locator("tr", has_text=f"({old_alarm_day})")
    assert old_rows.count() >= 1
    assert all(row.endswith("Cancelled") for row in old_rows.all_inner_texts())
