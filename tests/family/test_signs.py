"""'Report a sign' (issue 25): a parent ticks what they see; the next screen says what to do now
(the clinic's instructions, withdrawal first; the one number for this hour; 911); the nurses get
a critical concern. Tenancy, repeats within the hour, the audit row, both languages."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from alerts.models import Concern
from patients import audit, signs
from patients.models import AuditEvent, ClosedDate, SignReport
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill
from tests.helpers import login_as

pytestmark = pytest.mark.django_db

DENVER = ZoneInfo("America/Denver")
BUSINESS, AFTER_HOURS = "801.213.3599", "801.662.1000"
NIGHT = datetime(2026, 12, 7, 2, 0, tzinfo=DENVER)  # a Monday, 02:00: closed
MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=DENVER)  # open


@pytest.fixture(autouse=True)
def english_after():
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def long_sessions(settings):
    """The tests travel in time with one sign-in: the session must not expire on the way."""
    settings.PARENT_IDLE_TIMEOUT = settings.STAFF_IDLE_TIMEOUT = 10**8
    settings.SESSION_ABSOLUTE_TIMEOUT = settings.SESSION_COOKIE_AGE = 10**8


@pytest.fixture
def family(clinic):
    """A weekday clinic 08:00-17:00 with a nurse inbox, a child and its parent, built at a
    pinned instant."""
    clinic.open_weekdays = [0, 1, 2, 3, 4]
    clinic.opens_at, clinic.closes_at = time(8), time(17)
    clinic.nurse_inbox_email = "nurses@example.test"
    clinic.save()
    ClosedDate.objects.create(clinic=clinic, day=date(2026, 12, 25), name="Christmas Day")
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=DENVER), tick=False):
        patient = PatientFactory(clinic=clinic, first_name="Sofia")
        refill(PumpFactory(patient=patient), visit_at=datetime(2026, 11, 20, 10, tzinfo=DENVER))
        link = CaregiverLinkFactory(patient=patient)
    return patient, link.caregiver


def _report(client, patient, codes, words="", status=302):
    response = client.post(
        reverse("family:signs_report", args=[patient.pk]), {"signs": codes, "words": words}
    )
    assert response.status_code == status, response.content[:2000]
    if status == 302:
        assert "/family/signs/" in response.url, response.url
    return response


def test_the_report_page_lists_the_handouts_three_groups(client, family):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(NIGHT, tick=False):
        page = client.get(reverse("family:signs_report", args=[patient.pk])).content.decode()
    for group in signs.GROUPS:
        assert str(signs.GROUP_LABELS[group]) in page
    for _group, label in signs.SIGNS.values():
        assert str(label) in page
    assert 'id="clinic-open-periods"' in page  # the opening hours the kept page picks from


@pytest.mark.parametrize("group", signs.GROUPS)
def test_each_groups_instructions_are_the_clinics_words(client, family, group):
    patient, caregiver = family
    login_as(client, caregiver.user)
    code = next(c for c, (g, _label) in signs.SIGNS.items() if g == group)
    with time_machine.travel(MORNING, tick=False):
        done = client.get(_report(client, patient, [code]).url).content.decode()
    assert signs.DEFAULT_INSTRUCTIONS["en"][group].replace("'", "&#x27;") in done
    others = [g for g in signs.GROUPS if g != group]
    for other in others:
        assert signs.DEFAULT_INSTRUCTIONS["en"][other].replace("'", "&#x27;") not in done
    # The clinic's own words replace the handout's.
    setattr(patient.clinic, f"sign_instructions_{group}", f"Clinic words for {group}.")
    patient.clinic.save()
    with time_machine.travel(MORNING + timedelta(hours=2), tick=False):
        done = client.get(_report(client, patient, [code]).url).content.decode()
    assert f"Clinic words for {group}." in done


def test_withdrawal_comes_first_when_signs_of_several_groups_are_ticked(client, family):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(MORNING, tick=False):
        done = client.get(_report(client, patient, ["redness", "headache", "itching"]).url).content.decode()
    withdrawal = done.index('data-sign-group="withdrawal"')
    assert withdrawal < done.index('data-sign-group="too_much"') < done.index('data-sign-group="infection"')
    # What to do comes before the report's own summary.
    assert withdrawal < done.index("The nurses have your report")


@pytest.mark.parametrize(
    ("now", "number", "other"),
    [
        (NIGHT, AFTER_HOURS, BUSINESS),  # Monday 02:00: the operator
        (MORNING, BUSINESS, AFTER_HOURS),  # Monday 10:00: the clinic
        (datetime(2026, 12, 7, 17, 0, tzinfo=DENVER), AFTER_HOURS, BUSINESS),  # closing time
        (datetime(2026, 12, 12, 11, 0, tzinfo=DENVER), AFTER_HOURS, BUSINESS),  # Saturday
        (datetime(2026, 12, 25, 10, 0, tzinfo=DENVER), AFTER_HOURS, BUSINESS),  # Christmas, a Friday
    ],
)
def test_one_call_button_right_for_the_hour_by_the_clinic_calendar(client, family, now, number, other):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(now, tick=False):
        done = client.get(_report(client, patient, ["tone"]).url).content.decode()
    assert f'href="tel:{number}"' in done
    assert f'href="tel:{other}"' not in done.split("<footer")[0]  # one number in the page itself
    assert 'href="tel:911"' in done
    assert done.index('data-sign-group="withdrawal"') < done.index(f'href="tel:{number}"')


def test_the_report_opens_a_critical_concern_e_mailed_to_the_nurses_and_audited(
    client, family, django_capture_on_commit_callbacks, celery_eager
):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        _report(client, patient, ["tone", "agitation"], words="She is very stiff and cannot sleep")
    report = SignReport.objects.get(patient=patient)
    assert report.reporter == caregiver and report.groups == ["withdrawal"]
    concern = Concern.objects.open().get(patient=patient, kind=Concern.Kind.SIGNS_REPORTED)
    assert concern.tier == "critical" and concern.needs_nurse
    assert concern.began_at == NIGHT
    for words in ("sudden increase in muscle tone", "agitation", "cannot sleep", "02:00", str(caregiver)):
        assert words in concern.nurse_words
    assert [m.to for m in mail.outbox] == [["nurses@example.test"]]
    assert "Family reported warning signs" in mail.outbox[0].subject
    assert "cannot sleep" in mail.outbox[0].body
    event = AuditEvent.objects.get(action=audit.SIGNS_REPORTED)
    assert (event.actor, event.patient_id, event.object_id) == (caregiver.user, patient.pk, str(report.pk))
    # The safety row sorts the child first: a report is "now".
    assert patient.safety.tier_rank == 0 and patient.safety.act_by is None


def test_repeats_within_an_hour_update_the_open_report_and_concern(
    client, family, django_capture_on_commit_callbacks, celery_eager
):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(NIGHT, tick=False), django_capture_on_commit_callbacks(execute=True):
        _report(client, patient, ["tone"])
    with time_machine.travel(NIGHT + timedelta(minutes=40), tick=False):
        _report(client, patient, ["itching", "headache"], words="now itching")
        _report(client, patient, ["itching", "headache"], words="now itching")  # the phone sent it twice
    report = SignReport.objects.get(patient=patient)
    assert report.signs == ["tone", "itching", "headache"] and report.sends == 2
    assert report.groups == ["withdrawal", "too_much"]
    concern = Concern.objects.get(patient=patient, kind=Concern.Kind.SIGNS_REPORTED)
    assert concern.resolved_at is None and "headaches" in concern.nurse_words
    assert len(mail.outbox) == 1  # one concern, told once
    assert AuditEvent.objects.filter(action=audit.SIGNS_REPORT_REPEATED).count() == 2
    # More than an hour after the last send: a new report, a second concern.
    with time_machine.travel(NIGHT + timedelta(minutes=101), tick=False):
        _report(client, patient, ["nausea"])
    assert SignReport.objects.filter(patient=patient).count() == 2
    assert Concern.objects.open().filter(patient=patient, kind=Concern.Kind.SIGNS_REPORTED).count() == 2


def test_a_parent_of_another_child_gets_404_and_nothing_is_written(client, family, other_parent):
    patient, _caregiver = family
    login_as(client, other_parent)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with time_machine.travel(NIGHT, tick=False):
        assert client.get(reverse("family:signs_report", args=[patient.pk])).status_code == 404
        _report(client, patient, ["tone"], status=404)
    assert not SignReport.objects.exists()
    assert not Concern.objects.filter(kind=Concern.Kind.SIGNS_REPORTED).exists()
    assert AuditEvent.objects.filter(action__startswith="signs.").count() == 0
    # Only the refusals are recorded.
    written = AuditEvent.objects.filter(pk__gt=last).values_list("action", flat=True)
    assert set(written) == {audit.ACCESS_REFUSED}


def test_a_parent_cannot_open_another_familys_report(client, family, other_parent):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(NIGHT, tick=False):
        done = _report(client, patient, ["tone"]).url
    login_as(client, other_parent)
    assert client.get(done).status_code == 404


def test_staff_cannot_report(client, family, nurse):
    patient, _caregiver = family
    login_as(client, nurse)
    assert (
        client.post(reverse("family:signs_report", args=[patient.pk]), {"signs": ["tone"]}).status_code == 403
    )
    assert not SignReport.objects.exists()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Tick at least one sign you see."),
        ({"signs": ["tone", "poison"]}, "Tick the signs from the lists on this page."),
        ({"signs": ["tone"], "words": "x" * 501}, "Please write fewer words"),
        ({"signs": ["tone"], "written_at": "soon"}, ""),
        ({"signs": ["tone"], "written_at": "99999999999999999999"}, ""),
    ],
)
def test_bad_input_gets_a_plain_message_and_writes_nothing(client, family, data, message):
    patient, caregiver = family
    login_as(client, caregiver.user)
    with time_machine.travel(NIGHT, tick=False):
        response = client.post(reverse("family:signs_report", args=[patient.pk]), data)
    if message:
        assert response.status_code == 400
        assert message in response.content.decode()
        assert not SignReport.objects.exists()
    else:  # a bad phone time is no reason to lose the report: the time is dropped, the report kept
        assert response.status_code == 302
        assert SignReport.objects.get().written_at is None


def test_the_time_a_kept_report_was_written_is_kept(client, family):
    patient, caregiver = family
    login_as(client, caregiver.user)
    written = NIGHT - timedelta(minutes=30)
    with time_machine.travel(NIGHT, tick=False):
        data = {"signs": ["tone"], "written_at": str(int(written.timestamp() * 1000))}
        assert client.post(reverse("family:signs_report", args=[patient.pk]), data).status_code == 302
    assert SignReport.objects.get().written_at == written


def test_the_start_page_is_the_form_for_an_only_child_and_a_choice_for_several(client, family):
    patient, caregiver = family
    login_as(client, caregiver.user)
    page = client.get(reverse("family:signs")).content.decode()
    assert reverse("family:signs_report", args=[patient.pk]) in page and 'name="signs"' in page
    second = PatientFactory(clinic=patient.clinic, first_name="Mateo")
    CaregiverLinkFactory(patient=second, caregiver=caregiver)
    page = client.get(reverse("family:signs")).content.decode()
    assert 'name="signs"' not in page
    assert reverse("family:signs_report", args=[second.pk]) in page


def test_report_a_sign_is_one_tap_from_home_child_page_and_emergency_page(client, family):
    patient, caregiver = family
    login_as(client, caregiver.user)
    url = reverse("family:signs_report", args=[patient.pk])
    with time_machine.travel(MORNING, tick=False):
        assert url in client.get(reverse("family:home")).content.decode()
        assert url in client.get(reverse("family:child", args=[patient.pk])).content.decode()
        assert reverse("family:signs") in client.get(reverse("emergency")).content.decode()


def test_the_report_page_is_kept_offline_for_its_parent(client, family):
    patient, caregiver = family
    login_as(client, caregiver.user)
    for url in (reverse("family:signs"), reverse("family:signs_report", args=[patient.pk])):
        assert client.get(url).has_header("X-Offline-Key")


def test_spanish_report_page_and_what_to_do(client, family):
    patient, caregiver = family
    caregiver.preferred_language = "es"
    caregiver.save()
    login_as(client, caregiver.user)
    with time_machine.travel(NIGHT, tick=False):
        page = client.get(reverse("family:signs_report", args=[patient.pk])).content.decode()
        assert "Informar una señal" in page and "Agitación" in page
        done = client.get(_report(client, patient, ["tone"]).url).content.decode()
    assert "Qué hacer ahora" in done
    assert signs.DEFAULT_INSTRUCTIONS["es"]["withdrawal"] in done
    assert "Llamar a la operadora del hospital" in done or "operadora del hospital" in done
