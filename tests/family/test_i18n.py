"""The Spanish catalogue covers every parent-facing string, and parents get their own language."""

from pathlib import Path

import polib
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from appointments.models import Appointment
from patients.models import Goal
from pumps.models import PumpModel

PO = Path(settings.BASE_DIR) / "locale/es/LC_MESSAGES/django.po"
PARENT_FACING = (
    "templates/family/",
    "templates/registration/",
    "templates/emergency.html",
    "templates/base.html",
    "patients/family/",
    "patients/common/",
    "patients/accounts/forms.py",
)
# Labels from models that parent pages show.
PARENT_FACING_CHOICES = (
    [label for _, label in Goal.choices]
    + [label for _, label in Appointment.Kind.choices]
    + [label for _, label in PumpModel.choices]
)


def catalogue():
    return polib.pofile(str(PO))


def is_parent_facing(entry) -> bool:
    return any(path.startswith(PARENT_FACING) for path, _ in entry.occurrences)


def test_every_parent_facing_string_is_translated_and_not_fuzzy():
    entries = [e for e in catalogue() if is_parent_facing(e) or e.msgid in PARENT_FACING_CHOICES]
    assert len(entries) > 150
    bad = [e.msgid for e in entries if not e.translated() or "fuzzy" in e.flags or e.obsolete]
    assert bad == []


def test_every_model_label_shown_to_parents_is_in_the_catalogue():
    ids = {e.msgid for e in catalogue() if e.translated()}
    with translation.override("en"):  # a Spanish page earlier in this thread leaves Spanish active
        assert set(map(str, PARENT_FACING_CHOICES)) <= ids


def test_placeholders_survive_translation():
    import re

    for entry in catalogue():
        if entry.msgid_plural:
            continue
        found = sorted(re.findall(r"%\(\w+\)[sd]", entry.msgid))
        assert found == sorted(re.findall(r"%\(\w+\)[sd]", entry.msgstr)), entry.msgid


def test_a_spanish_speaking_parent_gets_spanish_pages_whatever_the_browser(client, parent, child):
    from tests.helpers import login_as

    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()
    login_as(client, parent)
    html = client.get(reverse("family:home"), HTTP_ACCEPT_LANGUAGE="en-US").content.decode()
    assert 'lang="es"' in html
    assert "Mis hijos" in html and "Emergencia" in html and "Fecha de alarma de la bomba" in html
    assert " de 20" in html  # long dates read "lunes 30 de noviembre de 2026"
    child_html = client.get(reverse("family:child", args=[child.pk])).content.decode()
    assert "microgramos al día" in child_html


def test_the_emergency_page_is_in_spanish_for_a_spanish_browser(client, db):
    html = client.get(reverse("emergency"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Señales de abstinencia de baclofeno" in html


def test_one_spanish_word_for_each_sign_on_every_page_text_and_pdf():
    """The handout's signs keep the same Spanish words wherever they appear."""
    strings = " ".join(e.msgstr.lower() for e in catalogue() if e.translated())
    assert "comezón" not in strings and "picazón sin sarpullido" in strings
    assert "por boca" not in strings and "por la boca" in strings


def test_the_clinic_and_its_place_are_named_in_the_parents_language(db):
    from patients.models import Clinic

    clinic = Clinic.objects.order_by("pk").first()  # seeded with its Spanish words by migration
    assert clinic.name_in("es") == "Primary Children's Hospital, Clínica de Rehabilitación"
    assert clinic.place_in(clinic.default_location, "es").startswith("Clínica de Rehabilitación")
    assert clinic.place_in(clinic.default_location, "en") == clinic.default_location
    assert clinic.place_in("Room 4, typed by a nurse", "es") == "Room 4, typed by a nurse"
