"""The next instant at which time alone changes a child's assessment (pumps/safety.py:
Assessment.changes_at, issue 27): nothing changes before it, and it falls where the rules say,
right across the clinic's calendar and daylight-saving changes. Pure: every clock is pinned."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from pumps import safety
from pumps.clinic_calendar import ClinicCalendar

DENVER = ZoneInfo("America/Denver")


def local(y, m, d, hh=12, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=DENVER)


def utc(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


def facts(*, alarm_at: datetime, refill_due: date, bookings=(), contacts=(), **extra) -> safety.Facts:
    visit = safety.Visit(
        visit_id=1, at=alarm_at - timedelta(days=80), alarm_at=alarm_at, refill_due=refill_due
    )
    defaults = {"tz": DENVER, "pump_id": 1, "implant_date": date(2024, 1, 10), "latest": visit}
    contact = safety.Contact(caregiver_id=1, can_text=True)
    return safety.Facts(
        **{**defaults, "bookings": tuple(bookings), "contacts": tuple(contacts) or (contact,), **extra}
    )


# --- Where the instant falls ----------------------------------------------------------------------


def test_the_refill_due_window_opens_at_local_midnight_on_the_day_of_a_spring_clock_change():
    # Due 28 Mar 2027: "due soon" opens 14 days before, on 14 Mar, the day the clocks go forward
    # (at 02:00): its midnight is still MST, 07:00 UTC.
    f = facts(alarm_at=local(2027, 4, 4, 15), refill_due=date(2027, 3, 28))
    assessment = safety.assess(f, now=local(2027, 3, 10, 9))
    assert assessment.concerns == ()
    assert assessment.changes_at == utc(2027, 3, 14, 7)
    assert [c.kind for c in safety.assess(f, now=utc(2027, 3, 14, 7)).concerns] == [safety.Kind.DUE_SOON]
    assert safety.assess(f, now=utc(2027, 3, 14, 6, 59)).concerns == ()


def test_due_soon_turns_urgent_at_local_midnight_of_the_refill_due_date_itself():
    # Nothing booked, due Mon 15 Mar 2027 (the day after the spring change: midnight is MDT,
    # 06:00 UTC): attention until then, urgent from the start of that day, a whole lead time
    # before the alarm of 22 Mar.
    f = facts(alarm_at=local(2027, 3, 22, 9), refill_due=date(2027, 3, 15))
    before = safety.assess(f, now=local(2027, 3, 14, 20))
    assert [(c.kind, c.tier) for c in before.concerns] == [(safety.Kind.DUE_SOON, safety.Tier.ATTENTION)]
    assert before.changes_at == utc(2027, 3, 15, 6)
    on_the_day = safety.assess(f, now=utc(2027, 3, 15, 6))
    assert [(c.kind, c.tier) for c in on_the_day.concerns] == [(safety.Kind.DUE_SOON, safety.Tier.URGENT)]
    assert local(2027, 3, 22, 9) - utc(2027, 3, 15, 6) >= timedelta(days=7)


def test_a_day_counted_in_the_words_changes_them_at_each_local_midnight_across_dst():
    # The alarm passed: "days ago" and the act-by date change at every local midnight; the day
    # of 1 Nov 2026 lasts 25 hours (the clocks go back), so its end is at 07:00 UTC, not 06:00.
    f = facts(alarm_at=local(2026, 10, 25, 15), refill_due=date(2026, 10, 18))
    assert safety.assess(f, now=local(2026, 10, 31, 12)).changes_at == utc(2026, 11, 1, 6)
    assert safety.assess(f, now=local(2026, 11, 1, 12)).changes_at == utc(2026, 11, 2, 7)
    assert safety.assess(f, now=local(2027, 3, 14, 12)).changes_at == utc(2027, 3, 15, 6)


def test_the_alarm_instant_itself_and_the_near_window_before_it():
    f = facts(alarm_at=local(2026, 12, 7, 15), refill_due=date(2026, 11, 30), bookings=[
        safety.Booking(appointment_id=5, kind="refill", start=local(2026, 11, 28, 9))])  # fmt: skip
    # Booked in time: no "alarm near" window; nothing changes until the alarm instant (the
    # booking leaving the facts when its day ends is the loader's instant: Facts.until).
    assert safety.assess(f, now=local(2026, 12, 2, 9)).changes_at == local(2026, 12, 7, 15)
    unbooked = facts(alarm_at=local(2026, 12, 7, 15), refill_due=date(2026, 12, 20))
    assert safety.assess(unbooked, now=local(2026, 12, 2, 9)).changes_at == local(2026, 12, 4, 0)


def test_a_text_with_no_report_flips_just_after_the_hour():
    sent = local(2026, 11, 16, 10)
    contact = safety.Contact(caregiver_id=1, can_text=True, last_text_status="sent", last_text_at=sent)
    f = facts(alarm_at=local(2027, 2, 7, 15), refill_due=date(2027, 1, 20), contacts=[contact])
    at = safety.assess(f, now=local(2026, 11, 16, 10, 30)).changes_at
    assert at == sent + safety.NOT_DELIVERED_AFTER + timedelta(microseconds=1)
    assert safety.assess(f, now=at - timedelta(microseconds=1)).concerns == ()
    assert [c.kind for c in safety.assess(f, now=at).concerns] == [safety.Kind.UNREACHABLE]


def test_a_closed_day_moves_the_refill_due_date_and_its_window_with_it():
    # The observed-rate alarm governs (15 Mar 2027, 5 days before the programmed one: no concern
    # of its own): refill-due = alarm day - 7 lead days = Mon 8 Mar, a closed date; the clinic is
    # shut at weekends, so it moves to Fri 5 Mar, and "due soon" opens 14 days before that, on
    # 19 Feb, at local midnight.
    calendar = ClinicCalendar(tz=DENVER, open_weekdays=frozenset(range(5)), closed_dates={date(2027, 3, 8)})
    visit = safety.Visit(
        visit_id=1, at=local(2026, 12, 1), alarm_at=local(2027, 3, 20, 15), refill_due=date(2027, 3, 12),
        observed_alarm_at=local(2027, 3, 15, 9),
    )  # fmt: skip
    f = safety.Facts(tz=DENVER, pump_id=1, latest=visit, calendar=calendar,
                     contacts=(safety.Contact(caregiver_id=1, can_text=True),))  # fmt: skip
    assessment = safety.assess(f, now=local(2027, 1, 10))
    assert assessment.dates.refill_due == date(2027, 3, 5)
    assert assessment.changes_at == local(2027, 2, 19, 0)
    without = safety.assess(replace(f, calendar=None), now=local(2027, 1, 10))
    assert (without.dates.refill_due, without.changes_at) == (date(2027, 3, 8), local(2027, 2, 22, 0))


def test_the_clinic_opening_or_closing_is_no_instant_no_concern_reads_the_hours():
    calendar = ClinicCalendar(tz=DENVER, opens_at=time(8), closes_at=time(17))
    f = facts(alarm_at=local(2027, 2, 7, 15), refill_due=date(2027, 1, 20), calendar=calendar)
    before, after = (
        safety.assess(f, now=local(2026, 12, 1, 16, 59)),
        safety.assess(f, now=local(2026, 12, 1, 17, 1)),
    )
    assert before == after and before.changes_at == local(2027, 1, 6, 0)  # the due window


def test_the_battery_window_eri_and_the_facts_own_until():
    f = facts(alarm_at=local(2027, 2, 7, 15), refill_due=date(2027, 1, 20), implant_date=date(2020, 6, 1))
    # Window opens implant + 6 years + 182 days = 30 Nov 2026; critical 90 days before 1 Jun 2027.
    assert safety.assess(f, now=local(2026, 11, 20)).changes_at == local(2026, 11, 30, 0)
    assert safety.assess(f, now=local(2026, 12, 20)).changes_at == local(2027, 1, 6, 0)  # due soon first
    until = local(2026, 11, 25, 7, 30)
    assert safety.assess(replace(f, until=until), now=local(2026, 11, 20)).changes_at == until


# --- Nothing changes before it --------------------------------------------------------------------

T0 = local(2026, 11, 10, 0)


@st.composite
def random_facts(draw):
    minutes = st.integers(-20 * 24 * 60, 40 * 24 * 60)
    alarm_at = T0 + timedelta(minutes=draw(minutes))
    due = alarm_at.astimezone(DENVER).date() - timedelta(days=draw(st.integers(0, 20)))
    bookings = tuple(
        safety.Booking(
            appointment_id=i,
            kind=draw(st.sampled_from(["refill", "battery"])),
            start=T0 + timedelta(minutes=draw(minutes)),
        )  # fmt: skip
        for i in range(draw(st.integers(0, 2)))
    )
    bookings = tuple(sorted(bookings, key=lambda b: b.start))
    contacts = tuple(
        safety.Contact(
            caregiver_id=i,
            can_text=draw(st.booleans()),
            last_text_status=draw(st.sampled_from(["", "sent", "delivered", "failed"])),
            last_text_at=T0 + timedelta(minutes=draw(st.integers(-600, 3 * 24 * 60))),
        )
        for i in range(draw(st.integers(0, 2)))
    )
    eri = draw(st.none() | st.integers(-5, 30).map(lambda d: T0.date() + timedelta(days=d)))
    held = draw(st.none() | st.integers(-600, 3000).map(lambda m: T0 + timedelta(minutes=m)))
    no_show = draw(st.none() | st.sampled_from(bookings or (None,)))
    return facts(
        alarm_at=alarm_at, refill_due=due, bookings=bookings, contacts=contacts, eri_date=eri,
        implant_date=draw(st.sampled_from([date(2024, 1, 10), date(2020, 5, 20)])),
        texts_held_since=held, texts_waiting=draw(st.integers(0, 2)), no_show=no_show,
        registering=not contacts,
    )  # fmt: skip


@settings(max_examples=400, deadline=None, derandomize=True)
@given(f=random_facts(), at=st.integers(0, 30 * 24 * 60), fraction=st.floats(0, 1, exclude_max=True))
def test_nothing_changes_before_the_instant(f, at, fraction):
    now = T0 + timedelta(minutes=at)
    first = safety.assess(f, now=now)
    horizon = first.changes_at or now + timedelta(days=400)
    later = min(now + (horizon - now) * fraction, horizon - timedelta(microseconds=1))
    second = safety.assess(f, now=later)
    assert second.concerns == first.concerns and second.dates == first.dates
    assert second.changes_at == first.changes_at
