"""Fixtures for the reminder engine: a child with known dates, the locmem outbox, fake Twilio."""

from __future__ import annotations

import os
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from pumps.models import RefillVisit
from tests.alerts.processes import RedisServer, Worker, free_redis_port
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill
from tests.fakes.twilio_api import FakeTwilio

DENVER = ZoneInfo("America/Denver")
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token-0123456789abcdef"


def at(y, m, d, hh=12, mm=0) -> datetime:
    """An aware instant at clinic local time."""
    return datetime(y, m, d, hh, mm, tzinfo=DENVER)


def set_dates(patient, *, refill_due: date, alarm: datetime) -> RefillVisit:
    """Pin the latest visit's stored dates (the forecast itself is tested in tests/pumps)."""
    visit = RefillVisit.objects.filter(pump__patient=patient).order_by("-visit_at").first()
    RefillVisit.objects.filter(pk=visit.pk).update(refill_due=refill_due, alarm_at_worst=alarm)
    visit.refresh_from_db()
    return visit


def make_child(clinic, *, first_name="Sofia", caregivers=1, language="en", visit_at=None, **caregiver_fields):
    patient = PatientFactory(clinic=clinic, first_name=first_name)
    refill(PumpFactory(patient=patient), visit_at=visit_at or at(2026, 11, 1, 9))
    for _ in range(caregivers):
        CaregiverLinkFactory(
            patient=patient,
            caregiver__preferred_language=language,
            **{f"caregiver__{k}": v for k, v in caregiver_fields.items()},
        )
    return patient


def fail_once(monkeypatch, module, name: str, error: str) -> list:
    """The first call of module.<name> raises RuntimeError(error); the list says whether it did."""
    working = getattr(module, name)
    failures = []

    def once(*args, **kwargs):
        if not failures:
            failures.append(1)
            raise RuntimeError(error)
        return working(*args, **kwargs)

    monkeypatch.setattr(module, name, once)
    return failures


def refill_text(clinic, *, first_name="Sofia"):
    """A child's planned "refill due in 14 days" text (due Nov 16 2026, 10:00 clinic time)."""
    from alerts.models import Reminder
    from alerts.planning import reminders_replan

    patient = make_child(clinic, first_name=first_name)
    set_dates(patient, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    reminders_replan(patient=patient, now=at(2026, 11, 2, 8))
    return Reminder.objects.get(patient=patient, kind="refill_due", offset_days=14)


def texts_to_distinct_caregivers(n: int, *, send_after: datetime):
    """n reminders due at `send_after`, each to its own caregiver without quiet hours (so the
    texts can be told apart by number, at any hour)."""
    from datetime import time, timedelta

    from alerts.models import Reminder
    from tests.factories import CaregiverFactory

    patient = PatientFactory()
    pump = PumpFactory(patient=patient)
    rows = []
    for i in range(n):
        caregiver = CaregiverFactory(quiet_hours_start=time(0), quiet_hours_end=time(0))
        CaregiverLinkFactory(caregiver=caregiver, patient=patient)
        rows.append(
            Reminder(
                patient=patient,
                pump=pump,
                caregiver=caregiver,
                kind="refill_due",
                target_date=date(2030, 1, 1) + timedelta(days=i),
                offset_days=1,
                send_after=send_after,
            )
        )
    return Reminder.objects.bulk_create(rows)


@pytest.fixture
def fake_twilio(settings):
    fake = FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, timeout_sleep=1.5).start()
    settings.SMS_BACKEND = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "1" * 32
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.TWILIO_TIMEOUT_SECONDS = 0.7
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    yield fake
    fake.stop()


@pytest.fixture
def redis_server():
    server = RedisServer(free_redis_port()).start()
    yield server
    server.stop()


@pytest.fixture
def worker_env(fake_twilio, redis_server):
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DEBUG="false",
        SECRET_KEY="test-secret-key-not-for-production",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=redis_server.url,
        REDIS_URL=redis_server.url,
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32,
        TWILIO_API_BASE_URL=fake_twilio.base_url,
        TWILIO_TIMEOUT_SECONDS="20",
        PUBLIC_BASE_URL="https://portal.example.org",
    )
    return env


@pytest.fixture
def workers(worker_env, tmp_path):
    started = []

    def start(concurrency: int = 1, **extra_env):
        log = tmp_path / f"worker{len(started)}.log"
        worker = Worker({**worker_env, **extra_env}, log, concurrency).start()
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def signed(settings):
    """Sign webhook posts as Twilio does (with the public URL, behind the proxy)."""
    from twilio.request_validator import RequestValidator

    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.PUBLIC_BASE_URL = "https://portal.example.org"

    def sign(path: str, params: dict) -> str:
        return RequestValidator(AUTH_TOKEN).compute_signature("https://portal.example.org" + path, params)

    return sign


@pytest.fixture(scope="session", autouse=True)
def _reseed_after_transactional_tests(django_db_setup, django_db_blocker):
    """The fault tests need committed data (transaction=True), and their flush also empties what
    the data migration seeded (the clinic, the staff roles). Put it back at the end of the session
    so that a later run with --reuse-db starts from the migrated state."""
    yield
    from tests.helpers import reseed_migrated_data

    with django_db_blocker.unblock():
        reseed_migrated_data()
