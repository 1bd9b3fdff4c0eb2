"""Which child? Each child's text name: unique in the family, never the full name or clinical."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from alerts.models import Reminder
from alerts.planning import reminders_replan
from alerts.sending import message_for
from patients.models import Patient
from patients.services import TextNameError, caregiver_link, text_name_set
from patients.text_names import default_text_name, text_name_problem
from tests.alerts.conftest import at, make_child, set_dates
from tests.factories import CaregiverFactory, PatientFactory
from tests.helpers import login_as


@pytest.mark.parametrize(
    ("first_name", "taken", "expected"),
    [
        ("Liam", set(), "L."),
        ("Lucas", {"L."}, "Lu."),
        ("lucía", {"L.", "Lu."}, "Luc."),
        ("Liam", {"L.", "Li.", "Lia."}, "L.2"),
        ("Liam", {"L.", "Li.", "Lia.", "L.2"}, "L.3"),
        ("Al", {"A."}, "A.2"),
        ("Élodie", set(), "É."),
    ],
)
def test_the_default_is_the_shortest_initial_form_no_sibling_has(first_name, taken, expected):
    assert default_text_name(first_name, taken) == expected


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Lulu", None),
        ("L.S.", None),
        ("Mi pequeño", None),
        ("", "empty"),
        ("Abcdefghijklm", "too_long"),
        ("Jo2", "characters"),
        ("<b>", "characters"),
        ("Liam", "full_name"),
        ("liam smith", "full_name"),
        ("SMITH", "full_name"),
        ("Baclofen", "clinical"),
        ("pump boy", "clinical"),
        ("la bomba", "clinical"),
        ("ITB", "clinical"),
        ("lu", "taken"),
    ],
)
def test_a_typed_name_is_refused_when_full_clinical_taken_or_long(name, problem):
    assert text_name_problem(name, first_name="Liam", last_name="Smith", taken={"Lu."}) == problem


@pytest.fixture
def family(clinic):
    """One parent with Liam and Lucas, each linked through the service."""
    parent = CaregiverFactory()
    liam = PatientFactory(clinic=clinic, first_name="Liam")
    lucas = PatientFactory(clinic=clinic, first_name="Lucas")
    caregiver_link(caregiver=parent, patient=liam)
    caregiver_link(caregiver=parent, patient=lucas)
    liam.refresh_from_db()
    lucas.refresh_from_db()
    return parent, liam, lucas


def test_two_children_of_one_parent_get_different_defaults_when_linked(family):
    _, liam, lucas = family
    assert (liam.text_name, lucas.text_name) == ("L.", "Lu.")


def test_a_child_linked_later_at_another_clinic_is_renamed_only_if_it_clashes(family, other_clinic):
    parent, liam, lucas = family
    lena = PatientFactory(clinic=other_clinic, first_name="Lena", text_name="L.")
    caregiver_link(caregiver=parent, patient=lena)
    lena.refresh_from_db()
    assert lena.text_name == "Le."
    liam.refresh_from_db()
    assert liam.text_name == "L."


def test_the_family_may_not_take_a_siblings_name_and_nothing_changes(family):
    _, liam, lucas = family
    with pytest.raises(TextNameError) as refused:
        text_name_set(patient=lucas, name="l.")
    assert refused.value.key == "taken"
    lucas.refresh_from_db()
    assert lucas.text_name == "Lu."


def test_a_planned_text_names_the_child_the_new_way(clinic):
    patient = make_child(clinic, first_name="Liam")
    set_dates(patient, refill_due=at(2026, 11, 30).date(), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    reminder = Reminder.objects.filter(patient=patient, status=Reminder.Status.PLANNED).first()
    text_name_set(patient=patient, name="Bear")
    reminder = Reminder.objects.select_related("patient__clinic", "caregiver", "appointment").get(
        pk=reminder.pk
    )
    assert message_for(reminder).startswith("Rehab clinic: Bear")
    assert "Liam" not in message_for(reminder)


def test_the_data_migration_gives_existing_siblings_unique_names_oldest_first(clinic):
    parent = CaregiverFactory()
    liam = PatientFactory(clinic=clinic, first_name="Liam")
    lucas = PatientFactory(clinic=clinic, first_name="Lucas")
    alone = PatientFactory(clinic=clinic, first_name="Lara")
    for child in (liam, lucas):
        parent.links.create(patient=child)
    Patient.objects.update(text_name="")
    migration = importlib.import_module("patients.migrations.0015_patient_text_name_defaults")
    migration.settle(django_apps, None)
    names = dict(Patient.objects.values_list("pk", "text_name"))
    assert (names[liam.pk], names[lucas.pk], names[alone.pk]) == ("L.", "Lu.", "L.")


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_family_names_the_child_on_the_child_page_in_their_language(client, family, language):
    parent, liam, lucas = family
    parent.preferred_language = language
    parent.save()
    login_as(client, parent.user)
    url = reverse("family:child", args=[lucas.pk])
    page = client.get(url).content.decode()
    assert 'value="Lu."' in page
    refused = client.post(url, {"text_name": "Lucas"})
    assert refused.status_code == 400
    words = {"en": "do not use your child", "es": "no use el nombre"}[language]
    assert words in refused.content.decode() and 'value="Lucas"' in refused.content.decode()
    lucas.refresh_from_db()
    assert lucas.text_name == "Lu."
    saved = client.post(url, {"text_name": "  Bear  Cub "}, follow=True)
    lucas.refresh_from_db()
    assert lucas.text_name == "Bear Cub" and saved.status_code == 200


def test_a_parent_cannot_rename_another_familys_child(client, family, other_child):
    parent, _, _ = family
    login_as(client, parent.user)
    assert client.post(reverse("family:child", args=[other_child.pk]), {"text_name": "X"}).status_code == 404
