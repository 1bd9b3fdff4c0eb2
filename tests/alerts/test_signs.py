"""The nurse knows (issue 25): a report of warning signs opens a critical concern first on the
worklist and the escalations page; while the clinic is open, no acknowledgement within the
clinic's minutes puts the child on the call list and e-mails the inbox again (a report in closed
hours: the clock starts at the opening); the nurse's outcome resolves it; SIGNS / SIGNOS by text."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from alerts.concerns import concern_acknowledge
from alerts.inbound import sms_inbound_receive
from alerts.ladder import ladders_advance
from alerts.models import Concern, LadderStep
from patients import audit
from patients.models import AuditEvent, SignReport
from patients.sign_reports import SignReportError, sign_report_outcome_record, sign_report_record
from tests.alerts.conftest import DENVER, make_child
from tests.helpers import login_as

pytestmark = pytest.mark.django_db

NIGHT = datetime(2026, 12, 7, 2, 0, tzinfo=DENVER)  # Monday 02:00, closed
OPENING = datetime(2026, 12, 7, 8, 0, tzinfo=DENVER)
MIDDAY = datetime(2026, 12, 7, 11, 0, tzinfo=DENVER)
THERAPY = ["baclofen", "baclofeno", "pump", "bomba", "itb", "intrathecal", "withdrawal", "abstinencia"]


@pytest.fixture
def weekday_clinic(clinic):
    clinic.open_weekdays = [0, 1, 2, 3, 4]
    clinic.opens_at, clinic.closes_at = time(8), time(17)
    clinic.nurse_inbox_email = "nurses@example.test"
    clinic.save()
    return clinic


@pytest.fixture
def sofia(weekday_clinic):
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=DENVER), tick=False):
        return make_child(weekday_clinic, mobile="+18015550111", sms_consent=True)


def _report(patient, now, codes=("tone",), words=""):
    caregiver = patient.caregiver_links.get().caregiver
    with time_machine.travel(now, tick=False):
        return sign_report_record(
            patient=patient, caregiver=caregiver, codes=list(codes), words=words, now=now
        )[0]


def _concern(patient):
    return Concern.objects.get(patient=patient, kind=Concern.Kind.SIGNS_REPORTED)


@pytest.mark.parametrize(
    ("reported", "due"),
    [
        (NIGHT, OPENING + timedelta(minutes=15)),  # closed: the clock starts at the opening
        (MIDDAY, MIDDAY + timedelta(minutes=15)),
        (datetime(2026, 12, 7, 16, 55, tzinfo=DENVER), datetime(2026, 12, 8, 8, 10, tzinfo=DENVER)),
        (datetime(2026, 12, 12, 10, 0, tzinfo=DENVER), datetime(2026, 12, 14, 8, 15, tzinfo=DENVER)),  # Sat
    ],
)
def test_no_acknowledgement_within_the_clinic_minutes_puts_the_child_on_the_call_list(
    sofia, reported, due, django_capture_on_commit_callbacks, celery_eager
):
    with django_capture_on_commit_callbacks(execute=True):
        _report(sofia, reported)
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        ladders_advance(now=due - timedelta(seconds=1))
    assert list(LadderStep.objects.values_list("rung", "concern__kind")) == [] and len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        ladders_advance(now=due)
        ladders_advance(now=due + timedelta(minutes=5))  # a later beat takes nothing again
    steps = list(LadderStep.objects.filter(concern=_concern(sofia)).values_list("rung", "list_day"))
    assert steps == [("call", None), ("call_list", due.date())]
    assert len(mail.outbox) == 2
    assert "Not acknowledged within 15 min" in mail.outbox[1].subject
    assert "sudden increase in muscle tone" in mail.outbox[1].body


def test_the_clinic_sets_the_minutes(sofia):
    sofia.clinic.signs_ack_minutes = 5
    sofia.clinic.save()
    _report(sofia, MIDDAY)
    ladders_advance(now=MIDDAY + timedelta(minutes=5))
    assert LadderStep.objects.filter(rung="call_list").exists()


def test_an_acknowledged_report_goes_on_no_call_list(sofia, nurse):
    _report(sofia, MIDDAY)
    concern_acknowledge(concern=_concern(sofia), by=nurse, now=MIDDAY + timedelta(minutes=3))
    ladders_advance(now=MIDDAY + timedelta(hours=2))
    assert not LadderStep.objects.exists()


def test_the_outcome_resolves_the_concern_and_the_chart_keeps_the_report(sofia, nurse, client):
    report = _report(sofia, NIGHT, codes=["tone", "itching"], words="very stiff")
    ladders_advance(now=OPENING + timedelta(minutes=20))
    later = OPENING + timedelta(minutes=30)
    sign_report_outcome_record(report=report, outcome="advice", note="oral dose given", by=nurse, now=later)
    concern = _concern(sofia)
    assert concern.resolved_at == later
    assert concern.resolved_reason == "outcome: advice given (oral dose given)"
    assert AuditEvent.objects.filter(action=audit.SIGNS_OUTCOME_RECORDED, patient_id=sofia.pk).count() == 1
    ladders_advance(now=later + timedelta(minutes=5))  # the ladder records its stop
    assert LadderStep.objects.get(concern=concern, rung="stopped").note.startswith(
        "Concern resolved: outcome"
    )
    with pytest.raises(SignReportError):  # once
        sign_report_outcome_record(report=report, outcome="no_action", by=nurse, now=later)
    assert SignReport.objects.get(pk=report.pk).outcome == "advice"
    login_as(client, nurse)
    chart = client.get(reverse("staff:chart", args=[sofia.pk])).content.decode()
    assert (
        "Warning signs reported by the family" in chart and "very stiff" in chart and "Advice given" in chart
    )


def test_the_nurse_records_the_outcome_on_the_staff_page(sofia, nurse, client):
    report = _report(sofia, NIGHT)
    login_as(client, nurse)
    url = reverse("staff:sign_outcome", args=[report.pk])
    assert client.post(url, {"outcome": "made up"}).status_code == 400
    response = client.post(url, {"outcome": "sent_to_ed", "note": "to the ED"})
    assert response.status_code == 302
    assert _concern(sofia).resolved_reason == "outcome: sent to the emergency department (to the ED)"


def test_a_nurse_of_another_clinic_gets_404(sofia, other_nurse, client):
    report = _report(sofia, NIGHT)
    login_as(client, other_nurse)
    assert (
        client.post(reverse("staff:sign_outcome", args=[report.pk]), {"outcome": "advice"}).status_code == 404
    )
    assert SignReport.objects.get(pk=report.pk).outcome == ""


def test_the_report_is_first_on_the_worklist_and_the_escalations_page(sofia, weekday_clinic, nurse, client):
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=DENVER), tick=False):
        # Another child whose alarm date has passed: critical too, and dated earlier.
        other = make_child(weekday_clinic, first_name="Liam", visit_at=datetime(2026, 6, 1, 9, tzinfo=DENVER))
    assert other.safety.tier_rank == 0
    _report(sofia, NIGHT)
    with time_machine.travel(OPENING, tick=False):
        login_as(client, nurse)
        rows = client.get(reverse("staff:worklist")).context["rows"]
        assert [r["patient"].first_name for r in rows][:2] == ["Sofia", "Liam"]
        assert any(c.kind == "signs_reported" for c in rows[0]["concerns"])
        children = client.get(reverse("alerts:escalations")).context["children"]
        assert children[0]["patient"] == sofia
        assert children[0]["concerns"][0].kind == "signs_reported"


@pytest.mark.parametrize(
    ("word", "language", "now", "number"),
    [
        ("SIGNS", "en", NIGHT, "801.662.1000"),
        (" signs ", "en", MIDDAY, "801.213.3599"),
        ("Signos", "es", NIGHT, "801.662.1000"),
        ("SIGNOS.", "es", MIDDAY, "801.213.3599"),
    ],
)
def test_the_keyword_answers_with_the_link_and_the_number_for_the_hour(sofia, word, language, now, number):
    caregiver = sofia.caregiver_links.get().caregiver
    caregiver.preferred_language = language
    caregiver.save()
    answer = sms_inbound_receive(
        from_number=str(caregiver.mobile),
        to_number="+18015550100",
        body=word,
        message_sid=f"SM{word}",
        now=now,
    )
    assert "/family/signs/" in answer and number in answer and "911" in answer
    assert ("enfermeras" in answer) == (language == "es")
    assert not [w for w in THERAPY if w in answer.lower()]
    # A replay changes nothing and answers nothing.
    assert (
        sms_inbound_receive(
            from_number=str(caregiver.mobile),
            to_number="+18015550100",
            body=word,
            message_sid=f"SM{word}",
            now=now,
        )
        == ""
    )


def test_a_stranger_writing_signos_is_answered_in_spanish(sofia):
    answer = sms_inbound_receive(from_number="+18015550999", to_number="+1", body="signos", now=NIGHT)
    assert "enfermeras" in answer and "/family/signs/" in answer


@pytest.mark.parametrize(("language", "keyword"), [("en", "SIGNS"), ("es", "SIGNOS")])
def test_help_names_the_keyword(sofia, language, keyword):
    caregiver = sofia.caregiver_links.get().caregiver
    caregiver.preferred_language = language
    caregiver.save()
    answer = sms_inbound_receive(from_number=str(caregiver.mobile), to_number="+1", body="HELP", now=NIGHT)
    assert f"Reply {keyword}" in answer or f"Responda {keyword}" in answer
