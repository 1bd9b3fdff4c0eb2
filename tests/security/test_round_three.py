"""Security and privacy, round three (issue 22), each point tried as an attacker or a curious
nurse would: the ladder's texts and answers, the voice line, the number codes, which e-mails are
parents, spread sign-in guessing, the 500s at the edges, and the audit guard's switch."""

from __future__ import annotations

import csv
import html
import io
import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import DatabaseError, connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.inbound import sms_inbound_receive
from alerts.models import Concern, LadderStep, SmsMessage, WebhookReceipt
from alerts.sms import locmem
from patients.contact import (
    PROOF_CODES_PER_ACCOUNT,
    PROOF_CODES_PER_NUMBER,
    PROOF_WRONG_TRIES_PER_ACCOUNT,
    ProofError,
    ProofLimitError,
    mobile_proof_check,
    mobile_proof_start,
)
from patients.models import Caregiver, LinkInvitation, MobileProof
from patients.registration import caregiver_link_deactivate
from tests.console.test_refill import _data as refill_form_data
from tests.factories import CaregiverFactory, UserFactory
from tests.helpers import login_as

AUTH_TOKEN = "round-three-auth-token-0123456789"
PUBLIC = "https://portal.example.org"


@pytest.fixture
def signed(settings):
    """Sign webhook posts as Twilio does: an attacker holding one signed request replays it."""
    from twilio.request_validator import RequestValidator

    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = PUBLIC
    return lambda path, params: RequestValidator(AUTH_TOKEN).compute_signature(PUBLIC + path, params)


def _figures_now(client) -> dict:
    """This month's row of /staff/figures.csv, as numbers by column."""
    response = client.get(reverse("staff:figures_csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    return dict(zip(rows[0], rows[-1], strict=True))


# 1. Ladder texts carry their child ------------------------------------------------------------


def test_a_ladder_text_to_a_parent_of_two_clinics_counts_and_shows_only_at_the_childs_clinic(
    world, persona_client
):
    ladder_sms = world.ladder_step_a.sms_message
    assert ladder_sms is not None and ladder_sms.patient_id == world.child_a.pk
    a, b = _figures_now(persona_client("nurse_a")), _figures_now(persona_client("nurse_b"))
    # Clinic A: the reminder TXTMARK-A1 and the ladder text. Clinic B: its reminder TXTMARK-B2 only.
    assert (a["texts_sent"], a["ladder_texts"]) == ("2", "1")
    assert (b["texts_sent"], b["ladder_texts"]) == ("1", "0")
    assert ladder_sms in SmsMessage.objects.for_clinic(world.child_a.clinic)
    assert ladder_sms not in SmsMessage.objects.for_clinic(world.other_clinic)
    outbox_b = persona_client("nurse_b").get(reverse("alerts:outbox")).content.decode()
    outbox_a = persona_client("nurse_a").get(reverse("alerts:outbox")).content.decode()
    first_words = html.escape(ladder_sms.body.split(".")[0])
    assert first_words in outbox_a and first_words not in outbox_b


def test_the_answer_to_a_ladder_text_carries_the_child_and_stays_at_its_clinic(world, persona_client):
    parent = world.parent_a.caregiver
    before_b = _figures_now(persona_client("nurse_b"))
    reply = sms_inbound_receive(
        from_number=str(parent.mobile), to_number="+17205550100", body="1", message_sid="SMreply3"
    )
    assert reply  # the ladder's thanks
    rows = SmsMessage.objects.filter(created_at__gte=world.ladder_step_a.at, body__in=["1", reply])
    assert {row.patient_id for row in rows} == {world.child_a.pk} and rows.count() == 2
    clinic_b = SmsMessage.objects.for_clinic(world.other_clinic)
    assert not clinic_b.filter(pk__in=rows.values("pk")).exists()
    assert _figures_now(persona_client("nurse_b")) == before_b


# 2. A replayed button press acts once, on its own step -----------------------------------------


def _call_step(concern, caregiver, sid, at):
    return LadderStep.objects.create(
        concern=concern, rung="call", at=at, caregiver=caregiver, call_sid=sid, call_status="queued"
    )


def _new_danger(world, at):
    fields = {"clinic": world.child_a.clinic, "patient": world.child_a, "tier": "critical", "tier_rank": 0,
              "needs_nurse": True, "began_at": at, "opened_at": at, "updated_at": at}  # fmt: skip
    return Concern.objects.create(kind="alarm_passed", key=f"new-{at.timestamp()}", nurse_words="x", **fields)


def test_a_replayed_press_does_not_stop_a_newer_ladder(world, client, signed):
    t0 = timezone.now()
    call = _call_step(world.ladder_concern_a, world.parent_a.caregiver, "CAold0001", t0)
    path = reverse("alerts:voice_gather") + f"?step={call.pk}"
    press = {"CallSid": "CAold0001", "Digits": "1"}
    first = client.post(path, press, HTTP_X_TWILIO_SIGNATURE=signed(path, press))
    assert first.status_code == 200
    assert world.ladder_concern_a.ladder_steps.filter(rung="stopped").exists()
    # A new danger begins after the call; its ladder starts.
    newer = _new_danger(world, t0 + timedelta(hours=2))
    LadderStep.objects.create(concern=newer, rung="text", at=t0 + timedelta(hours=2))
    for _ in range(3):  # the attacker replays the old call's signed "1"
        assert client.post(path, press, HTTP_X_TWILIO_SIGNATURE=signed(path, press)).status_code == 200
    assert not newer.ladder_steps.filter(rung="stopped").exists()
    assert WebhookReceipt.objects.filter(kind="press", message_sid="CAold0001").count() == 1


def test_a_press_naming_another_call_or_step_does_nothing(world, client, signed):
    t0 = timezone.now()
    call = _call_step(world.ladder_concern_a, world.parent_a.caregiver, "CAreal0002", t0)
    for step_id, sid in ((call.pk, "CAforged999"), (world.ladder_step_a.pk, "CAreal0002"), (call.pk, "")):
        path = reverse("alerts:voice_gather") + f"?step={step_id}"
        press = {"CallSid": sid, "Digits": "1"}
        response = client.post(path, press, HTTP_X_TWILIO_SIGNATURE=signed(path, press))
        assert response.status_code == 200 and b"Thank" not in response.content
    assert not world.ladder_concern_a.ladder_steps.filter(rung="stopped").exists()


def test_a_replayed_call_status_acts_once(world, client, signed):
    call = _call_step(world.ladder_concern_a, world.parent_a.caregiver, "CAstat0003", timezone.now())
    path = reverse("alerts:voice_status") + f"?step={call.pk}"
    status = {"CallSid": "CAstat0003", "CallStatus": "no-answer"}
    for _ in range(2):
        assert client.post(path, status, HTTP_X_TWILIO_SIGNATURE=signed(path, status)).status_code == 204
    call.refresh_from_db()
    assert call.error == "call no-answer"
    assert WebhookReceipt.objects.filter(kind="call_status", message_sid="CAstat0003").count() == 1
    # Another call's SID on this step's URL changes nothing.
    other = {"CallSid": "CAother", "CallStatus": "completed"}
    client.post(path, other, HTTP_X_TWILIO_SIGNATURE=signed(path, other))
    call.refresh_from_db()
    assert call.call_status == "no-answer"


# 3. A removed caregiver's answer does nothing ---------------------------------------------------


def test_a_removed_caregivers_reply_and_press_stop_nothing(world, client, signed):
    parent = world.parent_a.caregiver
    call = _call_step(world.ladder_concern_a, parent, "CAremoved04", timezone.now())
    caregiver_link_deactivate(link=world.link_a, by=world.nurse_a)
    # Parent A is still linked at clinic B (child A2), so the number still finds a caregiver.
    path = reverse("alerts:twilio_inbound")
    reply = {"From": str(parent.mobile), "To": "+17205550100", "Body": "1", "MessageSid": "SMremoved1"}
    response = client.post(path, reply, HTTP_X_TWILIO_SIGNATURE=signed(path, reply))
    assert response.status_code == 200 and b"Thank you" not in response.content
    path = reverse("alerts:voice_gather") + f"?step={call.pk}"
    press = {"CallSid": "CAremoved04", "Digits": "1"}
    client.post(path, press, HTTP_X_TWILIO_SIGNATURE=signed(path, press))
    assert not world.ladder_concern_a.ladder_steps.filter(rung="stopped").exists()
    world.ladder_step_a.refresh_from_db()
    assert world.ladder_step_a.answer == ""


def test_a_reply_from_a_caregiver_who_cannot_receive_texts_stops_nothing(world):
    parent = world.parent_a.caregiver
    Caregiver.objects.filter(pk=parent.pk).update(sms_consent=False)
    sms_inbound_receive(
        from_number=str(parent.mobile), to_number="+17205550100", body="1", message_sid="SMnc"
    )
    assert not world.ladder_concern_a.ladder_steps.filter(rung="stopped").exists()


# 4. Number codes are capped ---------------------------------------------------------------------

LIMIT_EN = "For your safety, no more codes can be sent or checked today."
LIMIT_ES = "Por su seguridad, hoy no se pueden enviar ni comprobar más códigos."


def _texts_form(language, mobile):
    return {"mobile": mobile, "sms_consent": "on", "preferred_language": language,
            "quiet_hours_start": "21:00", "quiet_hours_end": "08:00"}  # fmt: skip


@pytest.mark.parametrize(("language", "words"), [("en", LIMIT_EN), ("es", LIMIT_ES)])
def test_new_numbers_and_resends_stop_at_the_days_cap_with_plain_words(world, language, words):
    parent = world.parent_a
    Caregiver.objects.filter(pk=parent.caregiver.pk).update(preferred_language=language)
    client = Client()
    login_as(client, parent)
    locmem.outbox.clear()
    for n in range(PROOF_CODES_PER_ACCOUNT):
        client.post(reverse("family:texts"), _texts_form(language, f"+1801555{7100 + n}"))
    assert MobileProof.objects.filter(caregiver=parent.caregiver).count() == PROOF_CODES_PER_ACCOUNT
    sent = len(locmem.outbox)
    page = client.post(reverse("family:texts"), _texts_form(language, "+18015557999"), follow=True)
    assert words in page.content.decode()
    resend = client.post(reverse("family:mobile_verify"), {"resend": "1"}, follow=True)
    assert words in resend.content.decode()
    assert MobileProof.objects.filter(caregiver=parent.caregiver).count() == PROOF_CODES_PER_ACCOUNT
    assert len(locmem.outbox) == sent  # no more codes texted
    # A day later the parent may try again.
    later = timezone.now() + timedelta(hours=24, minutes=1)
    proof = mobile_proof_start(caregiver=parent.caregiver, mobile="+18015557999", consent=True,
                               source="portal", by=parent, now=later)  # fmt: skip
    assert proof.pk


def test_one_number_gets_at_most_the_days_codes_from_any_accounts(db):
    victim = "+18015556543"
    now = timezone.now()
    for _ in range(PROOF_CODES_PER_NUMBER):
        mobile_proof_start(caregiver=CaregiverFactory(), mobile=victim, consent=False, source="portal",
                           by=None, now=now)  # fmt: skip
    with pytest.raises(ProofLimitError):
        mobile_proof_start(caregiver=CaregiverFactory(), mobile=victim, consent=False, source="portal",
                           by=None, now=now)  # fmt: skip


def test_wrong_tries_are_capped_per_account_across_fresh_codes(db):
    caregiver = CaregiverFactory()
    now = timezone.now()
    tries = 0
    for n in range(PROOF_CODES_PER_ACCOUNT):
        try:
            proof = mobile_proof_start(caregiver=caregiver, mobile=f"+1801555{6200 + n}", consent=False,
                                       source="portal", by=None, now=now)  # fmt: skip
        except ProofLimitError:
            break
        for _ in range(5):
            try:
                mobile_proof_check(proof=proof, code="000000", by=caregiver.user, now=now)
            except ProofLimitError:
                break
            except ProofError:
                tries += 1
    assert tries == PROOF_WRONG_TRIES_PER_ACCOUNT
    # Even the right code is refused now (it is not compared), and no new code is texted.
    with pytest.raises(ProofLimitError):
        mobile_proof_start(caregiver=caregiver, mobile="+18015556299", consent=False, source="portal",
                           by=None, now=now)  # fmt: skip


def _in_threads(count, work):
    """Run `work(i)` on `count` threads at once, each with its own database connection."""
    barrier, results = threading.Barrier(count), []

    def run(i):
        try:
            barrier.wait()
            results.append(work(i))
        except Exception as error:  # noqa: BLE001 - gathered for the assertion
            results.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_code_requests_and_guesses_cannot_pass_the_caps():
    assert connection.vendor == "postgresql"
    caregiver = CaregiverFactory()
    now = timezone.now()

    def start(i):
        fresh = Caregiver.objects.get(pk=caregiver.pk)
        return mobile_proof_start(caregiver=fresh, mobile=f"+1801555{6300 + i}", consent=False,
                                  source="portal", by=None, now=now)  # fmt: skip

    results = _in_threads(12, start)
    assert sum(isinstance(r, MobileProof) for r in results) == PROOF_CODES_PER_ACCOUNT
    assert sum(isinstance(r, ProofLimitError) for r in results) == 12 - PROOF_CODES_PER_ACCOUNT
    assert MobileProof.objects.filter(caregiver=caregiver).count() == PROOF_CODES_PER_ACCOUNT

    # Another account, its codes guessed from 16 threads at once across two codes.
    other = CaregiverFactory()
    old = mobile_proof_start(caregiver=other, mobile="+18015556401", consent=False, source="portal", by=None,
                             now=now)  # fmt: skip
    MobileProof.objects.filter(pk=old.pk).update(attempts=4)
    proof = mobile_proof_start(caregiver=other, mobile="+18015556402", consent=False, source="portal",
                               by=None, now=now)  # fmt: skip

    def guess(i):
        return mobile_proof_check(proof=proof, code=f"{999000 + i}", by=other.user, now=now)

    _in_threads(16, guess)
    total = sum(MobileProof.objects.filter(caregiver=other).values_list("attempts", flat=True))
    assert total <= PROOF_WRONG_TRIES_PER_ACCOUNT


# 5. Which e-mails are parents --------------------------------------------------------------------


def _pending_list(html: str, email: str) -> str:
    section = html.split("Waiting for the parent to accept", 1)[1].split("</ul>", 1)[0]
    return section.replace(email, "EMAIL")


def test_link_an_existing_account_answers_the_same_for_a_parent_a_stranger_and_a_nurse(
    world, django_capture_on_commit_callbacks
):
    """Nurse B (another clinic) probes e-mails on her own child's page."""
    client = Client()
    login_as(client, world.nurse_b)
    patient = world.child_in_other_clinic
    url = reverse("staff:caregivers", args=[patient.pk])
    answers = []
    mail.outbox.clear()
    for email in (world.parent_a.email, "nobody-at-all@example.test", world.nurse_a.email):
        form = {"link": "1", "link-email": email, "link-relationship": "father"}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, form)
        page = client.get(response["Location"], follow=True).content.decode()
        chart_message = re.findall(r"Invitation e-mailed[^<]*", page)
        after = client.get(url).content.decode()
        answers.append(
            (response.status_code, response["Location"], chart_message, _pending_list(after, email))
        )
    assert answers[0][:3] == answers[1][:3] == answers[2][:3]
    assert answers[0][3].count("EMAIL") == 1
    assert LinkInvitation.objects.filter(patient=patient).count() == 3
    # Only the real parent gets an e-mail; nothing is linked before they accept.
    assert [m.to for m in mail.outbox if "add a child" in m.subject] == [[world.parent_a.email]]
    assert not patient.caregiver_links.filter(caregiver=world.parent_a.caregiver).exists()


# 6. Sign-in guessing spread across addresses -------------------------------------------------------


def _sign_in(address: str, email: str, password: str):
    return Client(REMOTE_ADDR=address).post(reverse("login"), {"username": email, "password": password})


def test_a_spread_guesser_gets_far_fewer_than_100_tries_an_hour_and_the_owner_is_told_once(
    db, settings, django_capture_on_commit_callbacks, celery_eager
):
    user = UserFactory()
    user.set_password("The-right-one-2026!")
    user.save()
    start = timezone.now().replace(microsecond=0)
    failures = refused = 0
    mail.outbox.clear()
    for second in range(0, 3600, 20):  # a guess every 20 s from a new address: 180 tries
        with (
            time_machine.travel(start + timedelta(seconds=second), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = _sign_in(f"198.51.{second // 250}.{second % 250 + 1}", user.email, "wrong-guess-123")
        if "paused" in response.content.decode():
            refused += 1
        else:
            failures += 1
    assert failures <= 100 and failures <= 4 * settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT
    assert refused > 0
    told = [m for m in mail.outbox if m.to == [user.email]]
    assert len(told) == 1 and "paused" in told[0].subject
    assert "signing in is paused for 5 minutes" in told[0].body  # the first pause: how long, said
    # The pauses grow: the pause after the first 10 failures is shorter than a later one.
    with time_machine.travel(start + timedelta(seconds=3600), tick=False):
        right = _sign_in("192.0.2.200", user.email, "The-right-one-2026!")
    assert "paused" in right.content.decode()  # still paused: even the right password waits


def test_ten_failures_from_ten_addresses_pause_the_account_even_for_the_right_password(db):
    user = UserFactory()
    user.set_password("The-right-one-2026!")
    user.save()
    start = timezone.now()

    def attempt(second, address, password):
        with time_machine.travel(start + timedelta(seconds=second), tick=False):
            return _sign_in(address, user.email, password)

    for n in range(9):
        attempt(n, f"203.0.113.{n + 1}", "wrong-guess-123")
    assert attempt(10, "203.0.113.50", "The-right-one-2026!").status_code == 302
    for n in range(10):  # the success reset the count; ten more failures pause it
        attempt(11 + n, f"203.0.113.{n + 11}", "wrong-guess-123")
    assert "paused" in attempt(30, "203.0.113.60", "The-right-one-2026!").content.decode()
    assert attempt(20 + 6 * 60, "203.0.113.61", "The-right-one-2026!").status_code == 302


# 7. No 500 at the edges ---------------------------------------------------------------------------


def test_the_language_switch_with_a_hostile_next_goes_home(world, persona_client):
    client = persona_client("parent_a")
    for target in ("Infinity", "NaN", "family:home", "//evil.example/", "https://evil.example/", "/family/"):
        response = client.post(reverse("family:language"), {"language": "es", "next": target})
        assert response.status_code == 302
        assert response["Location"] in (reverse("family:home"), "/family/")


def test_far_future_and_before_implant_dates_get_a_message_not_a_500(world, persona_client):
    client = persona_client("nurse_a")
    child = world.child_a
    url = reverse("staff:visit_preview", args=[child.pk, "programming"])
    far = client.post(url, refill_form_data(visit_at="9999-12-31T10:00"))
    assert far.status_code == 200
    assert "cannot be more than a year ahead" in far.json()["errors"]["visit_at"][0]
    before = client.post(url, refill_form_data(visit_at="1990-01-01T10:00"))
    assert "cannot be before the pump's implant" in before.json()["errors"]["visit_at"][0]
    appointment = client.post(url, refill_form_data(next_appointment_at="9999-12-31T10:00"))
    assert appointment.status_code == 200
    assert "more than two years ahead" in appointment.json()["errors"]["next_appointment_at"][0]
    new = reverse("staff:patient_new_preview")
    for field in ("implant_date", "fill-visit_at"):
        value = "9999-12-31" if field == "implant_date" else "9999-12-31T10:00"
        response = client.post(new, {"implant_date": "2026-01-05", "model": "sm2_40", field: value,
                                     "fill-volume_after_ml": "38", "fill-concentration_mcg_ml": "500",
                                     "fill-mode": "simple", "fill-daily_dose_mcg": "100",
                                     "fill-alarm_volume_ml": "2.0"})  # fmt: skip
        assert response.status_code == 200 and response.json()["ok"] is False
    book = client.post(
        reverse("staff:appointment_book", args=[child.pk]),
        {"kind": "refill", "start": "9999-12-31T10:00", "duration_minutes": "30"},
    )
    assert book.status_code == 200 and "more than two years ahead" in book.content.decode()


# 8. The audit guard's switch --------------------------------------------------------------------


def test_a_role_that_is_not_the_benchs_cannot_empty_the_audit_table(world):
    from patients import audit
    from patients.models import AuditEvent

    audit.audit_record(actor=world.nurse_a, action="chart.viewed", obj=world.child_a)
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'itbportal_app_like') "
            "THEN CREATE ROLE itbportal_app_like NOLOGIN; END IF; END $$"
        )
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending FK checks
        cursor.execute("GRANT SELECT, INSERT, TRUNCATE ON patients_auditevent TO itbportal_app_like")
        cursor.execute("SET LOCAL ROLE itbportal_app_like")  # as the app's own role would be
        cursor.execute("SET LOCAL itbportal.audit_truncate_allowed = 'on'")  # it flips the switch
        cursor.execute("TRUNCATE patients_auditevent")
    assert AuditEvent.objects.exists()


def test_the_benchs_role_can_empty_the_audit_table(world):
    from patients import audit
    from patients.models import AuditEvent

    class Undo(Exception):
        pass

    audit.audit_record(actor=world.nurse_a, action="chart.viewed", obj=world.child_a)
    with pytest.raises(Undo), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's own pending FK checks
        cursor.execute("GRANT TRUNCATE ON patients_auditevent TO itbportal_audit_eraser")
        cursor.execute("SET LOCAL ROLE itbportal_audit_eraser")
        cursor.execute("SET LOCAL itbportal.audit_truncate_allowed = 'on'")
        cursor.execute("TRUNCATE patients_auditevent")
        cursor.execute("RESET ROLE")
        assert not AuditEvent.objects.exists()
        raise Undo
    assert AuditEvent.objects.exists()
