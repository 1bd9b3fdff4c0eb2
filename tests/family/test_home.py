"""What the home card says in each state, on the demo data's children."""

import re
from datetime import timedelta
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from patients.models import Patient
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill
from tests.helpers import login_as


def card_of(html: str, first_name: str) -> str:
    """The text of one child's card on the home page."""
    cards = re.findall(r"<article .*?</article>", html, flags=re.S)
    [card] = [c for c in cards if f">{first_name}</h2>" in c]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))


def home(client):
    response = client.get(reverse("family:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_child_booked_before_the_alarm_is_on_time(demo_login):
    html = home(demo_login("james.smith"))
    card = card_of(html, "Lucas")
    assert "urgency-plenty" in html
    assert "Refill booked: you are on time" in card
    assert "Please keep this appointment" in card
    assert "Next refill appointment" in card and "Rehabilitation Clinic" in card


def test_an_alarm_three_days_away_with_nothing_booked_says_call_the_clinic_today(demo_login):
    html = home(demo_login("james.smith"))
    card = card_of(html, "Liam")
    assert "Call the clinic today" in card
    assert "None booked" in card
    assert re.search(r"[12] days? left|Today", card)  # Liam: alarm about 1.5 days after seeding
    assert "tel:801.213.3599" in html
    assert "give baclofen by mouth as directed, then call" in card


def test_the_most_urgent_child_comes_first(demo_login):
    html = home(demo_login("james.smith"))
    names = re.findall(r'class="child-name"[^>]*>(\w+)</h2>', html)
    assert names[0] == "Liam"
    assert set(names) == {"Liam", "Lucas", "Oliver", "Daniel"}


def test_a_passed_alarm_says_call_now_and_how_long_ago(demo_login):
    card = card_of(home(demo_login("david.chen")), "Ava")
    assert "Call the clinic today" in card
    assert "The pump alarm date has passed" in card
    assert re.search(r"Passed [12] days? ago", card)


def test_an_appointment_after_the_alarm_asks_to_book_earlier(demo_login):
    card = card_of(home(demo_login("ana.lopez")), "Noah")  # Ana reads the portal in Spanish
    assert "Llame a la clínica hoy" in card
    assert "La cita es después de la fecha de alarma de la bomba" in card


def test_an_open_battery_window_shows_the_replace_by_date(demo_login):
    client = demo_login("david.chen")
    html = home(client)
    mia = Patient.objects.get(first_name="Mia")
    replace_by = mia.pumps.get().replace_by()
    card = card_of(html, "Mia")
    assert "Time to plan a new pump" in card
    assert f"{replace_by:%B} {replace_by.day}, {replace_by.year}" in card
    assert "another surgery" in card
    assert "Time to plan a new pump" not in card_of(html, "Ava")


def test_the_recovery_timeline_shows_in_the_first_weeks_after_an_implant(demo_login):
    html = home(demo_login("tom.jones"))
    card = card_of(html, "Ethan")
    assert "Caring for your child after surgery" in card
    # Ethan had surgery two weeks ago: the first week's rules are over, the binder stays.
    for words in ("no longer has to be kept dry", "abdominal binder for six weeks", "go to school"):
        assert words in card
    assert "Signs of infection: fever, swelling, redness, or drainage" in card
    assert "loose clothing" in card and "twisting" in card
    assert "Caring for your child after surgery" not in card_of(html, "Emma")


def test_a_family_with_two_children_sees_two_cards_and_only_theirs(demo_login):
    html = home(demo_login("sarah.jones"))
    names = re.findall(r'class="child-name"[^>]*>(\w+)</h2>', html)
    assert sorted(names) == ["Emma", "Harper", "Lily"]
    assert "Liam" not in html


def test_due_soon_with_nothing_booked_says_book_now(clinic):
    patient = PatientFactory(clinic=clinic, first_name="Zoe")
    pump = PumpFactory(patient=patient)
    # 19 mL at 300 mcg/day of 1000 mcg/mL: the alarm is ~57 days after the refill.
    refill(pump, visit_at=timezone.now() - timedelta(days=40))
    parent = CaregiverLinkFactory(patient=patient).caregiver.user
    from django.test import Client

    card = card_of(home(login_as(Client(), parent)), "Zoe")
    assert "Book the refill now" in card
    assert "No refill is booked. Call the clinic to book a refill before" in card


def test_home_queries_stay_constant_however_long_the_history(clinic, client, django_assert_max_num_queries):
    parent = None
    for first in ("Ana", "Ben"):
        patient = PatientFactory(clinic=clinic, first_name=first)
        pump = PumpFactory(patient=patient)
        for k in range(30, 0, -1):
            refill(pump, visit_at=timezone.now() - timedelta(days=60 * k + 10), volume=Decimal(19))
        refill(pump)
        for k in range(20):
            Appointment.objects.create(
                patient=patient, start=timezone.now() - timedelta(days=60 * k + 5), status="completed"
            )
        Appointment.objects.create(patient=patient, start=timezone.now() + timedelta(days=20))
        link = CaregiverLinkFactory(patient=patient, **({"caregiver": parent.caregiver} if parent else {}))
        parent = link.caregiver.user
    login_as(client, parent)
    # With the stored safety state (ChildSafety, the family-facing concerns) and the clinic
    # calendar of the call button: one query each, whatever the history.
    with django_assert_max_num_queries(13):
        html = home(client)
    assert html.count('class="child-name"') == 2


def test_home_reads_each_kind_of_fact_once(
    parent_client, parent, child, other_child, django_assert_num_queries
):
    """Issue 27, pinned: the session, the user, the person's roles (caregiver and staff profile in
    one), the children with their stored safety state, clinic, pump and next refill appointment
    (the ones the assessment judged, one query), their family-facing concerns. No pump history,
    no clinic for the frame."""
    CaregiverLinkFactory(caregiver=parent.caregiver, patient=other_child)
    home(parent_client)  # the first page keeps the frame in the session

    with django_assert_num_queries(5):
        html = home(parent_client)
    assert html.count('class="child-name"') == 2


def test_in_the_first_week_the_card_says_keep_the_incision_dry_and_stay_home(clinic, client):
    patient = PatientFactory(clinic=clinic, first_name="Nina")
    pump = PumpFactory(patient=patient, implant_date=timezone.localdate() - timedelta(days=2))
    refill(pump, visit_at=timezone.now() - timedelta(days=2))
    login_as(client, CaregiverLinkFactory(patient=patient).caregiver.user)
    card = card_of(home(client), "Nina")
    assert "2 days since surgery" in card
    assert "Keep the incision dry for a week after surgery" in card
    assert "may return to school and light activities a week after surgery" in card
