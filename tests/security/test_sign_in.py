"""Sign-in: Argon2, password rules, lockout per account and address with a cool-off, reset links
that expire within an hour, a new session key at sign-in."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patients.audit import client_ip
from patients.models import AuditEvent
from tests.factories import PASSWORD, StaffFactory, UserFactory


def _sign_in(client, email, password, **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, **extra)


def test_passwords_are_stored_with_argon2(db, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = UserFactory()
    assert user.password.startswith("argon2")


def test_argon2_is_the_first_hasher_in_the_project_settings():
    from itbportal import settings as project

    assert project.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_staff_need_twelve_characters_and_parents_ten(db):
    nurse = StaffFactory().user
    parent = UserFactory()
    with pytest.raises(ValidationError):
        password_validation.validate_password("Plum-tree4", user=nurse)  # 10 characters: too short for staff
    password_validation.validate_password("Plum-tree4", user=parent)  # 10 characters: fine for a parent
    password_validation.validate_password("Plum-tree-41", user=nurse)  # 12 characters: fine for staff


def test_a_common_password_is_refused(db):
    with pytest.raises(ValidationError):
        password_validation.validate_password("password1234", user=UserFactory())


def test_five_wrong_passwords_pause_sign_in_for_that_account_on_that_address(db):
    user = UserFactory()
    client = Client(REMOTE_ADDR="10.0.0.5")
    for _ in range(4):
        assert _sign_in(client, user.email, "wrong-password-123").status_code == 200
    assert _sign_in(client, user.email, "wrong-password-123").status_code == 429  # the fifth
    locked = _sign_in(client, user.email, PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert "Sign-in is paused for 15 minutes" in locked.content.decode()  # AXES_COOLOFF_TIME, said
    # Another address is not locked out: the lock is per account AND address.
    assert _sign_in(Client(REMOTE_ADDR="10.0.0.6"), user.email, PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(db):
    user = UserFactory()
    client = Client(REMOTE_ADDR="10.0.0.7")
    for _ in range(5):
        _sign_in(client, user.email, "wrong-password-123")
    assert _sign_in(client, user.email, PASSWORD).status_code == 429
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - timedelta(minutes=16)
        )
    assert _sign_in(client, user.email, PASSWORD).status_code == 302


def test_behind_a_proxy_the_lockout_uses_the_forwarded_client_address(db, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.9.9.9"]
    user = UserFactory()
    proxy = Client(REMOTE_ADDR="10.9.9.9")
    for _ in range(5):
        _sign_in(proxy, user.email, "wrong-password-123", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert _sign_in(proxy, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Same proxy, another family's address: not locked out.
    assert _sign_in(proxy, user.email, PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 302


def test_the_client_address_ignores_what_the_client_puts_left_of_the_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["10.9.9.0/24"]
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7")
    assert client_ip(request) == "203.0.113.7"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.9.9.9"


def test_password_reset_links_stop_working_after_an_hour(db, settings):
    assert settings.PASSWORD_RESET_TIMEOUT <= 3600
    user = UserFactory()
    generator = PasswordResetTokenGenerator()
    from datetime import datetime

    issued = datetime(2026, 11, 23, 12, 0)
    generator._now = lambda: issued
    token = generator.make_token(user)
    generator._now = lambda: issued + timedelta(minutes=59)
    assert generator.check_token(user, token)
    generator._now = lambda: issued + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    assert not generator.check_token(user, token)


def test_signing_in_gives_a_new_session_key_and_drops_the_old_one(db):
    user = UserFactory()
    client = Client()
    session = client.session
    session["language_hint"] = "es"
    session.save()
    before = session.session_key
    assert _sign_in(client, user.email, PASSWORD).status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()


def test_sign_in_success_and_failure_are_audited_without_the_password(db):
    user = UserFactory()
    client = Client(REMOTE_ADDR="192.0.2.10")
    _sign_in(client, user.email, "wrong-password-123")
    _sign_in(client, user.email, PASSWORD)
    failed = AuditEvent.objects.get(action="auth.sign_in_failed")
    assert (
        failed.outcome == "failed" and failed.actor_label == user.email and failed.ip_address == "192.0.2.10"
    )
    ok = AuditEvent.objects.get(action="auth.sign_in")
    assert ok.actor == user and ok.outcome == "ok"
    assert not AuditEvent.objects.filter(actor_label__icontains="wrong-password").exists()


def test_a_known_and_an_unknown_address_get_the_same_answer_with_the_same_work(
    db, celery_eager, django_capture_on_commit_callbacks
):
    """The reset e-mail is looked up and sent by a task after the response: while the person waits,
    a known address and an unknown one run the same queries and send nothing."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = UserFactory()
    answers = []
    for email in (user.email, "nobody-here@example.test"):
        sent_before = len(mail.outbox)
        with django_capture_on_commit_callbacks() as queued, CaptureQueriesContext(connection) as queries:
            response = Client().post(reverse("password_reset"), {"email": email})
        assert len(mail.outbox) == sent_before  # nothing sent during the request
        answers.append((response.status_code, response["Location"], len(queries), len(queued)))
        for callback in queued:
            callback()  # the queued task runs (eagerly here, in a worker in production)
    assert answers[0] == answers[1]
    assert [m.to for m in mail.outbox] == [[user.email]]


def test_x_forwarded_for_is_believed_only_from_the_configured_proxy(rf, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_ADDRESSES = ["172.30.0.10"]
    through_proxy = rf.get("/", REMOTE_ADDR="172.30.0.10", HTTP_X_FORWARDED_FOR="203.0.113.7")
    direct = rf.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(through_proxy) == "203.0.113.7"
    assert client_ip(direct) == "198.51.100.9"  # a forged header from anywhere else is ignored


def test_failures_from_many_addresses_pause_the_account_for_a_short_while_only(db, settings):
    settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT = 6
    user = UserFactory()
    start = timezone.now()
    for n in range(6):  # one failure from each of six addresses: no single address is locked
        with time_machine.travel(start + timedelta(seconds=n), tick=False):
            _sign_in(Client(REMOTE_ADDR=f"192.0.2.{n + 1}"), user.email, "wrong-password-123")
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        paused = _sign_in(Client(REMOTE_ADDR="198.51.100.20"), user.email, PASSWORD)
    assert paused.status_code == 200 and "paused" in paused.content.decode()
    # It says how long: the pause began at the last failure (5 s) and lasts 5 minutes.
    assert "paused for 5 more minutes" in paused.content.decode()
    with time_machine.travel(start + timedelta(minutes=4, seconds=30), tick=False):
        one = _sign_in(Client(REMOTE_ADDR="198.51.100.20", HTTP_ACCEPT_LANGUAGE="es"), user.email, PASSWORD)
    assert "en pausa 1 minuto más" in one.content.decode()  # and in Spanish
    assert AuditEvent.objects.filter(action="auth.locked_out", object_type="account").exists()
    after = start + timedelta(seconds=5) + settings.SIGN_IN_ACCOUNT_PAUSE + timedelta(seconds=1)
    with time_machine.travel(after, tick=False):
        response = _sign_in(Client(REMOTE_ADDR="198.51.100.20"), user.email, PASSWORD)
        assert response.status_code == 302, response.content.decode()[-3000:]


def test_one_address_trying_many_accounts_is_paused(db, settings):
    settings.SIGN_IN_ADDRESS_FAILURE_LIMIT = 4
    users = [UserFactory() for _ in range(5)]
    client = Client(REMOTE_ADDR="203.0.113.66")
    for user in users[:4]:
        _sign_in(client, user.email, "wrong-password-123")
    paused = _sign_in(client, users[4].email, PASSWORD)
    assert paused.status_code == 200 and "paused for 15 more minutes" in paused.content.decode()
    assert _sign_in(Client(REMOTE_ADDR="203.0.113.67"), users[4].email, PASSWORD).status_code == 302


def test_a_lockout_is_audited(db):
    user = UserFactory()
    client = Client(REMOTE_ADDR="10.0.0.8")
    for _ in range(5):
        _sign_in(client, user.email, "wrong-password-123")
    event = AuditEvent.objects.get(action="auth.locked_out")
    assert event.actor_label == user.email and event.outcome == "refused" and event.ip_address == "10.0.0.8"
