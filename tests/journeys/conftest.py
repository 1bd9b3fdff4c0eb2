"""Browser journeys: Playwright for Python driving Debian's Chromium (/usr/bin/chromium),
never a browser Playwright downloads. Screenshots of each step go to test-artifacts/journeys/."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "journeys"
# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary blocking calls, which Django must be told are fine here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run `bash scripts/system-deps.sh with-browser`"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class Shots:
    """Numbered screenshots of one journey."""

    def __init__(self, name: str):
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    def __call__(self, page, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request):
    return Shots(request.node.name)


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    yield context.new_page()
    context.close()


# --- The people and pumps every journey starts from (demo names, no real-looking identifiers) ---

DEMO_PASSWORD = "Demo-pump-2026!"
TWILIO_TOKEN = "journeys-auth-token-0123456789abcdef"


class Scene:
    """A clinic with three children on the nurse's worklist; Mia's alarm is the closest."""

    def __init__(self):
        from datetime import timedelta
        from decimal import Decimal

        from django.utils import timezone

        from alerts.planning import reminders_replan
        from tests.factories import (
            CaregiverLinkFactory,
            ClinicFactory,
            PatientFactory,
            PumpFactory,
            StaffFactory,
            refill,
        )

        now = timezone.now()
        self.clinic = ClinicFactory(name="Demo Children's Hospital")
        self.nurse = StaffFactory(
            clinic=self.clinic,
            user__email="nurse.rosa@demo.itbportal.test",
            user__first_name="Rosa",
            user__last_name="Demo",
            user__password=DEMO_PASSWORD,
        ).user
        # Mia's last refill is 52 days back: her alarm is 4-5 days ahead and her refill-due date
        # 2-3 days past at every hour of the clinic's day, so she leads the worklist (due passed,
        # urgent; the earliest alarm) whenever the suite runs. At 50 days her refill-due date
        # fell on today or yesterday by the hour, and Lily's "cannot be reached" led in the morning.
        children = [("Mia", "Rivera", 52), ("Noah", "Bennett", 25), ("Lily", "Okafor", 8)]
        self.children = []
        for n, (first, last, days_ago) in enumerate(children):
            child = PatientFactory(
                clinic=self.clinic, first_name=first, last_name=last, mrn=f"DEMO-{1001 + n}"
            )
            self.pump = pump = PumpFactory(patient=child, serial_number=f"DEMO{n:04d}")
            refill(pump, visit_at=now - timedelta(days=days_ago), volume=Decimal(19))
            self.children.append(child)
        self.child = self.children[0]
        self.pump = self.child.pumps.get()
        self.parent = self._parent("ana.rivera", "Ana", "Rivera", "+15555550101")
        CaregiverLinkFactory(caregiver=self.parent.caregiver, patient=self.child)
        self.other_parent = self._parent("dev.bennett", "Dev", "Bennett", "+15555550102")
        CaregiverLinkFactory(caregiver=self.other_parent.caregiver, patient=self.children[1])
        for child in self.children:
            reminders_replan(patient=child, now=now)

    @staticmethod
    def _parent(slug, first, last, mobile):
        from tests.factories import CaregiverFactory

        return CaregiverFactory(
            user__email=f"{slug}@demo.itbportal.test",
            user__first_name=first,
            user__last_name=last,
            user__password=DEMO_PASSWORD,
            mobile=mobile,
        ).user


@pytest.fixture
def scene(live_server):
    return Scene()


@pytest.fixture
def two_factor_key(scene):
    """The nurse's confirmed authenticator with a known key (as if she had scanned the QR code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    key = "3132333435363738393031323334353637383930"  # RFC 6238's test secret, hex
    TOTPDevice.objects.create(user=scene.nurse, name="Phone", key=key, confirmed=True)
    return key


def current_code(key: str) -> str:
    from binascii import unhexlify

    from django_otp.oath import TOTP

    totp = TOTP(unhexlify(key), step=30, t0=0, digits=6, drift=0)
    return f"{totp.token():06d}"


def sign_in(page, base_url: str, email: str, *, shots=None, step="sign-in", totp_key=None) -> None:
    """Through the real login form (and the second step when a key is given)."""
    page.goto(base_url + "/accounts/login/")
    page.fill("#id_username", email)
    page.fill("#id_password", DEMO_PASSWORD)
    if shots:
        shots(page, step)
    page.click("button[type=submit]:has-text('Sign in')")
    page.wait_for_load_state()
    if totp_key:
        page.wait_for_url("**/accounts/2fa/check/**")
        page.fill("#id_token", current_code(totp_key))
        if shots:
            shots(page, "second-factor")
        page.click("button[type=submit]:has-text('Continue')")
        page.wait_for_load_state()


@pytest.fixture
def celery_worker(tmp_path):
    """A real `celery -A itbportal worker` on a private redis-server, against the live server's
    test database; this process's Celery app sends to the same redis while the fixture lasts."""
    from django.db import connection

    from tests.alerts.processes import RedisServer, Worker, broker

    port = next(p for p in range(6380, 6390) if _port_free(p))
    server = RedisServer(port).start()
    db = connection.settings_dict
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        CELERY_BROKER_URL=server.url,
        REDIS_URL=server.url,
    )
    worker = Worker(env, tmp_path / "worker.log").start()
    try:
        worker.wait_ready(60)
        with broker(server.url):
            yield worker
    finally:
        worker.stop()
        server.stop()


def _port_free(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session", autouse=True)
def _reseed_after_journeys(django_db_setup, django_db_blocker):
    """The journeys run on committed data (live_server), and the flush after each one also empties
    what the data migration seeded (the clinic, the staff roles). Put it back at the end of the
    session, so that the next run with --reuse-db starts from the migrated state."""
    yield
    from tests.helpers import reseed_migrated_data

    with django_db_blocker.unblock():
        reseed_migrated_data()
