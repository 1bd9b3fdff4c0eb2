from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import Heartbeat

pytestmark = pytest.mark.django_db


def test_healthz_is_ok_when_database_broker_and_sweep_are_alive(client):
    Heartbeat.objects.create(name="sweep", last_run_at=timezone.now() - timedelta(seconds=30))
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok", "sweep": "ok"}}
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
