"""The 5-minute safety check at scale (issue 27): `alerts.tasks.check_escalations` (escalations_check:
refresh the children whose stored instant has come, e-mail what is unmailed) at BENCH_BEAT_CHILDREN
(100,000) children when nothing is due (target <= 1 s) and when 1,000 and 5,000 are due (target
<= 1 s per 1,000 due). The children are made by COPY (data.replan_pumps_generate: a pump, a program,
a refill with its real forecast, a caregiver each) and their stored safety rows by one INSERT ...
SELECT, each with an instant spread over the next 30 days; the due ones are real children assessed
a day before (untimed) whose instant is moved to a minute ago, so their refresh is the real
assessment, the day's changes written, and the re-plan of those whose dates or tier moved. The
inbox e-mails of the concerns that open are their own tasks' work (queued at commit; the check
retries only those older than EMAIL_TASK_GRACE): untimed here, their cost printed apart."""

from __future__ import annotations

import os
import statistics
from datetime import UTC, datetime, timedelta

from tests.benchmarks.common import Figure, Results, Timer
from tests.benchmarks.data import replan_pumps_generate, tables_analyze

BEAT_CHILDREN = int(os.environ.get("BENCH_BEAT_CHILDREN", "100000"))
TARGET_IDLE_S = 1.0
TARGET_PER_1000_S = 1.0


def _safety_rows(clinic_id: int) -> int:
    """One stored safety row per child of the clinic, not due for up to 30 days (one statement)."""
    from django.db import connection

    from alerts.models import ChildSafety
    from patients.models import Patient
    from pumps.models import Pump

    sql = f"""
        INSERT INTO "{ChildSafety._meta.db_table}"
            (patient_id, clinic_id, pump_id, active, tier_rank, family_rank, alarm_source,
             refreshed_at, recheck_at)
        SELECT p.id, p.clinic_id, pu.id, true, 3, 2, 'programmed', now(),
               now() + interval '1 minute' + random() * interval '30 days'
        FROM "{Patient._meta.db_table}" p JOIN "{Pump._meta.db_table}" pu ON pu.patient_id = p.id
        WHERE p.clinic_id = %s
        ON CONFLICT (patient_id) DO NOTHING
    """  # noqa: S608 - table names from the models, the one value a parameter
    with connection.cursor() as cursor:
        cursor.execute(sql, [clinic_id])
        return cursor.rowcount


def _children() -> int:
    """BEAT_CHILDREN children with stored safety rows (made once per database)."""
    from alerts.models import ChildSafety
    from patients.models import Patient

    missing = BEAT_CHILDREN - ChildSafety.objects.filter(recheck_at__isnull=False).count()
    if missing > 0:
        with Timer() as t:
            clinic_id = replan_pumps_generate(count=missing, seed=27)
            rows = _safety_rows(clinic_id)
        print(f"  data: {missing:,} children, {rows:,} safety rows in {t.seconds:.0f} s", flush=True)
    # Anyone else in the database (other parts' children) is assessed for real, once.
    never = list(Patient.objects.filter(active=True, safety__isnull=True).values_list("pk", flat=True))
    if never:
        from alerts.concerns import concerns_refresh_many

        for start in range(0, len(never), 1000):
            concerns_refresh_many(patient_ids=never[start : start + 1000], now=datetime.now(UTC))
    _inbox_told(datetime.now(UTC))
    tables_analyze()
    return Patient.objects.filter(active=True).count()


def _inbox_told(now: datetime) -> int:
    """Untimed: the nurses' inbox told of every concern open so far, as the concerns' own tasks
    (queued at their commit; no worker runs here) would have done by ``now``. What a timed
    check then e-mails is only what it must: a concern whose task has had its grace."""
    from alerts.concerns import EMAIL_TASK_GRACE, concerns_email_pending

    told, sent = 0, 1000
    while sent == 1000:
        sent = concerns_email_pending(now=now + EMAIL_TASK_GRACE, limit=1000)
        told += sent
    return told


def _beat() -> tuple[float, int]:
    """One run of the beat's task body; (seconds, children refreshed)."""
    from alerts.escalations import escalations_check

    with Timer() as t:
        refreshed = escalations_check(now=datetime.now(UTC))
    return t.seconds, refreshed


def _make_due(count: int) -> None:
    """`count` random children, assessed for real a day ago (untimed: their rows, concerns and
    the nurses' e-mails as the check left them yesterday), whose instant has now come: as at a
    local midnight, when the words that count days and the act-by dates of today change."""
    from alerts.concerns import concerns_refresh_many
    from alerts.models import ChildSafety

    ids = list(ChildSafety.objects.filter(active=True).order_by("?").values_list("pk", flat=True)[:count])
    yesterday = datetime.now(UTC) - timedelta(days=1)
    for start in range(0, len(ids), 1000):
        concerns_refresh_many(patient_ids=ids[start : start + 1000], now=yesterday)
    _inbox_told(yesterday)
    ChildSafety.objects.filter(pk__in=ids).update(recheck_at=datetime.now(UTC) - timedelta(minutes=1))


def _inbox_cost() -> None:
    """Printed, not a target: what the inbox e-mails of the concerns that check opened cost (their
    own tasks' work, here done by the next check's retry once the grace has passed)."""
    from alerts.concerns import EMAIL_TASK_GRACE

    with Timer() as t:
        told = _inbox_told(datetime.now(UTC) + EMAIL_TASK_GRACE)
    if told:
        each = t.seconds * 1000 / told
        print(f"  then {told:,} inbox e-mails of the concerns it opened: {each:.1f} ms each")


def run(results: Results) -> None:
    total = _children()
    _beat()  # whatever the data left due (first assessments), and a warm connection
    idle = [_beat() for _ in range(5)]
    seconds = statistics.median(s for s, _ in idle)
    refreshed = max(n for _, n in idle)
    print(f"  nothing due: {', '.join(f'{s * 1000:.0f} ms' for s, _ in idle)} ({refreshed} refreshed)")
    results.add(
        Figure(
            f"beat at {total:,} children, nothing due: s",
            seconds,
            "s",
            target=f"≤ {TARGET_IDLE_S:g} s",
            met=seconds <= TARGET_IDLE_S,
        )
    )
    for due in (1000, 1000, 5000):
        _make_due(due)
        spent, refreshed = _beat()
        per = spent / (refreshed / 1000)
        print(f"  {refreshed:,} due: {spent:.2f} s ({per:.2f} s per 1,000)", flush=True)
        _inbox_cost()
        results.add(
            Figure(
                f"beat at {total:,} children, {refreshed:,} due: s per 1,000 due",
                per,
                "s",
                target=f"≤ {TARGET_PER_1000_S:g} s",
                met=per <= TARGET_PER_1000_S,
            )
        )
