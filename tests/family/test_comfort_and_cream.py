"""From the handout (issue 24, point 8): the numbing cream goes on an hour before a refill visit,
and the family tells the nurses what comforts their child at refills."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from alerts.concerns import concerns_refresh
from alerts.models import Reminder
from alerts.planning import reminders_replan
from alerts.sending import message_for
from alerts.words import reminder_text
from appointments.models import Appointment
from patients.models import Patient
from tests.alerts.test_words import FORBIDDEN
from tests.helpers import login_as

DENVER = ZoneInfo("America/Denver")


def _words(text: str) -> set[str]:
    return set(text.lower().replace(",", " ").replace(".", " ").replace(":", " ").split())


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "Put the numbing cream on at 1:30 PM, an hour before."),
        ("es", "Ponga la crema para adormecer la piel a las 13:30, una hora antes."),
    ],
)
def test_a_refill_visit_text_says_when_to_put_the_cream_on_and_names_no_drug(language, words):
    text = reminder_text(
        kind="appointment",
        language=language,
        child="S.",
        target=date(2026, 12, 7),
        phone="1",
        local_start=datetime(2026, 12, 7, 14, 30),
        local_cream=datetime(2026, 12, 7, 13, 30),
    )
    assert words in text
    assert not _words(text) & set(FORBIDDEN)


def _booked(child, start: datetime, kind=Appointment.Kind.REFILL) -> Reminder:
    Appointment.objects.create(patient=child, start=start, kind=kind, location="Rehabilitation Clinic")
    reminders_replan(patient=child, now=datetime(2027, 3, 1, 12, tzinfo=DENVER))
    return Reminder.objects.select_related("patient__clinic", "caregiver", "appointment").get(
        patient=child, kind=Reminder.Kind.APPOINTMENT
    )


def test_the_cream_time_is_an_hour_before_in_the_clinics_time_across_a_clock_change(child, parent):
    # Sunday 14 March 2027 the clocks go forward; a visit on Monday 15 March at 09:00 MDT.
    reminder = _booked(child, datetime(2027, 3, 15, 9, 0, tzinfo=DENVER))
    text = message_for(reminder)
    assert "Mon Mar 15 at 9:00 AM" in text and "numbing cream on at 8:00 AM, an hour before" in text


def test_a_visit_that_is_not_a_refill_says_nothing_of_cream(child, parent):
    reminder = _booked(child, datetime(2027, 3, 15, 9, 0, tzinfo=DENVER), kind=Appointment.Kind.YEARLY)
    assert "cream" not in message_for(reminder)


@pytest.mark.parametrize(
    ("now", "shown"),
    [
        (datetime(2027, 3, 14, 20, 0, tzinfo=DENVER), True),  # the evening before
        (datetime(2027, 3, 15, 7, 0, tzinfo=DENVER), True),  # the morning of
        (datetime(2027, 3, 12, 9, 0, tzinfo=DENVER), False),  # three days before: not yet
    ],
)
def test_the_home_card_says_when_to_put_the_cream_on_the_day_before_and_on_the_day(
    client, child, parent, now, shown
):
    Appointment.objects.create(patient=child, start=datetime(2027, 3, 15, 9, 0, tzinfo=DENVER), kind="refill")
    with time_machine.travel(now, tick=False):
        concerns_refresh(patient=child, now=now)  # as the booking service does in its write
        login_as(client, parent)
        html = client.get(reverse("family:home")).content.decode()
    assert ("Put the numbing cream on at 8:00 AM, an hour before." in html) is shown


def test_the_spanish_card_says_it_in_spanish(client, child, parent):
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()
    Appointment.objects.create(patient=child, start=datetime(2027, 3, 15, 9, 0, tzinfo=DENVER), kind="refill")
    with time_machine.travel(datetime(2027, 3, 15, 7, 0, tzinfo=DENVER), tick=False):
        concerns_refresh(patient=child, now=datetime(2027, 3, 15, 7, 0, tzinfo=DENVER))  # as booking does
        login_as(client, parent)
        html = client.get(reverse("family:home")).content.decode()
    assert "Ponga la crema para adormecer la piel a las 08:00, una hora antes." in html


NOTE = "Music from her tablet, and holding Mr Bear"


def test_the_family_writes_what_comforts_the_child_and_the_nurse_reads_it(
    client, child, parent, nurse, django_user_model
):
    login_as(client, parent)
    url = reverse("family:child", args=[child.pk])
    assert "What comforts your child at refills" in client.get(url).content.decode()
    response = client.post(url, {"text_name": child.name_in_texts, "comfort_note": f"  {NOTE} "})
    assert response.status_code == 302
    assert Patient.objects.get(pk=child.pk).comfort_note == NOTE
    Appointment.objects.create(patient=child, start=datetime(2027, 3, 15, 9, 0, tzinfo=DENVER), kind="refill")
    login_as(client, nurse)
    day = client.get(reverse("staff:day") + "?date=2027-03-15").content.decode()
    assert f"Comforts Sofia: {NOTE}" in day
    form = client.get(reverse("staff:visit", args=[child.pk, "refill"])).content.decode()
    assert "What comforts Sofia" in form and NOTE in form


def test_a_refused_name_saves_no_comfort_note_and_keeps_both_typed(client, child, parent):
    login_as(client, parent)
    url = reverse("family:child", args=[child.pk])
    response = client.post(url, {"text_name": "Sofia", "comfort_note": NOTE})
    html = response.content.decode()
    assert response.status_code == 400 and 'value="Sofia"' in html and NOTE in html
    assert "Not saved yet" in html
    assert Patient.objects.get(pk=child.pk).comfort_note == ""


def test_a_comfort_note_over_300_letters_is_refused_in_plain_words_in_spanish(client, child, parent):
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()
    login_as(client, parent)
    response = client.post(
        reverse("family:child", args=[child.pk]), {"text_name": "S.", "comfort_note": "x" * 301}
    )
    assert response.status_code == 400 and "Use 300 letras o menos." in response.content.decode()
