from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_broker_and_sweep_are_alive(client):
    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now() - timedelta(seconds=30))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": "ok",
            "broker": "ok",
            "sweep": "ok",
            "texting": "ok",
            "db_pool": "ok",
            "backup": "not configured",
        },
    }
    assert response["Cache-Control"] == "no-store"


def test_healthz_says_the_sweep_is_stale_after_five_minutes(client):
    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now() - timedelta(minutes=6))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["sweep"].startswith("stale")


def test_healthz_says_the_sweep_never_ran(client):
    assert client.get("/healthz").json()["checks"]["sweep"] == "never ran"


def test_healthz_reports_an_unreachable_broker(client, settings):
    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now())
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"].startswith("error")


def test_healthz_and_the_texts_page_say_a_clinic_s_texts_are_held(client, clinic, nurse):
    from django.urls import reverse

    from alerts.holds import hold_raise
    from tests.helpers import login_as

    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now())
    hold_raise(clinic_id=clinic.pk, code=20003, reason="20003: Authenticate")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["texting"] == "held: Twilio refuses texts for 1 clinic(s) (error 20003)"
    page = login_as(client, nurse).get(reverse("alerts:outbox"))
    assert b'data-testid="sending-hold"' in page.content and b"20003: Authenticate" in page.content


def test_healthz_says_when_a_sending_thread_waited_in_vain_for_a_database_connection(client):
    from alerts.send_pool import pool_exhausted_record

    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now())
    pool_exhausted_record()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["db_pool"].startswith("exhausted: a sending thread waited in vain")
    Heartbeat.objects.filter(name="db_pool_exhausted").update(
        last_run_at=timezone.now() - timedelta(minutes=6)
    )
    assert client.get("/healthz").json()["checks"]["db_pool"] == "ok"
