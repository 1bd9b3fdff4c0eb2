"""One row per concern kind, each built through the services as a nurse would enter it: its
worklist tier and words, whether it is an escalation, the family card's headline in English and
Spanish, and the family's text."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from alerts.escalations import escalations_check
from alerts.models import Concern, Reminder
from alerts.sending import message_for
from appointments.services import appointment_book, appointment_no_show
from patients.family.cards import child_cards
from patients.models import Patient
from patients.services import sms_consent_record
from pumps.services import refill_record
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory
from tests.helpers import login_as

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")
NOW = datetime(2026, 6, 10, 9, 0, tzinfo=DENVER)
SIMPLE = {"concentration_mcg_ml": Decimal(1000), "mode": "simple", "daily_dose_mcg": Decimal(300)}


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def fill(pump, nurse, *, days_ago: float, volume=Decimal(19), **details):
    """A refill entered through the service. 19 mL at 300 mcg/day: the alarm comes 56.7 days later."""
    return refill_record(pump=pump, by=nurse, visit_at=ago(days_ago), volume_after_ml=volume, program=SIMPLE,
                         bridge_bolus_ml=Decimal(0), **details)  # fmt: skip


def book(child, nurse, days: float):
    return appointment_book(patient=child, by=nurse, kind="refill", start=NOW + timedelta(days=days),
                            after_alarm_reason="Only day the family can come", outside_hours_confirmed=True)  # fmt: skip  # noqa: E501


def build(kind, child, pump, nurse):
    if kind == "alarm_passed":
        fill(pump, nurse, days_ago=60)
    elif kind == "alarm_near":
        fill(pump, nurse, days_ago=55)
    elif kind == "booked_after_alarm":
        fill(pump, nurse, days_ago=40)
        book(child, nurse, 20)
    elif kind == "booked_after_due":
        fill(pump, nurse, days_ago=40)
        book(child, nurse, 12)
    elif kind == "due_passed":
        fill(pump, nurse, days_ago=52)
    elif kind == "due_soon":
        fill(pump, nurse, days_ago=40)
    elif kind == "residual_high":  # 16 mL programmed since the fill before, 2 mL delivered
        fill(pump, nurse, days_ago=58)
        fill(pump, nurse, days_ago=5, expected_residual_ml=Decimal("3.0"), actual_residual_ml=Decimal("17.0"))
    elif kind == "residual_low":  # 13 mL programmed, 16 mL delivered: 123 %
        fill(pump, nurse, days_ago=48)
        fill(pump, nurse, days_ago=5, expected_residual_ml=Decimal("6.0"), actual_residual_ml=Decimal("3.0"))
    elif kind == "observed_earlier":  # 12 mL programmed, 14 mL delivered: 117 %, alarm 8 days earlier
        fill(pump, nurse, days_ago=45)
        fill(pump, nurse, days_ago=5, expected_residual_ml=Decimal("7.0"), actual_residual_ml=Decimal("5.0"))
    elif kind == "printed_differs":
        fill(pump, nurse, days_ago=5, printed_alarm_date=date(2026, 7, 10))
    elif kind == "eri":
        fill(pump, nurse, days_ago=5, eri_reported_date=date(2026, 6, 9))
    elif kind == "battery":
        pump.implant_date = date(2019, 9, 1)
        pump.save()
        fill(pump, nurse, days_ago=5)
    elif kind == "no_show":
        fill(pump, nurse, days_ago=50)
        with time_machine.travel(ago(2), tick=False):
            missed = book(child, nurse, -1.9)
        appointment_no_show(appointment=missed, by=nurse)
    elif kind == "unreachable":
        fill(pump, nurse, days_ago=5)
        sms_consent_record(caregiver=child.caregivers.get(), given=False, source="sms", now=NOW)


# kind, tier, nurse's words (a part), escalation?, family headline (en), (es) or None
ROWS = [
    ("alarm_passed", "critical", "passed, no refill recorded", True, "Call the clinic today", "Llame a la clínica hoy"),  # noqa: E501
    ("alarm_near", "critical", "no refill booked before it", True, "Call the clinic today", "Llame a la clínica hoy"),  # noqa: E501
    ("booked_after_alarm", "critical", "after the alarm date", True, "Call the clinic today", "Llame a la clínica hoy"),  # noqa: E501
    ("booked_after_due", "urgent", "after the refill-due date", True, "Booked, but after the refill-due date",
     "Tiene cita, pero después de la fecha límite"),
    ("due_passed", "urgent", "has passed", True, "Book the refill now", "Haga la cita de recarga ahora"),
    ("due_soon", "attention", "nothing booked yet", False, "Book the refill now", "Haga la cita de recarga ahora"),  # noqa: E501
    ("residual_high", "critical", "possible pump stall", True, None, None),
    ("residual_low", "urgent", "over-delivery outside tolerance", True, None, None),
    ("observed_earlier", "urgent", "Delivered 117 % of programmed over the last fill: reservoir at the alarm "
     "volume about 9 days before", True, None, None),
    ("printed_differs", "urgent", "differ by", True, None, None),
    ("eri", "critical", "ERI reported 9 Jun 2026", True, "Call the clinic about the pump battery",
     "Llame a la clínica por la batería de la bomba"),
    ("battery", "critical", "Battery replacement window open", True, "Time to plan a new pump",
     "Es hora de planear una bomba nueva"),
    ("no_show", "urgent", "was missed (no-show)", True, "Book a new refill visit", "Pida una nueva cita de recarga"),  # noqa: E501
    ("unreachable", "urgent", "a caregiver stopped texts", True, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "tier", "words", "escalated", "en", "es"), ROWS, ids=[r[0] for r in ROWS])
def test_each_concern_kind_from_the_services_to_every_surface(
    client, clinic, nurse, kind, tier, words, escalated, en, es
):
    with time_machine.travel(NOW, tick=False):
        child = PatientFactory(clinic=clinic, first_name="Rosa")
        pump = PumpFactory(patient=child)
        CaregiverLinkFactory(patient=child)
        build(kind, child, pump, nurse)
        escalations_check(now=NOW)
        concern = Concern.objects.open().get(patient=child, kind=kind)
        assert (concern.tier, concern.needs_nurse) == (tier, escalated)
        assert words in concern.nurse_words
        html = login_as(client, nurse).get(reverse("staff:worklist")).content.decode()
        assert concern.nurse_words in html
        assert (
            concern.nurse_words in client.get(reverse("alerts:escalations")).content.decode()
        ) is escalated
        for language, headline in (("en", en), ("es", es)):
            with translation.override(language):
                [card] = child_cards(Patient.objects.filter(pk=child.pk), now=NOW)
                if headline is None:
                    assert card.concern is None or card.concern.kind != kind
                else:
                    assert card.reason == kind and card.headline.startswith(headline)


def test_after_the_alarm_date_the_family_gets_an_urgent_text_every_day_at_any_hour(clinic, nurse):
    with time_machine.travel(NOW, tick=False):
        child = PatientFactory(clinic=clinic, first_name="Rosa")
        CaregiverLinkFactory(patient=child)
        fill(PumpFactory(patient=child), nurse, days_ago=60)
    night = datetime(2026, 6, 11, 3, 0, tzinfo=DENVER)
    escalations_check(now=night)
    row = Reminder.objects.get(patient=child, kind="overdue", target_date=date(2026, 6, 11), status="planned")
    text = message_for(row)
    # It opens with the clinic's short name, like every text, and names no therapy.
    assert text.startswith(f"{clinic.sms_sender_name}: URGENT.") and clinic.phone_after_hours in text
    assert "Rosa" not in text and "ITB" not in text
    from alerts.sending import quiet_until

    assert quiet_until(row, night) is None
    escalations_check(now=night + timedelta(days=1))
    assert Reminder.objects.filter(patient=child, kind="overdue", status="planned").get().target_date == date(
        2026, 6, 12
    )


def test_eri_is_told_at_the_next_sending_time_not_the_next_30_day_slot(clinic, nurse):
    with time_machine.travel(NOW, tick=False):
        child = PatientFactory(clinic=clinic, first_name="Rosa")
        CaregiverLinkFactory(patient=child)
        fill(PumpFactory(patient=child), nurse, days_ago=5, eri_reported_date=date(2026, 5, 20))
    row = Reminder.objects.get(patient=child, kind="battery", status="planned")
    assert row.send_after.astimezone(DENVER).date() == NOW.date()


def test_a_refill_completes_the_appointment_it_fulfils_and_cancels_its_texts(clinic, nurse):
    with time_machine.travel(ago(10), tick=False):
        child = PatientFactory(clinic=clinic, first_name="Rosa")
        CaregiverLinkFactory(patient=child)
        pump = PumpFactory(patient=child)
        refill_record(pump=pump, by=nurse, visit_at=ago(50), volume_after_ml=Decimal(19), program=SIMPLE)
        appointment = book(child, nurse, 0.1)  # booked for the refill day
        assert Reminder.objects.filter(appointment=appointment, status="planned").exists()
    with time_machine.travel(NOW, tick=False):
        fill(
            pump,
            nurse,
            days_ago=0,
            next_appointment_at=NOW + timedelta(days=45),
            next_appointment_hours_confirmed=True,
        )
    appointment.refresh_from_db()
    assert appointment.status == "completed"
    assert not Reminder.objects.filter(appointment=appointment, status="planned").exists()
