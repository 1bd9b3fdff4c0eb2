"""Generated data for the benchmarks: bulk_create only, no per-row queries.

`database_reset()` drops and re-creates the bench database and migrates it (idempotent per run);
`dataset_generate(children=...)` fills it: two clinics (90 % / 10 %), a nurse in each, families
(every fifth with two children, every third with two caregivers), a pump with two program
versions per child, 10 refill visits per child with their real forecasts (pumps.forecast), three
appointments per child and 40 reminders per child in a status mix.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlparse

from tests.benchmarks.common import PYTHON, ROOT, VAR, bench_env

# Only a throwaway database is ever dropped: itbportal_bench, or a parallel run's itbportal_bench_pages.
BENCH_DATABASE_NAME = re.compile(r"\w+_bench(_[a-z0-9]+)?")

REMINDERS_PER_CHILD = 40
VISITS_PER_CHILD = 10
BATCH = 5000
NO_PASSWORD = "!bench-no-password"  # an unusable password: benchmark users sign in by session


@dataclass
class Dataset:
    clinic_ids: list[int]
    nurse_id: int
    parent_id: int
    parent_child_ids: list[int]
    child_ids: list[int] = field(default_factory=list)


def database_reset() -> None:
    """DROP and CREATE the bench database, then `manage.py migrate` and collectstatic into it."""
    import psycopg

    url = urlparse(bench_env()["DATABASE_URL"])
    name = url.path.lstrip("/")
    if not BENCH_DATABASE_NAME.fullmatch(name):
        raise RuntimeError(
            f"refusing to drop {name!r}: the bench database's name must end in _bench or _bench_<word>"
        )
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    shutil.rmtree(VAR / "media", ignore_errors=True)  # the documents of the last run
    for args in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=bench_env(), check=True, timeout=600)


def data_truncate() -> None:
    """Empty every table the data lives in (keeps migrations, content types, permissions)."""
    from django.db import connection, transaction

    keep = {"django_migrations", "django_content_type", "auth_permission"}
    tables = [t for t in connection.introspection.django_table_names(only_existing=True) if t not in keep]
    # The audit log refuses TRUNCATE (patients migrations 0008, 0011) unless the session allows it
    # and its role is a member of itbportal_audit_eraser, as the test suite's is: this is the bench's
    # own throwaway database, and the bench's role grants itself the membership (README).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("GRANT itbportal_audit_eraser TO CURRENT_USER")
        cursor.execute("SET LOCAL itbportal.audit_truncate_allowed = 'on'")
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")


def tables_analyze() -> None:
    """ANALYZE the database after a bulk load, as autovacuum would soon after in production:
    without statistics the planner guesses the tables' sizes, and a page measured on such plans
    says nothing about the portal (issue 16)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def copy_rows(model, columns: list[str], rows, *, count: int) -> list[int]:
    """COPY `count` rows (tuples in `columns` order) into `model`'s table; returns their new ids.

    The large tables (visits, reminders, the re-planning set) use this instead of bulk_create:
    one COPY, no per-row query, and no model instance per row. Columns not given get the model
    field's default (evaluated once), or the database's (a field with only a db_default);
    auto_now/auto_now_add fields get the current time.
    """
    from django.db import connection
    from django.utils import timezone

    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
        )
        ids = [row[0] for row in cursor.fetchall()]
    extra_cols, extra_vals = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in columns:
            continue
        if f.has_db_default() and not f.has_default():
            continue  # left out of the COPY: the database's own default applies
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = timezone.now()
        else:
            value = f.get_db_prep_save(f.get_default(), connection)
        extra_cols.append(f.column)
        extra_vals.append(value)
    db_columns = ["id"] + [model._meta.get_field(c).column for c in columns] + extra_cols
    sql = f'COPY "{table}" ({", ".join(db_columns)}) FROM STDIN'
    extra = tuple(extra_vals)
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        n = 0
        for pk, row in zip(ids, rows, strict=False):
            copy.write_row((pk, *row, *extra))
            n += 1
    if n != count:
        raise RuntimeError(f"{table}: {n} rows written, {count} expected")
    return ids


def _users(prefix: str, count: int, start: int = 0) -> list:
    from patients.models import User

    rows = [
        User(
            email=f"{prefix}{start + i}@bench.test",
            password=NO_PASSWORD,
            first_name="Bench",
            last_name=f"{prefix}{i}",
        )
        for i in range(count)
    ]
    return _bulk(User, rows)


def _clinics(count: int) -> list:
    from patients.models import Clinic

    rows = [
        Clinic(
            name=f"Bench clinic {chr(65 + i)}",
            phone_business_hours="801.213.3599",
            phone_after_hours="801.662.1000",
            phone_nurse_line="801.213.7694",
            default_location="Rehabilitation Clinic",
        )
        for i in range(count)
    ]
    return _bulk(Clinic, rows)


def _nurses(clinics: list) -> list:
    from patients.models import StaffProfile

    users = _users("nurse", len(clinics))
    _bulk(StaffProfile, [StaffProfile(user=u, clinic=c) for u, c in zip(users, clinics, strict=True)])
    return users


def _families(child_count: int) -> list[list[int]]:
    """Child indices grouped in families: every fifth family has two children."""
    families, i, f = [], 0, 0
    while i < child_count:
        size = 2 if f % 5 == 0 and i + 1 < child_count else 1
        families.append(list(range(i, i + size)))
        i, f = i + size, f + 1
    return families


def _patients(clinics: list, count: int, rng: random.Random, *, share_a: float = 0.9, tag: str = "") -> list:
    from patients.models import Patient

    cut = int(count * share_a) if len(clinics) > 1 else count
    rows = [
        Patient(
            clinic=clinics[0] if i < cut else clinics[1],
            first_name=f"Child{i}",
            last_name=f"Family{i // 2}",
            date_of_birth=date(2008, 1, 1) + timedelta(days=rng.randrange(5000)),
            mrn=f"B{tag}{i:07d}",
        )
        for i in range(count)
    ]
    return _bulk(Patient, rows)


def _caregivers(families: list[list[int]], patients: list, rng: random.Random, *, tag: str = "") -> dict:
    """Caregivers and links; returns {child index: [caregiver, ...]}."""
    from patients.models import Caregiver, CaregiverLink

    owners = [(f, k) for f in range(len(families)) for k in range(2 if f % 3 == 0 else 1)]
    users = _users(f"parent{tag}-", len(owners))
    now = datetime.now(UTC)
    caregivers = _bulk(
        Caregiver,
        [
            Caregiver(
                user=u,
                mobile=f"+1801{2000000 + n:07d}",
                sms_consent=n % 10 != 9,
                sms_consent_at=now if n % 10 != 9 else None,
                preferred_language="es" if n % 10 < 3 else "en",
            )
            for n, u in enumerate(users)
        ],
    )
    by_child: dict[int, list] = {}
    links = []
    for (f, k), caregiver in zip(owners, caregivers, strict=True):
        for child in families[f]:
            by_child.setdefault(child, []).append(caregiver)
            links.append(
                CaregiverLink(
                    caregiver=caregiver,
                    patient=patients[child],
                    relationship="mother" if k == 0 else "father",
                    primary_contact=k == 0,
                )
            )
    _bulk(CaregiverLink, links)
    return by_child


def _pumps(patients: list, rng: random.Random, today: date) -> list:
    from pumps.models import Pump

    rows = [
        Pump(
            patient=p,
            model="sm2_20" if i % 3 else "sm2_40",
            serial_number=f"NGP{p.pk:07d}",
            implant_date=today - timedelta(days=900 + rng.randrange(1500)),
        )
        for i, p in enumerate(patients)
    ]
    return _bulk(Pump, rows)


def _programs(
    pumps: list, rng: random.Random, visit_times: list[list[datetime]], versions: int
) -> list[list]:
    """`versions` program rows per pump; version v takes effect at visit v * len/versions."""
    from pumps.models import Program

    rows, per_pump = [], []
    for pump, times in zip(pumps, visit_times, strict=True):
        conc = Decimal(rng.choice((500, 1000, 2000)))
        mine = []
        for v in range(versions):
            ml_per_day = Decimal(rng.randrange(120, 300)) / 1000
            bolus = rng.random() < 0.1
            mine.append(
                Program(
                    pump=pump,
                    effective_from=times[v * len(times) // versions],
                    concentration_mcg_ml=conc,
                    daily_dose_mcg=(conc * ml_per_day).quantize(Decimal("0.01")),
                    bolus_mcg=Decimal(25) if bolus else Decimal(0),
                    bolus_max_per_day=2 if bolus else 0,
                )
            )
        rows.extend(mine)
        per_pump.append(mine)
    _bulk(Program, rows)
    return per_pump


def _visit_times(count: int, per_child: int, rng: random.Random, now: datetime) -> list[list[datetime]]:
    """Per child, `per_child` visit instants, oldest first, about 90 days apart, last within 80 days."""
    out = []
    for _ in range(count):
        last = now - timedelta(days=rng.randrange(1, 80), minutes=rng.randrange(0, 480))
        out.append([last - timedelta(days=90 * k) for k in range(per_child - 1, -1, -1)])
    return out


def _forecast(program, pump, visit_at: datetime, volume: Decimal, clinic) -> dict:
    """The same arithmetic as pumps.services.visit_forecast, without a query per row."""
    from pumps import forecast as fc

    tz = clinic.tzinfo
    local = visit_at.astimezone(tz)
    result = fc.forecast(
        program.as_forecast_program(),
        fc.Fill(
            refill_at=local, volume_ml=volume, capacity_ml=pump.capacity_ml, pump_utc_offset=local.utcoffset()
        ),
    )
    due = fc.refill_due(
        alarm_at=result.alarm_at_worst,
        last_refill_at=visit_at,
        tz=tz,
        lead_days=clinic.refill_lead_days,
        max_interval_days=clinic.max_refill_interval_days,
    )
    return {
        "alarm_at": result.alarm_at,
        "alarm_at_worst": result.alarm_at_worst,
        "empty_at": result.empty_at,
        "empty_at_worst": result.empty_at_worst,
        "refill_due": due,
    }


VISIT_COLUMNS = [
    "pump_id", "kind", "visit_at", "nurse_id", "volume_after_ml", "volume_instilled_ml",
    "expected_residual_ml", "actual_residual_ml", "program_id",
    "alarm_at", "alarm_at_worst", "empty_at", "empty_at_worst", "refill_due",
]  # fmt: skip


def _visits(pumps, programs, visit_times, patients, nurse_by_clinic, clinics_by_id) -> list[dict]:
    """Visits with their stored forecasts (COPY); returns the latest visit's forecast per pump."""
    from pumps.models import RefillVisit

    latest: list[dict] = []

    def rows():
        for pump, progs, times, patient in zip(pumps, programs, visit_times, patients, strict=True):
            clinic = clinics_by_id[patient.clinic_id]
            for k, at in enumerate(times):
                program = progs[min(k * len(progs) // len(times), len(progs) - 1)]
                volume = pump.capacity_ml - 1
                f = _forecast(program, pump, at, volume, clinic)
                if k == len(times) - 1:
                    latest.append(f)
                yield (
                    pump.pk, "implant" if k == 0 else "refill", at, nurse_by_clinic[clinic.pk], volume,
                    volume - Decimal(3), Decimal(3), Decimal("3.2"), program.pk,
                    f["alarm_at"], f["alarm_at_worst"], f["empty_at"], f["empty_at_worst"], f["refill_due"],
                )  # fmt: skip

    count = sum(len(t) for t in visit_times)
    copy_rows(RefillVisit, VISIT_COLUMNS, rows(), count=count)
    return latest


def _appointments(patients, latest_visits, visit_times, nurse_by_clinic) -> None:
    from appointments.models import Appointment

    rows = []
    for i, (patient, visit, times) in enumerate(zip(patients, latest_visits, visit_times, strict=True)):
        booked_by = nurse_by_clinic[patient.clinic_id]
        for at in times[-3:-1]:
            rows.append(Appointment(patient=patient, start=at, status="completed", booked_by_id=booked_by))
        start = datetime.combine(visit["refill_due"] - timedelta(days=2), time(16, 0), tzinfo=UTC)
        status = "confirmed" if i % 2 else "scheduled"
        rows.append(Appointment(patient=patient, start=start, status=status, booked_by_id=booked_by))
    _bulk(Appointment, rows)


# Twilio reports the delivery of nearly every text within seconds, so the history is mostly
# delivered; a text left "sent" for over an hour makes its family "cannot be reached: no delivery
# report" (pumps/safety.py), which a clinic sees for a few families, not for most.
HISTORY_STATUSES = ["delivered"] * 25 + ["sent", "failed", "undelivered", "cancelled", "cancelled"]


REMINDER_COLUMNS = [
    "patient_id", "pump_id", "caregiver_id", "kind", "target_date", "offset_days", "send_after",
    "status", "attempts", "provider_message_id", "sent_at", "delivered_at",
]  # fmt: skip


def _reminders(patients, pumps, caregivers_by_child, today: date) -> int:
    """REMINDERS_PER_CHILD rows per child (COPY): 80 % history (status mix), 20 % planned later."""
    from alerts.models import Reminder

    kinds = ["refill_due", "alarm", "appointment", "battery"]
    history = REMINDERS_PER_CHILD * 4 // 5

    def rows():
        for i, (patient, pump) in enumerate(zip(patients, pumps, strict=True)):
            caregiver = caregivers_by_child[i][0]
            for j in range(REMINDERS_PER_CHILD):
                past = j < history
                target = (
                    today - timedelta(days=7 * (history - j)) if past else today + timedelta(days=400 + j)
                )
                send_after = datetime.combine(target - timedelta(days=1), time(17, 0), tzinfo=UTC)
                status = HISTORY_STATUSES[(i + j) % len(HISTORY_STATUSES)] if past else "planned"
                sent = status in ("sent", "delivered", "undelivered")
                yield (
                    patient.pk, pump.pk, caregiver.pk, kinds[j % 4] if past else "battery", target, 1,
                    send_after, status, 0 if status == "planned" else 1,
                    f"SMbench{i:06d}{j:02d}" if sent else "", send_after if sent else None,
                    send_after if status == "delivered" else None,
                )  # fmt: skip

    count = len(patients) * REMINDERS_PER_CHILD
    copy_rows(Reminder, REMINDER_COLUMNS, rows(), count=count)
    return count


def dataset_generate(*, children: int, seed: int = 9, log=print) -> Dataset:
    """The benchmark data set (see the module docstring). Returns who to sign in as."""
    from django.db import transaction

    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = now.date()
    with transaction.atomic():
        clinics = _clinics(2)
        nurses = _nurses(clinics)
        nurse_by_clinic = {c.pk: n.pk for c, n in zip(clinics, nurses, strict=True)}
        patients = _patients(clinics, children, rng)
        families = _families(children)
        caregivers_by_child = _caregivers(families, patients, rng)
        pumps = _pumps(patients, rng, today)
        times = _visit_times(children, VISITS_PER_CHILD, rng, now)
        programs = _programs(pumps, rng, times, versions=2)
        latest = _visits(pumps, programs, times, patients, nurse_by_clinic, {c.pk: c for c in clinics})
        _appointments(patients, latest, times, nurse_by_clinic)
        reminders = _reminders(patients, pumps, caregivers_by_child, today)
    # The rows went in directly: assess every child once, as the beat does (the worklist reads it).
    from alerts.concerns import concerns_refresh_many

    ids = [p.pk for p in patients]
    for start in range(0, len(ids), 1000):
        concerns_refresh_many(patient_ids=ids[start : start + 1000], now=now)
    tables_analyze()
    log(
        f"  data: {children:,} children, {children * VISITS_PER_CHILD:,} visits, "
        f"{len(families):,} families, {reminders:,} reminders"
    )
    parent = caregivers_by_child[0][0]  # family 0 has two children in clinic A
    return Dataset(
        clinic_ids=[c.pk for c in clinics],
        nurse_id=nurses[0].pk,
        parent_id=parent.user_id,
        parent_child_ids=[patients[i].pk for i in families[0]],
        child_ids=[p.pk for p in patients],
    )


def replan_pumps_generate(*, count: int, seed: int = 5) -> int:
    """`count` more children in a third clinic, each with a pump, a program, one refill (with its
    real forecast) and one texting caregiver, for the re-planning benchmark. All by COPY.
    Returns the clinic's id."""
    import secrets

    from django.db import transaction

    from patients.models import Caregiver, CaregiverLink, Patient, User
    from pumps import forecast as fc
    from pumps.models import Program, Pump, RefillVisit

    rng = random.Random(seed)
    now = datetime.now(UTC)
    n = range(count)
    with transaction.atomic():
        (clinic,) = _clinics(1)
        tz = clinic.tzinfo
        users = copy_rows(
            User, ["email", "password", "first_name", "last_name"],
            ((f"replan{i}@bench.test", NO_PASSWORD, "Bench", f"Replan{i}") for i in n), count=count,
        )  # fmt: skip
        patients = copy_rows(
            Patient, ["clinic_id", "first_name", "last_name", "date_of_birth", "mrn"],
            ((clinic.pk, f"Child{i}", f"Replan{i}", date(2012, 1, 1), f"R{i:07d}") for i in n), count=count,
        )  # fmt: skip
        caregivers = copy_rows(
            Caregiver,
            ["user_id", "mobile", "sms_consent", "sms_consent_at", "preferred_language", "calendar_token"],
            ((users[i], f"+1385{2000000 + i:07d}", True, now, "en", secrets.token_urlsafe(24)) for i in n),
            count=count,
        )  # fmt: skip
        copy_rows(
            CaregiverLink, ["caregiver_id", "patient_id", "relationship", "primary_contact"],
            ((caregivers[i], patients[i], "mother", True) for i in n), count=count,
        )  # fmt: skip
        pumps = copy_rows(
            Pump, ["patient_id", "model", "serial_number", "implant_date"],
            ((patients[i], "sm2_20", f"RPL{i:07d}", now.date() - timedelta(days=400 + i % 1500)) for i in n),
            count=count,
        )  # fmt: skip
        times = [now - timedelta(days=1 + i % 80, minutes=i % 480) for i in n]
        doses = [Decimal(rng.randrange(120, 300)) for _ in n]  # mcg/day at 1000 mcg/mL
        programs = copy_rows(
            Program, ["pump_id", "effective_from", "concentration_mcg_ml", "daily_dose_mcg"],
            ((pumps[i], times[i], Decimal(1000), doses[i]) for i in n), count=count,
        )  # fmt: skip

        def visits():
            for i in n:
                local = times[i].astimezone(tz)
                f = fc.forecast(
                    fc.Program(concentration_mcg_ml=Decimal(1000), daily_dose_mcg=doses[i]),
                    fc.Fill(refill_at=local, volume_ml=Decimal(19), capacity_ml=Decimal(20),
                            pump_utc_offset=local.utcoffset()),
                )  # fmt: skip
                due = fc.refill_due(alarm_at=f.alarm_at_worst, last_refill_at=times[i], tz=tz)
                yield (
                    pumps[i], "refill", times[i], None, Decimal(19), Decimal(16), Decimal(3), Decimal(3),
                    programs[i], f.alarm_at, f.alarm_at_worst, f.empty_at, f.empty_at_worst, due,
                )  # fmt: skip

        copy_rows(RefillVisit, VISIT_COLUMNS, visits(), count=count)
    tables_analyze()
    return clinic.pk
