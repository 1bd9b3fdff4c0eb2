"""The family's call button dials the clinic while it is open and the hospital operator when
it is closed (the clinic's calendar), on the home card and the emergency page, in both languages."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from patients.models import ClosedDate
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill
from tests.helpers import login_as

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
BUSINESS, AFTER_HOURS = "801.213.3599", "801.662.1000"
INSTANTS = [
    # now (Denver), clinic open?
    (datetime(2026, 11, 16, 10, 0), True),  # Monday morning
    (datetime(2026, 11, 16, 16, 59), True),
    (datetime(2026, 11, 16, 17, 0), False),  # closing time
    (datetime(2026, 11, 17, 3, 0), False),  # the night hour CI runs under
    (datetime(2026, 11, 21, 11, 0), False),  # Saturday
    (datetime(2026, 11, 26, 10, 0), False),  # Thanksgiving, a Thursday
]


@pytest.fixture(autouse=True)
def english_after():
    """A Spanish page leaves Spanish active in this thread; later tests expect the default."""
    yield
    translation.deactivate()


@pytest.fixture
def family_client(client, clinic):
    clinic.open_weekdays = [0, 1, 2, 3, 4]
    clinic.opens_at, clinic.closes_at = time(8), time(17)
    clinic.save()
    ClosedDate.objects.create(clinic=clinic, day=date(2026, 11, 26), name="Thanksgiving Day")
    patient = PatientFactory(clinic=clinic, first_name="Sofia")
    # Refilled 7 Oct: the alarm (about 3 Dec) is close enough for the card to show the button.
    refill(PumpFactory(patient=patient), visit_at=datetime(2026, 10, 7, 12, tzinfo=DENVER))
    parent = CaregiverLinkFactory(patient=patient).caregiver.user
    return login_as(client, parent)


def first_call_href(html: str) -> str:
    start = html.index('btn-call me-1 mb-1" href="tel:') + len('btn-call me-1 mb-1" href="tel:')
    return html[start : html.index('"', start)]


@pytest.mark.parametrize(("now", "is_open"), INSTANTS)
def test_the_home_card_calls_the_clinic_when_open_and_the_operator_when_closed(family_client, now, is_open):
    with time_machine.travel(now.replace(tzinfo=DENVER), tick=False):
        html = family_client.get(reverse("family:home")).content.decode()

    assert first_call_href(html) == (BUSINESS if is_open else AFTER_HOURS)
    if is_open:
        assert f"Call the clinic: {BUSINESS}" in html
    else:
        assert f"Call the hospital operator: {AFTER_HOURS}" in html
        assert "The clinic is closed now" in html


@pytest.mark.parametrize(("now", "is_open"), INSTANTS)
def test_the_emergency_page_puts_the_number_to_call_now_first(family_client, now, is_open):
    with time_machine.travel(now.replace(tzinfo=DENVER), tick=False):
        html = family_client.get(reverse("emergency")).content.decode()

    assert first_call_href(html) == (BUSINESS if is_open else AFTER_HOURS)
    # The handout's three numbers stay listed below it.
    assert all(f"tel:{n}" in html for n in (BUSINESS, AFTER_HOURS, "801.213.7694"))


def test_the_closed_clinic_button_is_in_spanish_for_a_spanish_parent(family_client):
    parent = family_client.get(reverse("family:home")).wsgi_request.user
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()

    with time_machine.travel(datetime(2026, 11, 26, 10, tzinfo=DENVER), tick=False):
        html = family_client.get(reverse("family:home")).content.decode()

    assert f"Llamar a la operadora del hospital: {AFTER_HOURS}" in html
    assert "La clínica está cerrada ahora." in html


def test_a_day_after_the_holiday_the_clinic_number_is_back(family_client):
    friday = datetime(2026, 11, 26, 10, tzinfo=DENVER) + timedelta(days=1)

    with time_machine.travel(friday, tick=False):
        html = family_client.get(reverse("family:home")).content.decode()

    assert first_call_href(html) == BUSINESS


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_book_now_card_at_night_gives_the_clinic_number_never_the_operator(client, clinic, language):
    """Issue 24, item 3: booking a refill can wait for the clinic to open; the operator (who
    pages the doctor on call) is for a card that says "call today"."""
    clinic.open_weekdays = [0, 1, 2, 3, 4]
    clinic.opens_at, clinic.closes_at = time(8), time(17)
    clinic.save()
    night = datetime(2026, 11, 17, 3, 0, tzinfo=DENVER)
    with time_machine.travel(night, tick=False):
        patient = PatientFactory(clinic=clinic, first_name="Zoe")
        # 19 mL at 300 mcg/day: the alarm ~57 days after the refill; 40 days on, book now.
        refill(PumpFactory(patient=patient), visit_at=night - timedelta(days=40))
        caregiver = CaregiverLinkFactory(patient=patient).caregiver
        caregiver.preferred_language = language
        caregiver.save()
        html = login_as(client, caregiver.user).get(reverse("family:home")).content.decode()

    assert "urgency-book_now" in html
    assert first_call_href(html) == BUSINESS
    assert f"tel:{AFTER_HOURS}" not in html[: html.index("<footer")]
    if language == "en":
        assert "The clinic is closed now: call this number when it opens." in html
    else:
        assert "La clínica está cerrada ahora: llame a este número cuando abra." in html
