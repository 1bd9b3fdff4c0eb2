"""The after-visit summary PDF: what a family must find on it, and that reruns are harmless."""

import hashlib
from datetime import date
from decimal import Decimal
from io import BytesIO

from pypdf import PdfReader

from pumps.documents import visit_summary_store
from pumps.models import Document
from pumps.pdf import render_html
from tests.documents.conftest import pdf_text
from tests.factories import CaregiverLinkFactory, ProgramFactory, refill


def _only(documents):
    assert len(documents) == 1
    return documents[0]


def test_summary_shows_dates_dose_change_and_the_three_numbers(dose_change_visit, parent):
    document = _only(visit_summary_store(visit=dose_change_visit))
    text = pdf_text(document.file.read())

    assert "New pump alarm date" in text and "Sunday, Jan. 3, 2027" in text
    assert "Refill due by" in text and "Sunday, Dec. 27, 2026" in text
    assert "Next appointment" in text and "Wednesday, Feb. 3, 2027, 2:30 p.m." in text
    assert "300 → 330 mcg/day (+10%)" in text
    assert "Dose changed today: increased" in text
    for number in ("801.213.3599", "801.662.1000", "801.213.7694"):
        assert number in text
    assert "Baclofen, 1000 mcg/mL" in text
    assert "Rosa Nurse" in text and "Clinic A" in text
    assert "red emergency card" in text and "baclofen by mouth" in text


def test_summary_is_one_page_and_stored_with_its_checksum(dose_change_visit, parent):
    document = _only(visit_summary_store(visit=dose_change_visit))
    data = document.file.read()
    assert len(PdfReader(BytesIO(data)).pages) == 1
    assert document.sha256 == hashlib.sha256(data).hexdigest()
    assert (document.kind, document.visit, document.version) == ("visit_summary", dose_change_visit, 1)
    assert document.program == dose_change_visit.program
    assert document.language == "en"


def test_second_run_gives_the_same_document_and_no_duplicate_version(dose_change_visit, parent):
    first = _only(visit_summary_store(visit=dose_change_visit))
    second = _only(visit_summary_store(visit=dose_change_visit))
    assert second.pk == first.pk
    assert Document.objects.filter(visit=dose_change_visit).count() == 1


def test_identical_inputs_render_identical_bytes_and_text(dose_change_visit, parent):
    first = _only(visit_summary_store(visit=dose_change_visit)).file.read()
    Document.objects.all().delete()
    second = _only(visit_summary_store(visit=dose_change_visit)).file.read()
    assert pdf_text(first) == pdf_text(second)
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_a_changed_visit_gets_a_new_version_and_the_old_one_is_kept(dose_change_visit, parent):
    first = _only(visit_summary_store(visit=dose_change_visit))
    dose_change_visit.notes = "Came with grandmother."
    dose_change_visit.save()
    second = _only(visit_summary_store(visit=dose_change_visit))
    assert (first.version, second.version) == (1, 2)
    assert first.sha256 != second.sha256
    assert Document.objects.filter(visit=dose_change_visit).count() == 2
    assert "Came with grandmother." in pdf_text(second.file.read())


def test_spanish_family_gets_a_summary_tagged_es_with_spanish_dates(dose_change_visit, spanish_parent):
    document = _only(visit_summary_store(visit=dose_change_visit))
    assert document.language == "es"
    data = document.file.read()
    assert PdfReader(BytesIO(data)).trailer["/Root"]["/Lang"] == "es"
    text = pdf_text(data)
    assert "domingo, 3 de enero de 2027" in text
    assert "27 de diciembre de 2026" in text


def test_one_summary_per_language_the_caregivers_need(dose_change_visit, parent):
    other = CaregiverLinkFactory(patient=dose_change_visit.pump.patient, primary_contact=False)
    other.caregiver.preferred_language = "es"
    other.caregiver.save()
    documents = visit_summary_store(visit=dose_change_visit)
    assert [d.language for d in documents] == ["en", "es"]


def test_pdf_is_tagged_and_has_a_title_and_language(dose_change_visit, parent):
    reader = PdfReader(BytesIO(_only(visit_summary_store(visit=dose_change_visit)).file.read()))
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert reader.metadata.title.startswith("After-visit summary: Sofia")
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("+DejaVu-Sans" in name for name in fonts)


def test_staff_free_text_is_escaped(dose_change_visit, parent):
    dose_change_visit.notes = '<script>alert("x")</script> <img src=http://evil.example/x.png>'
    dose_change_visit.tone_assessment = "<b>tight</b>"
    dose_change_visit.save()
    from pumps.documents import visit_summary_context

    html = render_html(
        template="documents/visit_summary.html",
        context=visit_summary_context(dose_change_visit),
        language="en",
        title="t",
    )
    assert "<script>" not in html and "<img" not in html and "<b>tight" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=http://evil.example/x.png&gt;" in html
    text = pdf_text(_only(visit_summary_store(visit=dose_change_visit)).file.read())
    assert "<img src=http://evil.example/x.png>" in text


def test_patient_bolus_shows_worst_case_and_nominal_alarm_dates(child, parent):
    pump = child.pumps.get()
    program = ProgramFactory(pump=pump, bolus_mcg=Decimal(25), bolus_max_per_day=2)
    visit = refill(pump, program=program)
    text = pdf_text(_only(visit_summary_store(visit=visit)).file.read())
    assert "25 mcg, at most 2 times a day" in text
    assert "With no patient boluses" in text


def test_battery_window_shows_the_replace_by_date(child, parent):
    pump = child.pumps.get()
    pump.implant_date = date(2020, 1, 10)
    pump.save()
    visit = refill(pump)
    text = pdf_text(_only(visit_summary_store(visit=visit)).file.read())
    assert "replace by" in text and "Jan. 10, 2027" in text


def test_flex_schedule_is_a_table_and_bridge_bolus_is_named(child, parent):
    pump = child.pumps.get()
    steps = [{"start": "07:00", "mcg_per_hour": "10"}, {"start": "19:00", "mcg_per_hour": "15.5"}]
    program = ProgramFactory(pump=pump, mode="flex", flex_steps=steps, daily_dose_mcg=Decimal(306))
    visit = refill(pump, program=program, bridge_bolus_ml=Decimal("0.12"), bolus_note="for the new strength")
    text = pdf_text(_only(visit_summary_store(visit=visit)).file.read())
    assert "Flex schedule" in text and "From 07:00 19:00" in text and "Rate (mcg/hour) 10 15.5" in text
    assert "bridge bolus of 0.12 mL: for the new strength" in text
