"""Reminder planning (pumps/s, against one INSERT ... SELECT of the same number of rows) and the
sweep (10,000 due reminders claimed and sent by a real Celery worker through the twilio backend
to a local fake Twilio that answers in 150 ms)."""

from __future__ import annotations

import importlib
import os
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

from tests.benchmarks.common import PYTHON, Figure, Results, Timer, ratio_figure, start, stop
from tests.benchmarks.data import Dataset, replan_pumps_generate, tables_analyze

REPLAN_PUMPS = int(os.environ.get("BENCH_REPLAN_PUMPS", "100000"))
SWEEP_TEXTS = int(os.environ.get("BENCH_SWEEP_TEXTS", "10000"))
SWEEP_TIMEOUT = float(os.environ.get("BENCH_SWEEP_TIMEOUT", "150"))
# The sweep's worker keeps production's bounded pool (docker-compose.yml: DB_POOL_MAX_SIZE 4):
# its sending threads share it, so the figure is measured inside the deployment's budget.
POOL_SIZE = os.environ.get("DB_POOL_MAX_SIZE") or "4"
PER_PATIENT_BUDGET = 120.0  # seconds, when only the per-patient reminders_replan exists
SENT = ("sent", "delivered")


def _attr(module: str, name: str):
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


# --- Planning ---------------------------------------------------------------------------------


def _replan(total: int) -> tuple[float, int, str] | str:
    """(seconds for all `total` pumps, rows planned, note) or why it cannot run."""
    from alerts.models import Reminder
    from patients.models import Patient

    before = Reminder.objects.count()
    now = datetime.now(UTC)
    replan_all = _attr("alerts.planning", "reminders_replan_all")
    if replan_all is not None:
        with Timer() as t:
            replan_all(now=now)
        return t.seconds, Reminder.objects.count() - before, ""
    replan = _attr("alerts.planning", "reminders_replan")
    if replan is None:
        return "function alerts.planning.reminders_replan_all missing"
    done, deadline = 0, time.monotonic() + PER_PATIENT_BUDGET
    with Timer() as t:
        for patient in Patient.objects.active().select_related("clinic").iterator(chunk_size=500):
            replan(patient=patient, now=now)
            done += 1
            if time.monotonic() > deadline:
                break
    rows = Reminder.objects.count() - before
    scale = total / max(done, 1)
    note = f"per patient, extrapolated from {done:,} (reminders_replan_all missing)"
    return t.seconds * scale, int(rows * scale), note


def _sql_baseline(rows: int) -> float:
    """Seconds for ONE INSERT ... SELECT FROM generate_series of `rows` reminder rows, committed."""
    from django.db import connection, transaction

    from alerts.models import Reminder
    from patients.models import CaregiverLink

    link = CaregiverLink.objects.select_related("patient").first()
    pump_id = link.patient.pumps.values_list("pk", flat=True).first()
    given = {
        "patient_id": ("%s", link.patient_id), "caregiver_id": ("%s", link.caregiver_id),
        "pump_id": ("%s", pump_id), "kind": ("%s", "battery"), "target_date": ("DATE '2200-01-01' + g", None),
        "offset_days": ("0", None), "send_after": ("now()", None), "status": ("%s", "planned"),
    }  # fmt: skip
    columns, exprs, params = [], [], []
    for f in Reminder._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f.column)
        if f.attname in given:
            expr, value = given[f.attname]
        elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            expr, value = "now()", None
        else:
            expr, value = "%s", f.get_db_prep_save(f.get_default(), connection)
        exprs.append(expr)
        if expr == "%s":
            params.append(value)
    sql = (
        f"INSERT INTO {Reminder._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(exprs)} FROM generate_series(1, %s) AS g"
    )
    # Committed, as the re-plan's rows are: a rolled-back insert never waits for its WAL to
    # reach the disk, and that flush is part of writing the rows (0.8 s of a 5,000-children
    # chunk's 2.5 s, profiled). The rows are deleted afterwards, untimed.
    with Timer() as t:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [*params, rows])
    Reminder.objects.filter(patient_id=link.patient_id, target_date__gte=date(2200, 1, 1)).delete()
    return t.seconds


def _assess_unassessed(results: Results) -> None:
    """Store the safety state of every child that has none, as the 5-minute check would have
    done long before the daily re-plan runs (the plan reads it). Timed apart, as information:
    it is the Python assessment of each child, not the plan."""
    from alerts.concerns import concerns_refresh_many
    from patients.models import Patient

    ids = list(Patient.objects.filter(active=True, safety__isnull=True).values_list("pk", flat=True))
    if not ids:
        return
    now = datetime.now(UTC)
    with Timer() as t:
        for start in range(0, len(ids), 1000):
            concerns_refresh_many(patient_ids=ids[start : start + 1000], now=now)
    print(f"  assessed {len(ids):,} children (safety state) in {t.seconds:.1f} s", flush=True)
    results.add(
        Figure(f"safety assessment of {len(ids):,} children: children/s", len(ids) / t.seconds, "children/s")
    )


def run_replan(results: Results, dataset: Dataset) -> None:
    from pumps.models import Pump

    name = "re-planning: pumps/s"
    if (
        _attr("alerts.planning", "reminders_replan_all") is None
        and _attr("alerts.planning", "reminders_replan") is None
    ):
        results.missing(name, "function alerts.planning.reminders_replan_all missing")
        return
    existing = Pump.objects.active().count()
    if REPLAN_PUMPS > existing:
        with Timer() as t:
            replan_pumps_generate(count=REPLAN_PUMPS - existing)
        print(
            f"  data: {REPLAN_PUMPS - existing:,} more pumps for re-planning in {t.seconds:.0f} s", flush=True
        )
    total = Pump.objects.active().count()
    _assess_unassessed(results)
    tables_analyze()
    outcome = _replan(total)
    if isinstance(outcome, str):
        results.missing(name, outcome)
        return
    seconds, rows, note = outcome
    if rows <= 0:
        results.missing(name, "re-planning wrote no reminder rows (the placeholder reminders_replan?)")
        return
    print(f"  re-planned {total:,} pumps into {rows:,} new rows in {seconds:.1f} s {note}", flush=True)
    baseline = _sql_baseline(rows)
    results.add(ratio_figure(name, total / seconds, total / baseline, "pumps/s"))
    fig = ratio_figure(
        f"re-planning: seconds for {total:,} pumps ({rows:,} rows)", seconds, baseline, "s", at_most=3
    )
    fig.note = note and "extrapolated"
    results.add(fig)


# --- Sweep ------------------------------------------------------------------------------------


def _due_reminders(dataset: Dataset, count: int, now: datetime) -> list[int]:
    """`count` planned refill-due reminders, due now, for caregivers who accept texts at any hour."""
    from alerts.models import Reminder
    from patients.models import Caregiver, CaregiverLink
    from pumps.models import RefillVisit

    latest = (
        RefillVisit.objects.filter(pump__patient__clinic_id__in=dataset.clinic_ids)
        .order_by("pump_id", "-visit_at")
        .distinct("pump_id")
        .values_list("pump__patient_id", "pump_id", "refill_due")
    )
    by_patient = {patient: (pump, due) for patient, pump, due in latest}
    links = list(
        CaregiverLink.objects.filter(patient_id__in=by_patient, caregiver__sms_consent=True, active=True)
        .order_by("pk")
        .values_list("patient_id", "caregiver_id")
    )
    rows = []
    for offset in (14, 7, 3):  # the generated history uses offset 1: no unique-key clash
        for patient, caregiver in links:
            pump, due = by_patient[patient]
            rows.append(
                Reminder(patient_id=patient, pump_id=pump, caregiver_id=caregiver, kind="refill_due",
                         target_date=due, offset_days=offset, send_after=now - timedelta(minutes=1))
            )  # fmt: skip
    rows = rows[:count]
    Caregiver.objects.filter(pk__in={r.caregiver_id for r in rows}).update(
        quiet_hours_start=clock(0), quiet_hours_end=clock(0)
    )
    return [r.pk for r in Reminder.objects.bulk_create(rows, batch_size=5000)]


def _worker_queues() -> list[str]:
    from django.conf import settings

    queues = {"celery"}
    routes = getattr(settings, "CELERY_TASK_ROUTES", None) or {}
    if isinstance(routes, dict):
        queues |= {r["queue"] for r in routes.values() if isinstance(r, dict) and "queue" in r}
    return sorted(queues)


def _wait_for_workers(app, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.control.ping(timeout=1):
            return
    raise TimeoutError("no Celery worker answered a ping")


def _connections() -> int:
    """Connections to the bench database now, but this process's."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


PEAK_CONNECTIONS = [0]  # the most connections the worker held during the last sweep


def _drain(sweep, ids: list[int]) -> tuple[int, float]:
    """Start the sweep and wait until every reminder is sent, at most SWEEP_TIMEOUT seconds (or
    30 s without progress). Returns (sent, seconds to the last one sent)."""
    from alerts.models import Reminder

    mine = Reminder.objects.filter(pk__in=ids)
    t0 = time.perf_counter()
    sweep.delay()
    sent, last_progress, last_sweep = 0, t0, t0
    PEAK_CONNECTIONS[0] = 0
    while time.perf_counter() - t0 < SWEEP_TIMEOUT:
        time.sleep(0.5)
        PEAK_CONNECTIONS[0] = max(PEAK_CONNECTIONS[0], _connections())
        now_sent = mine.filter(status__in=SENT).count()
        now = time.perf_counter()
        if now_sent > sent:
            sent, last_progress = now_sent, now
        if sent >= len(ids) or now - last_progress > 30:
            break
        waiting = mine.filter(status="planned").exists()
        if waiting and now - last_progress > 3 and now - last_sweep > 3:
            sweep.delay()  # a sweep may claim in batches: start the next one
            last_sweep = now
    return sent, last_progress - t0


FAKE_SID, FAKE_TOKEN = "AC" + "b" * 32, "bench-auth-token-0123456789abcdef"


def _postgres_backends() -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the bench database (but this one)."""
    from django.db import connection

    from tests.benchmarks.common import cpu_seconds

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {pid: cpu_seconds([pid]) for (pid,) in cursor.fetchall()}


def run_sweep(results: Results, dataset: Dataset) -> None:
    """10,000 due texts through the twilio backend (the real SDK) to a local fake Twilio that
    answers each after BENCH_TWILIO_LATENCY (0.15 s), by one Celery worker as deployed."""
    from tests.benchmarks.common import bench_env, free_port, tree_cpu_seconds, wait_for_port

    latency = float(os.environ.get("BENCH_TWILIO_LATENCY", "0.15"))
    name = f"sweep: texts/s ({SWEEP_TEXTS:,} due, twilio backend, provider at {latency * 1000:.0f} ms)"
    sweep, send = _attr("alerts.tasks", "sweep"), _attr("alerts.tasks", "send_reminders")
    if sweep is None or send is None:
        results.missing(name, "function alerts.tasks.sweep / alerts.tasks.send_reminders missing")
        return
    import redis

    from itbportal.celery import app

    redis.Redis.from_url(bench_env()["REDIS_URL"], socket_timeout=10).flushdb()  # our db 9 only
    ids = _due_reminders(dataset, SWEEP_TEXTS, datetime.now(UTC))
    tables_analyze()
    port = free_port()
    fake_cmd = [PYTHON, "-m", "tests.benchmarks.fake_twilio", str(port), str(latency), FAKE_SID, FAKE_TOKEN]
    fake = start(fake_cmd, "fake-twilio")
    env = bench_env()
    env.update(
        SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID=FAKE_SID, TWILIO_AUTH_TOKEN=FAKE_TOKEN,
        TWILIO_MESSAGING_SERVICE_SID="MG" + "b" * 32, TWILIO_API_BASE_URL=f"http://127.0.0.1:{port}",
    )  # fmt: skip
    concurrency = os.environ.get("BENCH_WORKER_CONCURRENCY", "2")  # production's (docker-compose.yml)
    env["DB_POOL_MAX_SIZE"] = POOL_SIZE  # production's connection budget, held while measured
    queues = ",".join(_worker_queues())
    cmd = [PYTHON, "-m", "celery", "-A", "itbportal", "worker", "-c", concurrency, "-l", "WARNING",
           "-n", "bench@%h", "-Q", queues, "--without-gossip", "--without-mingle"]  # fmt: skip
    proc = None
    try:
        wait_for_port(port, fake)
        proc = start(cmd, "celery-worker", env=env)
        _wait_for_workers(app)
        cpu0, pg0 = tree_cpu_seconds(proc.pid), _postgres_backends()
        sent, seconds = _drain(sweep, ids)
        cpu = tree_cpu_seconds(proc.pid) - cpu0
        pg = sum(c - pg0.get(pid, 0.0) for pid, c in _postgres_backends().items())
    finally:
        stop(proc, timeout=30)
        stop(fake)
    if sent == 0:
        results.missing(name, "no reminder reached 'sent' (see var/bench/celery-worker.log)")
        return
    rate = sent / seconds if seconds > 0 else 0.0
    results.add(Figure(name, rate, "texts/s", None, None, "≥ 200 texts/s", rate >= 200))
    per_text = cpu / sent * 1000
    results.add(
        Figure(f"sweep: worker CPU per text ({concurrency} processes)", per_text, "ms", None, None, "≤ 4 ms",
               per_text <= 4)
    )  # fmt: skip
    results.add(Figure("sweep: PostgreSQL CPU per text", pg / sent * 1000, "ms"))
    pool = POOL_SIZE
    most = int(pool) * (int(concurrency) + 1) if pool else 0  # its processes and the main one
    budget = f"≤ {most} (DB_POOL_MAX_SIZE {pool} x {concurrency} + 1 processes)" if pool else ""
    peak = PEAK_CONNECTIONS[0]
    results.add(Figure("sweep: database connections (most at once)", peak, "", None, None, budget,
                       peak <= most if pool else None))  # fmt: skip
    print(
        f"  sent {sent:,} in {seconds:.1f} s; worker CPU {cpu:.1f} s, PostgreSQL CPU {pg:.1f} s", flush=True
    )
    if sent < len(ids):
        results.notes.append(f"sweep: {sent:,} of {len(ids):,} reminders were sent within the time limit")
