"""A simulated clinic year (issue 21): how the portal's dates fare against pumps that do not deliver
exactly what they are programmed to. `make simulate` runs it (`manage.py simulate --help`); it is
not part of `make test`, but its pieces are (tests/patients/test_simulation.py).

What is real and what is modelled (docs/simulation.md):

* The clinic's people and pumps are created as rows (clinic, nurse, children, caregivers, pumps).
  Everything that happens after goes through the services, with the clock moved by time-machine:
  refills (`pumps.services.refill_record`), bookings, no-shows and cancellations
  (`appointments.services`), the beat's work at its cadence (the daily re-plan
  `alerts.planning.reminders_replan_all` at 02:00, the safety check `concerns_refresh_due` at
  02:00 and 09:00, the sending sweep `reminders_claim_due` + `reminders_send` at 10:00 and 16:00
  through the locmem SMS backend, which reports each text delivered).
* The truth is modelled here: each pump delivers ``ratio`` times its program, drawn uniformly
  within ±``spread``; the true reservoir after a refill is the volume entered; the residual
  aspirated at a refill is the true remainder (never below 0) plus a reading error.
* Families book after a text with a delay, some miss the appointment, some never get texts
  (no caregiver who can receive them). The nurse, each clinic day, works the worklist's critical
  and urgent rows: a child with no refill booked in time is called and booked. The escalation
  ladder and the e-mails to the nurse inbox are not played.
* `make simulate` plays the year in a throw-away database of its own, each simulated day a
  transaction that commits; the tests play short years inside one transaction that is rolled back.
  Either way the configured database is left as it was. Each child draws from its own seeded
  generator, so a seed gives the same year whatever ids or row order the database has.
"""

from __future__ import annotations

import random
import statistics
import time as _time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from unittest import mock
from zoneinfo import ZoneInfo

DENVER = "America/Denver"
CAPACITY = Decimal(20)
ALARM_ML = Decimal(2)
# The worklist rows a nurse answers by booking a refill (the call list included).
# `due_soon` is on the list (urgent) from the refill-due date itself.
BOOKING_KINDS = {"alarm_passed", "alarm_near", "booked_after_alarm", "booked_past_cap", "booked_after_due",
                 "due_passed", "due_soon", "no_show", "observed_earlier"}  # fmt: skip


@dataclass(frozen=True)
class Params:
    children: int = 300
    days: int = 365
    spread: float = 0.15  # true delivery within ±spread of the program
    no_show: float = 0.10
    unreachable: float = 0.05
    max_delay: int = 3  # a family books 0 to max_delay days after a text
    undelivered: float = 0.05  # families whose texts are accepted but reported undelivered
    program_change: float = 0.10  # refills at which the nurse changes the daily dose
    bolus: float = 0.05  # refills with a bridge bolus
    reading_error_ml: float = 0.1  # one standard deviation
    observed: bool = True  # the observed-delivery forecast on
    seed: int = 1
    start: date = date(2027, 1, 4)


# --- The truth ------------------------------------------------------------------------------------


@dataclass
class Truth:
    """One pump as it really delivers."""

    ratio: float
    ml_per_day: float  # programmed
    filled_at: datetime | None = None
    volume: float = 20.0
    fills: int = 0  # recorded fills of this pump so far

    def remaining(self, at: datetime) -> float:
        days = (at - self.filled_at).total_seconds() / 86400
        return max(0.0, self.volume - self.ratio * self.ml_per_day * days)

    def expected(self, at: datetime) -> float:
        """What the programmer expects to be left (programmed delivery, no boluses)."""
        days = (at - self.filled_at).total_seconds() / 86400
        return max(0.0, self.volume - self.ml_per_day * days)

    def alarm_at(self) -> datetime:
        days = (self.volume - float(ALARM_ML)) / (self.ratio * self.ml_per_day)
        return self.filled_at + timedelta(days=days)

    def empty_at(self) -> datetime:
        return self.filled_at + timedelta(days=self.volume / (self.ratio * self.ml_per_day))


def residual_reading(
    truth: Truth, at: datetime, rng: random.Random, error_ml: float
) -> tuple[Decimal, Decimal]:
    """(expected, actual) as the nurse records them, to 0.1 mL."""
    actual = max(0.0, truth.remaining(at) + rng.gauss(0, error_ml))
    return Decimal(f"{truth.expected(at):.1f}"), Decimal(f"{actual:.1f}")


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile by linear interpolation (q in 0..1)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# --- The record of the year -------------------------------------------------------------------------


@dataclass
class Interval:
    child: int
    start: datetime
    alarm: datetime
    empty: datetime
    earlier_fills: int  # fills of this pump recorded at or before the start
    first_listed: datetime | None = None  # when it went on the nurse's list as urgent or critical
    texts: int = 0
    calls: int = 0  # the nurse phoned the family (to book, or from the call list)
    listed_for: str = ""  # the urgent or critical kinds that put it on the list
    missed: int = 0  # refill visits the family missed in this interval
    near: bool = False  # came within 7 days of the true alarm without a refill booked in time
    lost: bool = False  # came within 7 days with a refill booked, which fell through later
    near_listed_days: float | None = None
    near_told: bool = False
    near_at_texts: int = 0  # texts the family had received when it came within 7 days
    refilled_at: datetime | None = None


@dataclass
class Year:
    intervals: list[Interval] = field(default_factory=list)
    texts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    texts_after_booked: int = 0
    ladder: dict[str, int] = field(default_factory=lambda: defaultdict(int))  # rung -> steps taken
    undelivered: int = 0  # texts reported undelivered
    emails: int = 0  # e-mails to the nurses' inbox
    program_changes: int = 0
    boluses: int = 0
    critical_days: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))

    def figures(self, children: int, end: datetime) -> dict:
        done = [i for i in self.intervals if i.refilled_at is not None]
        margins = [(i.alarm - i.refilled_at).total_seconds() / 86400 for i in done]
        crossed = [i for i in self.intervals if i.alarm < (i.refilled_at or end)]
        emptied = [i for i in self.intervals if i.empty < (i.refilled_at or end)]
        near = [i for i in self.intervals if i.near]
        lost = [i for i in self.intervals if i.lost]
        no_danger = [c for c, days in self.critical_days.items() if all(d > 14 for d in days)]
        total_texts = sum(self.texts.values())
        return {
            "children": children,
            "refills": len(done),
            "alarm_crossed": len(crossed),
            "alarm_crossed_2_earlier": sum(1 for i in crossed if i.earlier_fills >= 2),
            "alarm_crossed_fewer": sum(1 for i in crossed if i.earlier_fills < 2),
            "empty": len(emptied),
            "margin_median": statistics.median(margins) if margins else None,
            "margin_p10": percentile(margins, 0.10),
            "margin_min": min(margins) if margins else None,
            "near": len(near),
            "near_listed_7_days": sum(
                1 for i in near if i.near_listed_days is not None and i.near_listed_days >= 7
            ),
            "near_told": sum(1 for i in near if i.near_told),
            "lost": len(lost),
            "lost_listed": sum(1 for i in lost if i.near_listed_days is not None and i.near_listed_days > 0),
            "lost_told": sum(1 for i in lost if i.near_told),
            "near_rows": [
                {
                    "child": i.child,
                    "true_alarm": i.alarm,
                    "earlier_fills": i.earlier_fills,
                    "listed_days": i.near_listed_days,
                    "texts_by_then": i.near_at_texts,
                    "texts": i.texts,
                    "calls": i.calls,
                    "listed_for": i.listed_for,
                    "missed": i.missed,
                    "when": "lost" if i.lost else "unbooked",
                    "told": i.near_told,
                    "margin_days": (i.alarm - i.refilled_at).total_seconds() / 86400
                    if i.refilled_at
                    else None,
                }
                for i in near + lost
            ],
            "texts": total_texts,
            "texts_per_child": total_texts / children if children else 0,
            "texts_after_booked": self.texts_after_booked,
            "ladder": dict(self.ladder),
            "undelivered": self.undelivered,
            "emails": self.emails,
            "program_changes": self.program_changes,
            "boluses": self.boluses,
            "critical_children": len(self.critical_days),
            "critical_no_danger": len(no_danger),
        }


def _days(delta: timedelta) -> float:
    return delta.total_seconds() / 86400


# --- Playing it ---------------------------------------------------------------------------------------


class Rollback(Exception):
    pass


class Meter:
    """Wall time and database queries per phase of the simulated day (the benchmark's figures)."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.queries: dict[str, int] = defaultdict(int)
        self._phase = "setup"

    def _count(self, execute, sql, params, many, context):
        self.queries[self._phase] += 1
        return execute(sql, params, many, context)

    @contextmanager
    def installed(self):
        from django.db import connection

        with connection.execute_wrapper(self._count):
            yield

    @contextmanager
    def phase(self, name: str):
        outer, self._phase = self._phase, name
        began = _time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += _time.perf_counter() - began
            self._phase = outer


@contextmanager
def clock(moment: datetime):
    import time_machine

    with time_machine.travel(moment, tick=False):
        yield


class Clinic:
    """The simulated clinic: rows set up once, then days played through the services."""

    def __init__(self, params: Params, log=print, *, commit: bool = False):
        self.p = params
        self.commit = commit  # each simulated day its own transaction (a throw-away database)
        self.rng = random.Random(params.seed)  # the clinic's own draws (its run name)
        # Each child draws from its own generator, seeded by the seed and its place in the clinic
        # (not its row id): what happens to one child does not depend on the order the database
        # returns the others in, nor on the ids a database hands out, so a seed gives one year.
        self.rngs: dict[int, random.Random] = {}
        self.log = log
        self.tz = ZoneInfo(DENVER)
        self.year = Year()
        self.truth: dict[int, Truth] = {}
        self.open: dict[int, Interval] = {}
        self.family_books: dict[int, date] = {}  # child -> the day the family will book
        self.meter = Meter()
        from alerts.sms import locmem

        self.awaiting_report: set[str] = locmem.awaiting_report  # texts reported undelivered
        self.last_step = 0  # the newest ladder step counted

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=self.tz)

    # Setup ---------------------------------------------------------------------------------------

    def setup(self) -> None:
        from patients.models import Caregiver, CaregiverLink, Clinic, Patient, StaffProfile, User
        from pumps.models import Pump

        start = self.p.start
        run = f"{self.p.seed}-{'on' if self.p.observed else 'off'}-{self.rng.randrange(10**6)}"
        with clock(self.at(start - timedelta(days=400), 9)):
            self.clinic = Clinic.objects.create(
                name="Simulated clinic",
                time_zone=DENVER,
                open_weekdays=[0, 1, 2, 3, 4],
                opens_at=time(8),
                closes_at=time(17),
                default_location="Rehabilitation Clinic",
                nurse_inbox_email="sim-nurses@example.test",
                phone_business_hours="+18015550100",
                phone_after_hours="+18015550101",
                phone_nurse_line="+18015550102",
            )
            user = User.objects.create(
                email=f"sim-nurse-{run}@example.test", first_name="Sim", last_name="Nurse"
            )
            StaffProfile.objects.create(user=user, clinic=self.clinic, role=StaffProfile.Role.NURSE)
            self.nurse = user
            self.children = []
            for n in range(self.p.children):
                child = Patient.objects.create(
                    clinic=self.clinic, first_name=f"Sim{n}", last_name="Child",
                    date_of_birth=date(2015, 1, 1), mrn=f"SIM{n:05d}",
                )  # fmt: skip
                parent = User.objects.create(
                    email=f"sim-parent{n}-{run}@example.test", first_name="Pat", last_name=f"P{n}"
                )
                rng = self.rngs[child.pk] = random.Random(f"{self.p.seed}:{n}")
                reachable = rng.random() >= self.p.unreachable
                if reachable and rng.random() < self.p.undelivered:
                    self.awaiting_report.add(f"+1801555{n:04d}")
                caregiver = Caregiver.objects.create(
                    user=parent, mobile=f"+1801555{n:04d}", sms_consent=reachable,
                    sms_consent_at=self.at(start - timedelta(days=400), 9) if reachable else None,
                )  # fmt: skip
                CaregiverLink.objects.create(
                    caregiver=caregiver, patient=child, relationship="mother", primary_contact=True
                )
                pump = Pump.objects.create(
                    patient=child, model="sm2_20", serial_number=f"SIM{n:06d}", implant_date=date(2024, 1, 10)
                )
                self.children.append((child, pump))
        self.child = {c.pk: c for c, _ in self.children}
        self.pump = {c.pk: p for c, p in self.children}
        for child, pump in self.children:
            self._history(child, pump)

    def _program(self, rng: random.Random) -> dict:
        """A program whose programmed interval to the alarm is 50 to 160 days."""
        conc = rng.choice([Decimal(500), Decimal(1000), Decimal(2000)])
        interval = rng.uniform(50, 160)
        dose = (Decimal(18) / Decimal(interval) * conc).quantize(Decimal("1"))
        return {"concentration_mcg_ml": conc, "mode": "simple", "daily_dose_mcg": max(dose, Decimal(25)),
                "alarm_volume_ml": ALARM_ML}  # fmt: skip

    def _history(self, child, pump) -> None:
        """Two to four past refills, the newest before the year starts, each about a week before
        the programmed alarm, the residual recorded truthfully."""
        rng = self.rngs[child.pk]
        program = self._program(rng)
        ml_per_day = float(program["daily_dose_mcg"] / program["concentration_mcg_ml"])
        truth = Truth(ratio=rng.uniform(1 - self.p.spread, 1 + self.p.spread), ml_per_day=ml_per_day)
        self.truth[child.pk] = truth
        truth.program = program
        count = rng.randint(2, 4)
        interval = (18 / ml_per_day) * 0.85
        last = self.at(self.p.start, 9) - timedelta(days=rng.uniform(1, interval * 0.8))
        times = [last - timedelta(days=interval * k) for k in reversed(range(count))]
        for at in times:
            at = self._open_time(at, rng)
            self._refill(child, pump, at, record=False)
        self.open[child.pk] = self._interval(child.pk)

    def _open_time(self, at: datetime, rng: random.Random) -> datetime:
        local = at.astimezone(self.tz)
        day = local.date()
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return self.at(day, 9 + rng.randint(0, 6), 30)

    def _interval(self, pk: int) -> Interval:
        truth = self.truth[pk]
        return Interval(child=pk, start=truth.filled_at, alarm=truth.alarm_at(), empty=truth.empty_at(),
                        earlier_fills=truth.fills)  # fmt: skip

    def _refill(self, child, pump, at: datetime, *, record: bool = True) -> None:
        from pumps.services import refill_record

        truth, rng = self.truth[child.pk], self.rngs[child.pk]
        details = {}
        if truth.filled_at is not None:
            expected, actual = residual_reading(truth, at, rng, self.p.reading_error_ml)
            details = {"expected_residual_ml": expected, "actual_residual_ml": actual}
        bolus = Decimal(0)
        if record and rng.random() < self.p.program_change:
            # The nurse changes the daily dose (5 to 15 % up or down); the pump's own error stays.
            change = Decimal(f"{rng.choice([-1, 1]) * rng.uniform(0.05, 0.15):.3f}")
            dose = (truth.program["daily_dose_mcg"] * (1 + change)).quantize(Decimal("1"))
            truth.program = {**truth.program, "daily_dose_mcg": max(dose, Decimal(25))}
            truth.ml_per_day = float(truth.program["daily_dose_mcg"] / truth.program["concentration_mcg_ml"])
            self.year.program_changes += 1
        if record and rng.random() < self.p.bolus:
            bolus = Decimal(f"{rng.uniform(0.2, 0.8):.1f}")  # a bridge bolus from the new fill
            self.year.boluses += 1
        with clock(at):
            refill_record(
                pump=pump,
                by=self.nurse,
                visit_at=at,
                volume_after_ml=CAPACITY,
                program=truth.program,
                bridge_bolus_ml=bolus,
                **details,
            )
        if record:
            interval = self.open[child.pk]
            interval.refilled_at = at
            self.year.intervals.append(interval)
        truth.filled_at, truth.volume = at, float(CAPACITY - bolus)
        truth.fills += 1
        if record:
            self.open[child.pk] = self._interval(child.pk)

    # A day -----------------------------------------------------------------------------------

    def play(self) -> dict:
        patch = (
            nullcontext()
            if self.p.observed
            else mock.patch("pumps.delivery.observed_forecast", lambda *a, **k: None)
        )
        meter = self.meter
        with patch, meter.installed():
            with meter.phase("setup"), self._committed():
                self.setup()
            for n in range(self.p.days):
                day = self.p.start + timedelta(days=n)
                with self._committed():
                    self._day(n, day)
        figures = self.year.figures(self.p.children, self.at(self.p.start + timedelta(days=self.p.days), 0))
        days = max(self.p.days, 1)
        figures["seconds"] = dict(meter.seconds)
        figures["queries"] = dict(meter.queries)
        figures["queries_per_day"] = sum(q for k, q in meter.queries.items() if k != "setup") / days
        return figures

    @contextmanager
    def _committed(self):
        """With ``commit``, a transaction that commits at the end of the block. What the
        services queue for after their commit (Celery tasks, e-mails) is dropped, as the
        rolled-back year drops it: the simulation plays the beat's work itself. Without it, the
        block is part of the caller's one transaction.

        Why commit: inside one transaction no row version it wrote can be pruned, so each
        child's safety row, rewritten at every check, grows a chain that every later read
        walks, and the simulated days slowed from 1 s to 6 s through the year."""
        if not self.commit:
            yield
            return
        from django.db import connection, transaction

        with transaction.atomic():
            queued = len(connection.run_on_commit)
            yield
            del connection.run_on_commit[queued:]

    def _day(self, n: int, day: date) -> None:
        from alerts.escalations import escalations_check
        from alerts.planning import reminders_replan_all

        meter = self.meter
        with clock(self.at(day, 2)):
            # The 5-minute check (concerns refreshed, pending e-mails sent), then the daily re-plan.
            with meter.phase("beat 02:00"):
                escalations_check(now=self.at(day, 2))
                self._emails()
            with meter.phase("watch"):
                self._listed(self.at(day, 2))
            with meter.phase("re-plan 02:00"):
                reminders_replan_all(now=self.at(day, 2))
        if day.weekday() < 5:
            with meter.phase("nurse"):
                self._nurse(day)  # 07:30, before the clinic opens
        with meter.phase("ladder"):
            self._ladder(self.at(day, 8))
        with meter.phase("beat 09:00"), clock(self.at(day, 9)):
            escalations_check(now=self.at(day, 9))
            self._emails()
        with meter.phase("watch"):
            self._listed(self.at(day, 9))
        with meter.phase("sending"):
            self._sweep(self.at(day, 10))
        with meter.phase("ladder"):
            self._ladder(self.at(day, 12))
        if day.weekday() < 5:
            with meter.phase("clinic"):
                self._clinic_day(day)
            with meter.phase("nurse"):
                self._nurse(day, evening=True)  # 17:45, the day's missed visits
        with meter.phase("ladder"):
            self._ladder(self.at(day, 16))
        with meter.phase("sending"):
            self._sweep(self.at(day, 17, 30))
        with meter.phase("families"):
            self._families_book(day)  # 19:00
        with meter.phase("ladder"):
            self._ladder(self.at(day, 20))
        with meter.phase("watch"):
            self._watch(day)
        if n % 30 == 29:
            spent = sum(v for k, v in meter.seconds.items() if k != "setup")
            self.log(f"  day {n + 1}: {len(self.year.intervals)} refills, {spent:.0f} s")

    def _upcoming_refills(self, pks, now: datetime) -> dict[int, list]:
        """child -> its open refill appointments from ``now`` on, in one query."""
        from appointments.models import Appointment

        out = defaultdict(list)
        rows = Appointment.objects.filter(patient_id__in=list(pks), kind="refill").upcoming(now=now)
        for a in rows.order_by("start", "pk"):
            out[a.patient_id].append(a)
        return out

    def _booked_in_time(self, pks, now: datetime) -> dict[int, bool]:
        """child -> a refill is booked in time (an upcoming one starting no later than the
        governing alarm the portal stores), in two queries."""
        from alerts.models import ChildSafety
        from pumps import safety

        alarms = dict(
            ChildSafety.objects.filter(patient_id__in=list(pks)).values_list("patient_id", "alarm_at")
        )
        upcoming = self._upcoming_refills(pks, now)
        return {
            pk: alarms.get(pk) is not None
            and any(safety.booked_in_time(a.start, alarms[pk]) for a in upcoming.get(pk, ()))
            for pk in pks
        }

    def _sweep(self, now: datetime) -> None:
        from alerts.models import Reminder
        from alerts.sending import reminders_claim_due, reminders_send

        with clock(now):
            ids = reminders_claim_due(now=now, limit=100_000)
            texted = set(Reminder.objects.filter(pk__in=ids).values_list("patient_id", flat=True))
            booked = self._booked_in_time(texted, now) if texted else {}
            if ids:
                reminders_send(reminder_ids=ids, now=now)
        if ids:
            self._reports(ids, now + timedelta(minutes=5))
        sent = Reminder.objects.filter(pk__in=ids, status__in=["sent", "delivered"]).values_list(
            "patient_id", "kind"
        )
        for pk, kind in sent:
            self.year.texts[pk] += 1
            self.open[pk].texts += 1
            if kind != "appointment" and booked.get(pk):
                self.year.texts_after_booked += 1
            if (
                kind in ("refill_due", "alarm", "overdue")
                and pk not in self.family_books
                and not booked.get(pk)
            ):
                self._family_will_book(pk, now)

    def _family_will_book(self, pk: int, now: datetime) -> None:
        """A family texted books 0 to ``max_delay`` days later."""
        self.family_books[pk] = now.date() + timedelta(days=self.rngs[pk].randint(0, self.p.max_delay))

    def _emails(self) -> None:
        from django.core import mail

        self.year.emails += len(getattr(mail, "outbox", []))
        if hasattr(mail, "outbox"):
            mail.outbox.clear()

    def _ladder(self, now: datetime) -> None:
        """The beat's ladder task: each rung due is taken (texts, the next caregiver, a call, the
        nurses' call list). A family texted by the ladder books like one texted by a reminder."""
        from alerts.ladder import ladders_advance
        from alerts.models import LadderStep

        with clock(now):
            ladders_advance(now=now)
        steps = LadderStep.objects.filter(pk__gt=self.last_step, concern__clinic=self.clinic).order_by("pk")
        taken = list(
            steps.values_list(
                "pk",
                "concern__patient_id",
                "rung",
                "sms_message__to_number",
                "sms_message__provider_message_id",
            )
        )
        if not taken:
            return
        self.last_step = taken[-1][0]
        texted = {pk for _, pk, rung, _, _ in taken if rung in ("text", "text_next")}
        booked = self._booked_in_time(texted, now) if texted else {}
        for _, pk, rung, to, sid in taken:
            self.year.ladder[rung] += 1
            if rung not in ("text", "text_next"):
                continue
            if to in self.awaiting_report:  # its delivery report: undelivered
                self._report(sid, None, now + timedelta(minutes=5))
                continue
            self.year.texts[pk] += 1
            self.open[pk].texts += 1
            if booked.get(pk):
                self.year.texts_after_booked += 1
            elif pk not in self.family_books:
                self._family_will_book(pk, now)

    def _reports(self, ids: list[int], now: datetime) -> None:
        """Delivery reports: the texts to a family whose phone does not receive them come back
        undelivered (the portal escalates them)."""
        from alerts.models import Reminder

        lost = Reminder.objects.filter(pk__in=ids, status="sent").exclude(provider_message_id="")
        for pk, sid in lost.values_list("pk", "provider_message_id"):
            self._report(sid, pk, now)

    def _report(self, sid: str | None, reminder_id: int | None, now: datetime) -> None:
        from alerts.inbound import sms_status_update

        self.year.undelivered += 1
        if sid:
            with clock(now):
                sms_status_update(
                    message_sid=sid,
                    status="undelivered",
                    error_code="30003",
                    reminder_id=reminder_id,
                    now=now,
                )

    def _families_book(self, day: date) -> None:
        from alerts.models import ChildSafety
        from appointments.services import AppointmentError, appointment_book

        due = sorted(pk for pk, when in self.family_books.items() if when <= day)
        if not due:
            return
        now = self.at(day, 19)
        booked = self._booked_in_time(due, now)
        states = ChildSafety.objects.in_bulk(due)
        for pk in due:
            del self.family_books[pk]
            if booked[pk]:
                continue
            state = states[pk]
            target = state.refill_due - timedelta(days=self.rngs[pk].randint(0, 5))
            target = min(target, state.alarm_day - timedelta(days=1))
            slot = self._slot(max(target, day + timedelta(days=1)), earliest=day + timedelta(days=1), pk=pk)
            child = self.child[pk]
            with clock(now):
                try:
                    appointment_book(patient=child, by=None, kind="refill", start=slot)
                except AppointmentError:
                    appointment_book(patient=child, by=None, kind="refill", start=slot,
                                     after_alarm_reason="The family's earliest day")  # fmt: skip

    def _slot(self, day: date, *, earliest: date, pk: int) -> datetime:
        """An open weekday on or before ``day`` (not before ``earliest``), else after it."""
        probe = day
        while probe.weekday() >= 5 and probe > earliest:
            probe -= timedelta(days=1)
        while probe.weekday() >= 5:
            probe += timedelta(days=1)
        rng = self.rngs[pk]
        return self.at(probe, 8 + rng.randint(0, 7), rng.choice([0, 30]))

    def _clinic_day(self, day: date) -> None:
        from appointments.models import Appointment
        from appointments.services import appointment_no_show

        start, end = self.at(day, 0), self.at(day + timedelta(days=1), 0)
        todays = Appointment.objects.open().filter(
            patient__clinic=self.clinic, kind="refill", start__gte=start, start__lt=end
        )
        todays = todays.order_by("start", "patient_id", "pk")
        pumps, children = self.pump, self.child
        for appointment in list(todays):
            if self.rngs[appointment.patient_id].random() < self.p.no_show:
                with clock(self.at(day, 17, 30)):
                    appointment_no_show(appointment=appointment, by=self.nurse)
                if appointment.patient_id in self.open:
                    self.open[appointment.patient_id].missed += 1
                continue
            pk = appointment.patient_id
            self._refill(children[pk], pumps[pk], appointment.start)

    def _nurse(self, day: date, *, evening: bool = False) -> None:
        """The worklist's critical and urgent rows: a child with no refill booked in time is
        called (the call list for a family texts do not reach) and booked. At 07:30, every such
        row; with ``evening`` (17:45, after the day's visits), the day's missed visits only: the
        nurse phones those families the same afternoon and books the next visit."""
        from alerts.models import ChildSafety, Concern
        from appointments.services import appointment_book, appointment_cancel

        now = self.at(day, 17, 45) if evening else self.at(day, 7, 30)
        children = self.child
        rows = list(
            ChildSafety.objects.filter(
                clinic=self.clinic, active=True, tier_rank__lte=1, alarm_at__isnull=False
            ).order_by("patient_id")
        )
        kinds = defaultdict(set)
        for pk, kind in Concern.objects.open().filter(clinic=self.clinic).values_list("patient_id", "kind"):
            kinds[pk].add(kind)
        upcoming = self._upcoming_refills([r.patient_id for r in rows], now) if rows else {}
        for state in rows:
            soon = state.refill_due is not None and state.refill_due <= day + timedelta(days=14)
            if not (
                kinds[state.patient_id] & BOOKING_KINDS or ("unreachable" in kinds[state.patient_id] and soon)
            ):
                continue  # a residual or a battery row: not the booking the simulation plays
            if evening and "no_show" not in kinds[state.patient_id]:
                continue
            booked = upcoming.get(state.patient_id, [])
            good = [
                a
                for a in booked
                if a.start <= state.alarm_at
                and a.start.astimezone(self.tz).date() <= max(state.refill_due, day + timedelta(days=1))
            ]
            if good:
                continue
            with clock(now):
                for a in booked:
                    appointment_cancel(appointment=a, by=self.nurse)
                tomorrow = day + timedelta(days=1)
                if state.alarm_day <= tomorrow and not evening:
                    slot = self.at(day, 16)
                elif state.alarm_day <= tomorrow:  # after the clinic's day: its first open hours
                    slot = self._slot(tomorrow, earliest=tomorrow, pk=state.patient_id)
                else:  # on or before the refill-due date (and the day before the alarm)
                    target = max(min(state.refill_due, state.alarm_day - timedelta(days=1)), tomorrow)
                    slot = self._slot(target, earliest=tomorrow, pk=state.patient_id)
                child = children[state.patient_id]
                reason = "Earliest slot"
                self.open[state.patient_id].calls += 1  # the nurse phones the family to book
                appointment_book(
                    patient=child, by=self.nurse, kind="refill", start=slot, after_alarm_reason=reason,
                    outside_hours_confirmed=True,
                )  # fmt: skip
            self.family_books.pop(state.patient_id, None)
        if not evening:
            self._call_list(day, now)

    def _call_list(self, day: date, now: datetime) -> None:
        """The nurses' call list (the ladder's last rung): each family on it is called and
        reached, and the outcome recorded (which stops the child's ladder)."""
        from alerts.ladder_answers import CallOutcomeError, call_outcome_record
        from alerts.models import LadderStep

        steps = (
            LadderStep.objects.filter(
                concern__clinic=self.clinic, rung="call_list", list_day__lte=day, outcome=""
            )
            .select_related("concern")
            .order_by("list_day", "concern__patient_id", "pk")
        )
        with clock(now):
            for step in steps:
                try:
                    call_outcome_record(
                        step=step, outcome="reached", note="Called from the list.", by=self.nurse, now=now
                    )
                except CallOutcomeError:
                    continue  # the ladder stopped since (a refill booked): nothing to record
                self.year.ladder["call_list reached"] += 1
                if step.concern.patient_id in self.open:
                    self.open[step.concern.patient_id].calls += 1

    def _next_open(self, day: date) -> date:
        probe = day + timedelta(days=1)
        while probe.weekday() >= 5:
            probe += timedelta(days=1)
        return probe

    def _listed(self, now: datetime, pks=None) -> None:
        """After each beat: the children its refresh put on the nurse's list (urgent or
        critical) go on it now, with the kinds that put them there. (A write between beats
        that lists a child is seen by the evening's watch, at that later hour.)"""
        from alerts.models import ChildSafety, Concern

        waiting = [pk for pk, i in self.open.items() if i.first_listed is None] if pks is None else pks
        if not waiting:
            return
        rows = ChildSafety.objects.filter(patient_id__in=waiting, tier_rank__lte=1)
        listed = list(rows.values_list("patient_id", flat=True))
        kinds = defaultdict(set)
        why = Concern.objects.open().filter(patient_id__in=listed, tier_rank__lte=1)
        for pk, kind in why.values_list("patient_id", "kind"):
            kinds[pk].add(kind)
        for pk in listed:
            self.open[pk].first_listed = now
            self.open[pk].listed_for = ",".join(sorted(kinds[pk]))

    def _booked_at(self, pk: int, moment: datetime, alarm: datetime) -> bool:
        """Whether the child had an open refill appointment at ``moment`` for before ``alarm``
        that has since been missed or cancelled (booked before it, starting after it, closed
        after it: the simulation's clock stamps both)."""
        from appointments.models import Appointment

        return Appointment.objects.filter(
            patient_id=pk, kind="refill", created_at__lte=moment, start__gt=moment, start__lte=alarm,
            status__in=[Appointment.Status.NO_SHOW, Appointment.Status.CANCELLED], updated_at__gt=moment,
        ).exists()  # fmt: skip

    def _watch(self, day: date) -> None:
        """The end of each day: the nurse's list, the critical tier against the truth, and the
        children within 7 days of a true alarm with no refill booked before it."""
        from alerts.models import ChildSafety

        now = self.at(day, 20)
        states = dict(ChildSafety.objects.filter(clinic=self.clinic).values_list("patient_id", "tier_rank"))
        near = [
            pk for pk, i in self.open.items() if not (i.near or i.lost) and now >= i.alarm - timedelta(days=7)
        ]  # fmt: skip
        upcoming = self._upcoming_refills(near, now) if near else {}
        unlisted = [pk for pk, i in self.open.items() if i.first_listed is None and states.get(pk, 9) <= 1]
        self._listed(now, unlisted)  # listed by a write since the morning's beat
        for pk, interval in self.open.items():
            rank = states.get(pk)
            if rank == 0:
                self.year.critical_days[pk].append(_days(interval.alarm - now))
            if interval.near or interval.lost or now < interval.alarm - timedelta(days=7):
                continue
            if any(a.start <= interval.alarm for a in upcoming.get(pk, ())):
                continue
            # Came near with nothing booked 7 days before the true alarm; or had a refill booked
            # then, which fell through since (a missed visit), counted apart.
            lost = self._booked_at(pk, interval.alarm - timedelta(days=7), interval.alarm)
            interval.near, interval.lost = not lost, lost
            if interval.first_listed is not None:
                interval.near_listed_days = _days(interval.alarm - interval.first_listed)
            interval.near_at_texts = interval.texts
        for interval in self.open.values():
            # told: a text received, or the nurse on the phone, before the true alarm
            if (interval.near or interval.lost) and not interval.near_told and now <= interval.alarm:
                interval.near_told = interval.texts + interval.calls > 0


def run(params: Params, log=print, *, throwaway: bool = False) -> dict:
    """The figures of the year. By default it is played inside one transaction that is rolled
    back (the tests' way: the database is left as it was). With ``throwaway`` it is played in a
    database of its own, created for the run and dropped after it, each simulated day committed
    (`manage.py simulate`: five times faster over a year, see ``Clinic._committed``)."""
    from django.db import transaction

    from alerts.sms import locmem

    figures: dict = {}
    locmem.awaiting_report.clear()
    try:
        if throwaway:
            with throwaway_database(log):
                figures = Clinic(params, log=log, commit=True).play()
        else:
            try:
                with transaction.atomic():
                    figures = Clinic(params, log=log).play()
                    raise Rollback
            except Rollback:
                pass
    finally:
        locmem.outbox.clear()
        locmem.awaiting_report.clear()
    return figures


@contextmanager
def throwaway_database(log=print):
    """A fresh database beside the configured one (its name + "_simulation"), migrated, used by
    the default connection for the block and dropped after it. Fresh each run, so row ids, and
    the clinic's other rows (none), are the same from run to run."""
    from django.db import connection

    test = connection.settings_dict.setdefault("TEST", {})
    old_name, old_test_name = connection.settings_dict["NAME"], test.get("NAME")
    test["NAME"] = f"{old_name}_simulation"
    began = _time.perf_counter()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    log(f"  database {test['NAME']} created and migrated in {_time.perf_counter() - began:.0f} s")
    try:
        yield
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        test["NAME"] = old_test_name


def _ladder_row(ladder: dict) -> str:
    return " / ".join(str(ladder.get(rung, 0)) for rung in ("text", "text_next", "call", "call_list"))


def phases(figures: dict) -> str:
    """Seconds and queries per phase of the simulated day (where the time goes)."""
    lines = [f"{'phase':14s} {'seconds':>8s} {'queries':>9s}"]
    for name, seconds in figures.get("seconds", {}).items():
        lines.append(f"{name:14s} {seconds:8.1f} {figures['queries'].get(name, 0):9d}")
    return "\n".join(lines)


def table(params: Params, figures: dict) -> str:
    def num(value, places=1):
        return "—" if value is None else f"{value:.{places}f}"

    rows = [
        ("refills", figures["refills"]),
        ("reservoir at the alarm volume before a refill (true)", figures["alarm_crossed"]),
        ("  of which on an interval with 2+ earlier refills of the pump", figures["alarm_crossed_2_earlier"]),
        ("  of which on an interval with fewer", figures["alarm_crossed_fewer"]),
        ("reservoir empty (true)", figures["empty"]),
        ("margin at refill, days: median", num(figures["margin_median"])),
        ("margin at refill, days: 10th percentile", num(figures["margin_p10"])),
        ("margin at refill, days: smallest", num(figures["margin_min"])),
        ("came within 7 days of a true alarm, no refill booked before it", figures["near"]),
        ("  of which on the nurse's list (urgent/critical) 7+ days before", figures["near_listed_7_days"]),
        ("  of which the family was told before it (a text, or the nurse's call)", figures["near_told"]),
        ("booked in time then, the booking lost inside the last 7 days (a missed visit)", figures["lost"]),
        ("  of which on the nurse's list before the true alarm", figures["lost_listed"]),
        ("  of which the family was told before it", figures["lost_told"]),
        ("texts", figures["texts"]),
        ("texts per child", num(figures["texts_per_child"])),
        (
            "texts sent while a refill was booked in time (not appointment reminders)",
            figures["texts_after_booked"],
        ),
        ("  of which reported undelivered (not counted above)", figures.get("undelivered", 0)),
        ("ladder steps: texts / next caregiver / calls / call list", _ladder_row(figures.get("ladder", {}))),
        ("  call-list families reached by the nurse", figures.get("ladder", {}).get("call_list reached", 0)),
        ("e-mails to the nurses' inbox", figures.get("emails", 0)),
        (
            "programming (dose) changes / bridge boluses at refills",
            f"{figures.get('program_changes', 0)} / {figures.get('boluses', 0)}",
        ),
        ("children put in the critical tier", figures["critical_children"]),
        ("  never within 14 days of a true alarm while critical", figures["critical_no_danger"]),
    ]
    head = (
        f"children={params.children} days={params.days} spread=±{params.spread:.0%} "
        f"no-show={params.no_show:.0%} "
        f"unreachable={params.unreachable:.0%} undelivered={params.undelivered:.0%} "
        f"dose-changes={params.program_change:.0%} boluses={params.bolus:.0%} "
        f"delay=0-{params.max_delay}d seed={params.seed} "
        f"observed-delivery forecast={'on' if params.observed else 'off'}"
    )
    if "queries_per_day" in figures:
        rows += [
            (
                "wall time, s (setup / the year)",
                f"{figures['seconds'].get('setup', 0):.0f} / "
                f"{sum(v for k, v in figures['seconds'].items() if k != 'setup'):.0f}",
            ),
            ("database queries per simulated day", f"{figures['queries_per_day']:.0f}"),
        ]
    width = max(len(r[0]) for r in rows)
    lines = [head, ""] + [f"{label.ljust(width)}  {value}" for label, value in rows]
    return "\n".join(lines)


def cases(figures: dict) -> str:
    """Each interval that came within 7 days of a true alarm with no refill booked before it."""
    lines = [
        "child  when      true alarm        fills  listed, days before  texts (by then / all)  "
        "calls  missed  told  margin  kinds"
    ]
    for r in figures.get("near_rows", []):
        listed = "never" if r["listed_days"] is None else f"{r['listed_days']:.1f}"
        margin = "—" if r["margin_days"] is None else f"{r['margin_days']:.1f}"
        lines.append(
            f"{r['child']:<6d} {r['when']:9s}  {r['true_alarm']:%Y-%m-%d %H:%M}  {r['earlier_fills']:5d}  "
            f"{listed:>19s}  "
            f"{r['texts_by_then']:>8d} / {r['texts']:<11d}  {r['calls']:5d}  {r['missed']:6d}  "
            f"{'yes' if r['told'] else 'no':4s}  {margin:>6s}  {r['listed_for']}"
        )
    return "\n".join(lines)
