"""The emergency card: wallet size, front and back, always the current program."""

from decimal import Decimal
from io import BytesIO

from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from patients.models import AuditEvent
from pumps.documents import emergency_card_store
from tests.documents.conftest import pdf_text
from tests.factories import PatientFactory, ProgramFactory
from tests.helpers import login_as

MM = 72 / 25.4


def _card(client, patient, lang="en"):
    response = client.get(reverse("documents:card_pdf", args=[patient.pk]), {"lang": lang})
    assert response.status_code == 200
    return response


def test_card_is_wallet_size_front_and_back_with_what_a_doctor_needs(parent_client, child):
    response = _card(parent_client, child)
    assert {"no-store", "private"} <= {p.strip() for p in response["Cache-Control"].split(",")}
    reader = PdfReader(BytesIO(response.content))
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert round(float(page.mediabox.width) / MM, 1) == 85.6
        assert round(float(page.mediabox.height) / MM, 1) == 54.0
    text = pdf_text(response.content)
    pump = child.pumps.get()
    assert pump.serial_number in text and "SynchroMed II 20 mL (8637-20)" in text
    assert "Jan. 10, 2024" in text
    assert "Baclofen 1000 mcg/mL" in text and "300 mcg/day" in text
    assert "This child has an implanted intrathecal baclofen pump" in text
    assert "Do not stop baclofen suddenly" in text
    for number in ("801.213.3599", "801.662.1000", "801.213.7694"):
        assert number in text
    assert AuditEvent.objects.filter(action="emergency_card.viewed", patient_id=child.pk).exists()


def test_card_follows_a_program_change(parent_client, child):
    ProgramFactory(pump=child.pumps.get(), effective_from=timezone.now(), daily_dose_mcg=Decimal(345))
    text = pdf_text(_card(parent_client, child).content)
    assert "345 mcg/day" in text and "300 mcg/day" not in text


def test_stored_card_gets_a_new_version_when_the_program_changes(child, parent):
    first = emergency_card_store(patient=child)
    assert emergency_card_store(patient=child) == first  # unchanged program: no duplicate
    program = ProgramFactory(
        pump=child.pumps.get(), effective_from=timezone.now(), daily_dose_mcg=Decimal(320)
    )
    second = emergency_card_store(patient=child)
    assert [d.version for d in first + second] == [1, 2]
    assert second[0].program == program and second[0].visit is None


def test_spanish_card_is_tagged_es_and_keeps_the_doctors_side_in_english(parent_client, child):
    data = _card(parent_client, child, lang="es").content
    assert PdfReader(BytesIO(data)).trailer["/Root"]["/Lang"] == "es"
    text = pdf_text(data)
    assert "1 de mayo de 2016" in text  # the family's side: Spanish dates
    assert "This child has an implanted intrathecal baclofen pump" in text


def test_card_page_shows_the_card_to_the_family(parent_client, child):
    page = parent_client.get(reverse("documents:card", args=[child.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert child.pumps.get().serial_number in html and "801.662.1000" in html
    assert "no-store" in page["Cache-Control"]


def test_another_family_cannot_see_the_card(client, child, other_parent):
    login_as(client, other_parent)
    assert client.get(reverse("documents:card", args=[child.pk])).status_code == 404
    assert client.get(reverse("documents:card_pdf", args=[child.pk])).status_code == 404


def test_child_without_a_pump_gets_a_plain_message(nurse_client, clinic):
    patient = PatientFactory(clinic=clinic)
    page = nurse_client.get(reverse("documents:card", args=[patient.pk]))
    assert "no programmed pump" in page.content.decode()
    response = nurse_client.get(reverse("documents:card_pdf", args=[patient.pk]))
    assert response.status_code == 302
    assert emergency_card_store(patient=patient) == []


def test_the_card_page_keeps_the_staff_part_in_english_beside_the_familys_language(
    parent_client, child, parent
):
    """Issue 24, item 4: the emergency-room staff read English; the family reads its own language
    beside it; every number and 911 is a tap-to-call link."""
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()
    html = parent_client.get(reverse("documents:card", args=[child.pk])).content.decode()
    translation.deactivate()
    staff_part = html[html.index('lang="en"', html.index("<main")) : html.index('id="card-own-language"')]
    assert "This child has an implanted intrathecal baclofen pump." in staff_part
    assert "Do not stop baclofen suddenly." in staff_part
    own = html[html.index('id="card-own-language"') :]
    assert "La misma tarjeta en su idioma" in own
    assert "No suspenda el baclofeno de golpe." in own
    assert 'href="tel:911"' in html and "Llamar al 911" in html
    clinic = child.clinic
    for number in (clinic.phone_business_hours, clinic.phone_after_hours, clinic.phone_nurse_line):
        assert f'href="tel:{number}"' in staff_part and f'href="tel:{number}"' in own


def test_an_english_card_page_shows_the_card_once(parent_client, child):
    html = parent_client.get(reverse("documents:card", args=[child.pk])).content.decode()
    assert "card-own-language" not in html
    assert html.count("This child has an implanted intrathecal baclofen pump.") == 1
    assert 'href="tel:911"' in html
