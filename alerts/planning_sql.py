"""The SQL twin of the reminder plan (alerts/planning.py), for the daily re-plan of every child.

`plan_for_patient` in alerts/planning.py is the rule's home: which texts a child's dates call for,
on which day, to whom. The daily job re-plans every active child (100,000 pumps in the
benchmark), and building that plan row by row in Python costs more than writing it; so the same
rule is written here once more, as one SELECT over the stored safety state (alerts.models.
ChildSafety, kept current by every write and by the 5-minute check), and the table is brought in
line with three statements per chunk: cancel, move, insert.

The two must agree: `tests/alerts/test_planning_sql.py` builds children of every kind (refill due,
alarm, alarm passed, appointments, battery, no caregiver, two caregivers, retried rows, sent
rows, cancelled rows) and checks that both leave the same rows. Change one, change both.

Locking follows alerts/planning.py: only the rows this plan changes are locked, in id order (the
write path locks in the same order, so the two cannot deadlock), and a row the sweep claimed in
the meantime is no longer ours (every UPDATE re-checks `status` on the locked row).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction

from alerts.models import Reminder
from alerts.planning import SEND_AT


def _tables() -> dict[str, str]:
    from alerts.models import ChildSafety
    from appointments.models import Appointment
    from patients.models import Caregiver, CaregiverLink, Clinic, Patient, User
    from pumps.models import Pump

    models = {
        "patient": Patient,
        "clinic": Clinic,
        "caregiver": Caregiver,
        "link": CaregiverLink,
        "user": User,
        "pump": Pump,
        "appointment": Appointment,
        "safety": ChildSafety,
        "reminder": Reminder,
    }
    return {name: model._meta.db_table for name, model in models.items()}


# The wanted rows of the children in %(ids)s at %(now)s: one row per (text, caregiver), with
# `creates` true when its sending day is today or later (planning.plan_for_patient's `create`)
# and false when it only still holds (its target has not passed: a due row the sweep has not
# reached yet is not cancelled). Each CTE names the Python it mirrors.
_WANTED = """
WITH kids AS (  -- _load_children / _child_dates
    SELECT p.id AS patient_id, c.time_zone AS tz,
           (%(now)s::timestamptz AT TIME ZONE c.time_zone)::date AS today,
           pu.id AS pump_id, s.refill_due, s.alarm_day, s.alarm_at, s.battery_notice_from,
           c.reminder_refill_due_days AS refill_days, c.reminder_alarm_days AS alarm_days,
           c.reminder_appointment_days AS appointment_days,
           GREATEST(c.reminder_battery_repeat_days, 1) AS repeat
    FROM {patient} p
    JOIN {clinic} c ON c.id = p.clinic_id
    LEFT JOIN LATERAL (  -- the newest implant wins (Pump.objects.active())
        SELECT id FROM {pump} WHERE patient_id = p.id AND explant_date IS NULL
        ORDER BY implant_date DESC, id DESC LIMIT 1
    ) pu ON TRUE
    LEFT JOIN {safety} s ON s.patient_id = p.id AND s.pump_id = pu.id
    WHERE p.active AND p.id = ANY(%(ids)s)
),
upcoming AS (  -- Appointment.objects.upcoming(now=now)
    SELECT a.id, a.patient_id, a.kind, a.start
    FROM {appointment} a JOIN kids k ON k.patient_id = a.patient_id
    WHERE a.status = ANY(%(open)s) AND a.start >= %(now)s
),
dated AS (  -- _dated: (kind, target date, offset, appointment id)
    SELECT k.patient_id, 'refill_due' AS kind, k.refill_due AS target, d.value::int AS offset_days,
           NULL::bigint AS appointment_id
    FROM kids k CROSS JOIN LATERAL jsonb_array_elements_text(k.refill_days) d
    WHERE k.pump_id IS NOT NULL AND k.refill_due IS NOT NULL
          -- not while a refill is booked in time (ChildDates.refill_booked)
          AND NOT EXISTS (SELECT 1 FROM upcoming u WHERE u.patient_id = k.patient_id AND u.kind = 'refill'
                          AND u.start <= k.alarm_at AND (u.start AT TIME ZONE k.tz)::date <= k.refill_due)
  UNION ALL
    SELECT k.patient_id, 'alarm', k.alarm_day, d.value::int, NULL
    FROM kids k CROSS JOIN LATERAL jsonb_array_elements_text(k.alarm_days) d
    WHERE k.pump_id IS NOT NULL AND k.alarm_day IS NOT NULL
  UNION ALL  -- every day past the alarm until a refill is recorded
    SELECT k.patient_id, 'overdue', k.today, 0, NULL
    FROM kids k
    WHERE k.pump_id IS NOT NULL AND k.alarm_day IS NOT NULL AND k.alarm_at <= %(now)s
          AND k.today > k.alarm_day
  UNION ALL (  -- two appointments on one day: the later one (by start, then id) wins the key
    SELECT DISTINCT ON (u.patient_id, u.day, d.value::int)
           u.patient_id, 'appointment', u.day, d.value::int, u.id
    FROM (SELECT a.*, (a.start AT TIME ZONE k.tz)::date AS day, k.appointment_days
          FROM upcoming a JOIN kids k ON k.patient_id = a.patient_id) u
    CROSS JOIN LATERAL jsonb_array_elements_text(u.appointment_days) d
    ORDER BY u.patient_id, u.day, d.value::int, u.start DESC, u.id DESC
  )
  UNION ALL  -- the next repeat on or after today, as a negative offset
    SELECT k.patient_id, 'battery', k.battery_notice_from,
           -(GREATEST(0, CEIL((k.today - k.battery_notice_from)::numeric / k.repeat))::int * k.repeat),
           NULL
    FROM kids k
    WHERE k.pump_id IS NOT NULL AND k.battery_notice_from IS NOT NULL
          AND k.battery_notice_from - k.today <= k.repeat
          AND NOT EXISTS (SELECT 1 FROM upcoming u WHERE u.patient_id = k.patient_id AND u.kind = 'battery')
),
texting AS (  -- Caregiver.can_receive_texts: consent, a mobile, an active account
    SELECT l.patient_id, l.caregiver_id
    FROM {link} l
    JOIN {caregiver} g ON g.id = l.caregiver_id
    JOIN {user} us ON us.id = g.user_id
    WHERE l.patient_id = ANY(%(ids)s) AND l.active AND g.sms_consent AND us.is_active AND g.mobile <> ''
)
SELECT d.patient_id, d.kind, d.target AS target_date, d.offset_days::smallint AS offset_days,
       t.caregiver_id,
       ((d.target - d.offset_days) + %(send_at)s::time) AT TIME ZONE k.tz AS send_after,
       k.pump_id, d.appointment_id,
       (d.target - d.offset_days) >= k.today AS creates
FROM dated d
JOIN kids k ON k.patient_id = d.patient_id
JOIN texting t ON t.patient_id = d.patient_id
WHERE d.target >= k.today OR d.kind = 'battery'
"""

_KEY = ("patient_id", "kind", "target_date", "offset_days", "caregiver_id")
_MATCH = " AND ".join(f"w.{c} = r.{c}" for c in _KEY)


def wanted_rows(*, patient_ids: list[int], now: datetime) -> list[tuple]:
    """The SQL plan of these children, as (patient, kind, target date, offset, caregiver,
    send_after, pump, appointment, creates) rows: what the agreement test compares."""
    with connection.cursor() as cursor:
        cursor.execute(_WANTED.format(**_tables()), _params(patient_ids, now))
        return cursor.fetchall()


def _params(patient_ids: list[int], now: datetime) -> dict:
    from appointments.models import Appointment

    return {
        "ids": list(patient_ids),
        "now": now,
        "open": [str(s) for s in Appointment.OPEN_STATUSES],
        "send_at": SEND_AT,
    }


def plan_apply(*, patient_ids: list[int], now: datetime) -> None:
    """Bring the Reminder rows of these children in line with their plan (call inside a
    transaction): cancel the planned rows no longer wanted, move the open rows whose time,
    pump or appointment changed, insert what is missing. Claimed, sent and delivered rows are
    never touched (the unique plan key keeps them: ON CONFLICT DO NOTHING)."""
    t = _tables()
    params = {**_params(patient_ids, now), "planned": Reminder.Status.PLANNED.value,
              "cancelled": Reminder.Status.CANCELLED.value}  # fmt: skip
    new_send_after = (
        "CASE WHEN r.attempts = 0 THEN w.send_after ELSE GREATEST(r.send_after, w.send_after) END"
    )
    moves = (
        f"w.creates AND (r.status, r.send_after, r.pump_id, r.appointment_id) IS DISTINCT FROM "
        f"(%(planned)s, {new_send_after}, w.pump_id, w.appointment_id)"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # The estimates of jsonb_array_elements_text (100 rows each) make the planner compile
        # these statements with JIT, which costs more than running them (1.4 s of 1.6 s for
        # 5,000 children, measured): off, for this transaction only.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("DROP TABLE IF EXISTS itb_wanted")
        cursor.execute("CREATE TEMPORARY TABLE itb_wanted ON COMMIT DROP AS " + _WANTED.format(**t), params)
        cursor.execute("ANALYZE itb_wanted")
        # Lock what changes, in id order (as the write path does), and learn what each becomes.
        cursor.execute(
            f"""
            SELECT r.id, w.patient_id IS NULL FROM {t["reminder"]} r
            LEFT JOIN itb_wanted w ON {_MATCH}
            WHERE r.patient_id = ANY(%(ids)s) AND r.status IN (%(planned)s, %(cancelled)s)
              AND ((w.patient_id IS NULL AND r.status = %(planned)s) OR ({moves}))
            ORDER BY r.id FOR UPDATE OF r
            """,
            params,
        )
        rows = cursor.fetchall()
        gone = [pk for pk, cancel in rows if cancel]
        moved = [pk for pk, cancel in rows if not cancel]
        if gone:
            cursor.execute(
                f"""
                UPDATE {t["reminder"]} SET status = %(cancelled)s, updated_at = %(now)s
                WHERE id = ANY(%(gone)s) AND status = %(planned)s
                """,
                {**params, "gone": gone},
            )
        if moved:
            cursor.execute(
                f"""
                UPDATE {t["reminder"]} r
                SET status = %(planned)s, send_after = {new_send_after}, pump_id = w.pump_id,
                    appointment_id = w.appointment_id, updated_at = %(now)s
                FROM itb_wanted w
                WHERE r.id = ANY(%(moved)s) AND {_MATCH} AND r.status IN (%(planned)s, %(cancelled)s)
                  AND {moves}
                """,
                {**params, "moved": moved},
            )
        cursor.execute(_insert_sql(t["reminder"]), [*_defaults(now), params["ids"], params["ids"]])
        cursor.execute("DROP TABLE itb_wanted")


def _defaults(now: datetime) -> list:
    """The values of the Reminder columns the plan does not set (defaults, auto_now)."""
    out = []
    for f in _other_fields():
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        out.append(now if auto else f.get_db_prep_save(f.get_default(), connection))
    return out


def _other_fields():
    planned = {*_KEY, "send_after", "pump_id", "appointment_id"}
    return [f for f in Reminder._meta.concrete_fields if not f.primary_key and f.attname not in planned]


def _insert_sql(table: str) -> str:
    own = [*_KEY, "send_after", "pump_id", "appointment_id"]
    other = _other_fields()
    columns = [*own, *(f.column for f in other)]
    values = [*(f"w.{c}" for c in own), *("%s" for _ in other)]
    return (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(values)} FROM itb_wanted w "
        f"WHERE w.creates AND w.patient_id = ANY(%s) "
        f"AND NOT EXISTS (SELECT 1 FROM {table} r WHERE r.patient_id = ANY(%s) AND {_MATCH}) "
        f"ORDER BY {', '.join(f'w.{c}' for c in _KEY)} "  # in the unique index's order: fewer pages
        "ON CONFLICT DO NOTHING"
    )
