"""/healthz: is the portal able to keep its promise right now?

Checks the database, the Celery broker, that the reminder sweep ran in the last 5 minutes, that
no clinic's texts are held by a Twilio configuration error (alerts.holds), and that the database
connection pool (DB_POOL_MAX_SIZE) is not exhausted: this process's pool has requests waiting
with no connection free, or a worker's sending thread waited in vain for one in the last 5 minutes,
and the age of the last good backup (itbportal/backups.py: "not configured" passes; older than
26 hours, none, or pgBackRest unreadable fails). Answers 200 with "ok" lines, or 503 naming
what is wrong (no health data, nothing secret).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from kombu import Connection

SWEEP_STALE_AFTER = timedelta(minutes=5)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return "ok"


def _broker() -> str:
    with Connection(
        settings.CELERY_BROKER_URL, transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS
    ) as conn:
        conn.ensure_connection(max_retries=1, timeout=3)
    return "ok"


def _sweep() -> str:
    from alerts.models import Heartbeat

    beat = Heartbeat.objects.filter(name="sweep").first()
    if beat is None:
        return "never ran"
    if timezone.now() - beat.last_run_at > SWEEP_STALE_AFTER:
        return f"stale: last ran {beat.last_run_at.isoformat()}"
    return "ok"


def _texting() -> str:
    """Whether Twilio refuses the texts of a clinic (alerts.holds): nothing goes out there."""
    from alerts.holds import holds_open

    held = holds_open()
    if not held:
        return "ok"
    codes = ", ".join(sorted({str(h.code) for h in held if h.code})) or "?"
    return f"held: Twilio refuses texts for {len(held)} clinic(s) (error {codes})"


def _db_pool() -> str:
    from alerts.models import Heartbeat
    from alerts.send_pool import POOL_EXHAUSTED, pool_stats

    stats = pool_stats()
    if stats and stats.get("requests_waiting", 0) and not stats.get("pool_available", 0):
        return (
            f"exhausted: {stats['requests_waiting']} waiting for one of {stats.get('pool_max')} connections"
        )
    last = Heartbeat.objects.filter(name=POOL_EXHAUSTED).values_list("last_run_at", flat=True).first()
    if last is not None and timezone.now() - last <= SWEEP_STALE_AFTER:
        return f"exhausted: a sending thread waited in vain for a database connection at {last.isoformat()}"
    return "ok"


def _backup() -> str:
    from itbportal.backups import backup_status

    return backup_status().text


def _passes(text: str) -> bool:
    from itbportal.backups import NOT_CONFIGURED

    return text == "ok" or text.startswith("ok: ") or text == NOT_CONFIGURED


def healthz(request):
    checks = {}
    checks_to_run = (
        ("database", _database),
        ("broker", _broker),
        ("sweep", _sweep),
        ("texting", _texting),
        ("db_pool", _db_pool),
        ("backup", _backup),
    )
    for name, check in checks_to_run:
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure is reported, not raised
            checks[name] = f"error: {exc.__class__.__name__}"
    healthy = all(_passes(v) for v in checks.values())
    response = JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks})
    response.status_code = 200 if healthy else 503
    response["Cache-Control"] = "no-store"
    return response
