"""The safety assessment (pumps/safety.py), pure and table-driven: each rule at its thresholds."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from pumps import forecast as fc
from pumps import safety as s

TZ = ZoneInfo("America/Denver")
NOW = datetime(2026, 6, 10, 16, 0, tzinfo=UTC)  # 10:00 in Denver
TODAY = date(2026, 6, 10)


def at(day_offset: float, hour: int = 10) -> datetime:
    base = datetime.combine(TODAY, time(hour), tzinfo=TZ)
    return (base + timedelta(days=day_offset)).astimezone(UTC)


def facts(
    *,
    alarm_in=40.0,
    due_in=None,
    booked_in=None,
    refilled_days_ago=60,
    printed=None,
    printed_resolved=False,
    residuals=(),
    eri=None,
    implant=date(2024, 1, 10),
    model_shuts_off=True,
    battery_booked=False,
    no_show_days_ago=None,
    contacts=None,
    flex=(),
    visit_at=None,
    alarm_at=None,
) -> s.Facts:
    alarm_at = alarm_at or at(alarm_in, 14)
    contacts = (s.Contact(caregiver_id=1, can_text=True),) if contacts is None else contacts
    due = (
        TODAY + timedelta(days=due_in)
        if due_in is not None
        else alarm_at.astimezone(TZ).date() - timedelta(days=7)
    )
    visit_at = visit_at or at(-refilled_days_ago)
    bookings = []
    if booked_in is not None:
        bookings.append(s.Booking(appointment_id=7, kind="refill", start=at(booked_in, 9)))
    if battery_booked:
        bookings.append(s.Booking(appointment_id=8, kind="battery", start=at(30, 9)))
    refills = tuple(
        s.Refill(
            visit_id=100 - i,
            at=visit_at - timedelta(days=90 * i),
            expected_residual_ml=row[0],
            actual_residual_ml=row[1],
            start_ml=row[2] if len(row) > 2 else None,
        )
        for i, row in enumerate(residuals)
    ) or (s.Refill(visit_id=100, at=visit_at),)
    return s.Facts(
        tz=TZ,
        pump_id=5,
        implant_date=implant,
        eri_date=eri,
        shuts_off_at_7_years=model_shuts_off,
        latest=s.Visit(
            visit_id=100,
            at=visit_at,
            alarm_at=alarm_at,
            refill_due=due,
            printed_alarm_date=printed,
            printed_resolved=printed_resolved,
            flex_steps=flex,
        ),
        refills=refills,
        bookings=tuple(sorted(bookings, key=lambda b: b.start)),
        no_show=s.Booking(appointment_id=9, kind="refill", start=at(-no_show_days_ago, 9))
        if no_show_days_ago is not None
        else None,
        contacts=contacts,
    )


def kinds(f: s.Facts, now=NOW) -> dict[str, str]:
    return {c.kind.value: c.tier.value for c in s.assess(f, now=now).concerns}


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ({"alarm_in": 40, "booked_in": 30}, {}),
        ({"alarm_in": 40}, {}),
        ({"alarm_in": 20}, {"due_soon": "attention"}),
        ({"alarm_in": 8, "due_in": 1}, {"due_soon": "attention"}),
        ({"alarm_in": 7, "due_in": 0}, {"due_soon": "urgent"}),  # due today, nothing booked
        ({"alarm_in": 7, "due_in": 0, "booked_in": 0}, {}),
        ({"alarm_in": -1}, {"alarm_passed": "critical", "due_passed": "urgent"}),
        ({"alarm_in": -1, "booked_in": 1}, {"alarm_passed": "critical", "booked_after_alarm": "critical"}),
        ({"alarm_in": 3, "due_in": -4}, {"alarm_near": "critical", "due_passed": "urgent"}),
        ({"alarm_in": 4, "due_in": -3}, {"due_passed": "urgent"}),
        ({"alarm_in": 3, "due_in": -4, "booked_in": 1}, {"booked_after_due": "urgent"}),
        (
            {"alarm_in": 3, "due_in": -4, "booked_in": 5},
            {"alarm_near": "critical", "booked_after_alarm": "critical"},
        ),
        ({"alarm_in": 20, "due_in": 13, "booked_in": 25}, {"booked_after_alarm": "critical"}),
        ({"alarm_in": 20, "due_in": 13, "booked_in": 15}, {"booked_after_due": "urgent"}),
        ({"alarm_in": 20, "due_in": 13, "booked_in": 13}, {}),
        (
            {"alarm_in": 60, "due_in": 10, "booked_in": 12, "refilled_days_ago": 170},
            {"booked_past_cap": "urgent"},
        ),
    ],
)
def test_refill_dates_and_bookings(case, expected):
    assert kinds(facts(**case)) == expected


def test_booked_in_time_compares_instants_on_the_alarm_day():
    alarm = at(2, 14)
    assert s.booked_in_time(at(2, 13), alarm)
    assert s.booked_in_time(alarm, alarm)
    assert not s.booked_in_time(at(2, 15), alarm)


def test_alarm_near_starts_exactly_n_days_before_the_alarm():
    assert "alarm_near" in kinds(facts(alarm_in=3, due_in=-4))
    assert "alarm_near" not in kinds(facts(alarm_in=4, due_in=-3))
    rules = s.Rules(alarm_near_days=5)
    f = facts(alarm_in=5, due_in=-2)
    assert "alarm_near" in kinds(s.Facts(**{**f.__dict__, "rules": rules}))


def test_alarm_passed_holds_from_the_alarm_instant():
    alarm = at(0, 14)
    f = facts(alarm_at=alarm)
    assert "alarm_passed" not in kinds(f, now=alarm - timedelta(seconds=1))
    assert "alarm_passed" in kinds(f, now=alarm)


@pytest.mark.parametrize(
    ("expected", "actual", "kind"),
    [
        (Decimal("5.0"), Decimal("7.1"), "residual_high"),
        (Decimal("5.0"), Decimal("2.9"), "residual_low"),
        (Decimal("5.0"), Decimal("6.0"), "residual_high"),  # ratio 1.20
        (Decimal("5.0"), Decimal("5.7"), None),  # ratio 1.14, 0.7 mL
        (Decimal("10.0"), Decimal("8.5"), None),  # ratio 0.85: inside
        (Decimal("10.0"), Decimal("8.4"), "residual_low"),
    ],
)
def test_residual_discrepancy_without_the_start_volume(expected, actual, kind):
    """Without the volume the fill before left, the ratio cannot be read: the old discrepancy test
    speaks, at urgent both ways (docs/rules.md#residual-volume-check)."""
    found = kinds(facts(residuals=[(expected, actual)]))
    residual = {k: v for k, v in found.items() if k.startswith("residual")}
    assert residual == ({kind: "urgent"} if kind else {})


D = Decimal


@pytest.mark.parametrize(
    ("start", "expected", "actual", "judged"),
    [
        # 20 mL left by the fill before, 4 mL expected: 16 mL programmed.
        (D(20), D(4), D("19.0"), ("residual_high", "critical")),  # 1 mL delivered: 6 %, a stall
        (D(20), D(4), D("12.1"), ("residual_high", "critical")),  # 7.9 mL: 49 %
        (D(20), D(4), D("12.0"), ("residual_high", "urgent")),  # 8 mL: 50 %
        (D(20), D(4), D("6.5"), ("residual_high", "urgent")),  # 13.5 mL: 84 %
        (D(20), D(4), D("6.4"), ("residual_high", "attention")),  # 13.6 mL: 85 %, a drift
        (D(20), D(4), D("5.7"), ("residual_high", "attention")),  # 14.3 mL: 89 %
        (D(20), D(4), D("5.6"), None),  # 14.4 mL: 90 %
        (D(20), D(4), D("2.4"), None),  # 17.6 mL: 110 %
        (D(20), D(4), D("2.3"), ("residual_low", "attention")),  # 17.7 mL: 111 %
        (D(20), D(4), D("1.6"), ("residual_low", "attention")),  # 18.4 mL: 115 %
        (D(20), D(4), D("1.5"), ("residual_low", "urgent")),  # 18.5 mL: 116 %
        # A small expected residual no longer overreacts: 0.5 mL expected, 1.1 mL aspirated is a
        # ratio of 2.2 (critical before), but 96 % of the 19.5 mL programmed was delivered.
        (D(20), D("0.5"), D("1.1"), None),
        (D(20), D("0.5"), D("0"), None),  # 102.6 %
    ],
)
def test_residual_judged_by_delivery(start, expected, actual, judged):
    found = kinds(facts(residuals=[(expected, actual, start)]))
    residual = {k: v for k, v in found.items() if k.startswith("residual")}
    assert residual == (dict([judged]) if judged else {})


def test_the_critical_residual_says_stall_and_the_ratio():
    f = facts(residuals=[(D(4), D(19), D(20))])
    [concern] = [c for c in s.assess(f, now=NOW).concerns if c.kind == "residual_high"]
    assert "delivered 6 % of programmed" in concern.nurse_words()
    assert "possible pump stall" in concern.nurse_words()


def test_residual_trend_over_three_refills():
    rows = [(Decimal(10), Decimal("10.9")), (Decimal(10), Decimal("10.6")), (Decimal(10), Decimal("10.3"))]
    assert kinds(facts(residuals=rows)) == {"residual_trend": "attention"}
    steady = [(Decimal(5), Decimal("5.4")), (Decimal(5), Decimal("6.0")), (Decimal(5), Decimal("5.2"))]
    assert "residual_trend" not in kinds(facts(residuals=steady))


def test_an_earlier_printed_date_governs_until_resolved():
    f = facts(alarm_in=40, printed=TODAY + timedelta(days=30))
    result = s.assess(f, now=NOW)
    assert result.dates.alarm_day == TODAY + timedelta(days=30)
    assert result.dates.refill_due == TODAY + timedelta(days=23)
    assert {c.kind.value for c in result.concerns} == {"printed_differs"}
    resolved = s.assess(
        facts(alarm_in=40, printed=TODAY + timedelta(days=30), printed_resolved=True), now=NOW
    )
    assert resolved.dates.alarm_day == TODAY + timedelta(days=40)
    assert resolved.concerns == ()


def test_a_later_printed_date_is_flagged_but_never_governs():
    result = s.assess(facts(alarm_in=40, printed=TODAY + timedelta(days=45)), now=NOW)
    assert result.dates.alarm_day == TODAY + timedelta(days=40)
    assert [c.kind.value for c in result.concerns] == ["printed_differs"]


def test_printed_within_a_day_is_not_a_difference():
    assert kinds(facts(alarm_in=40, printed=TODAY + timedelta(days=39))) == {}


def test_eri_is_critical_until_the_replacement_is_booked():
    assert kinds(facts(eri=TODAY - timedelta(days=3))) == {"eri": "critical"}
    assert kinds(facts(eri=TODAY - timedelta(days=3), battery_booked=True)) == {}


def test_battery_window_is_urgent_then_critical_within_90_days_of_replace_by():
    opened = facts(implant=date(2019, 11, 1))  # window opened May 2026, replace by 2026-11-01
    assert kinds(opened) == {"battery": "urgent"}
    late = facts(implant=date(2019, 8, 1))  # replace by 2026-08-01: 52 days
    assert kinds(late) == {"battery": "critical"}
    assert kinds(facts(implant=date(2019, 11, 1), battery_booked=True)) == {}
    assert kinds(facts(implant=date(2020, 6, 1))) == {}


def test_a_no_show_is_urgent_until_rebooked():
    assert kinds(facts(no_show_days_ago=2)) == {"no_show": "urgent"}
    assert kinds(facts(no_show_days_ago=2, booked_in=10)) == {}
    assert kinds(facts(no_show_days_ago=70)) == {}  # before the last refill


FAILED_TEXT = s.Contact(1, True, last_text_status="failed", last_text_at=at(-1))
LATE = s.Contact(1, True, last_text_status="sent", last_text_at=NOW - timedelta(minutes=61))
ON_TIME = s.Contact(1, True, last_text_status="sent", last_text_at=NOW - timedelta(minutes=59))


@pytest.mark.parametrize(
    ("contacts", "alarm_in", "tier", "reasons"),
    [
        ((), 40, "urgent", ["no_textable"]),
        ((s.Contact(1, can_text=False, opted_out=True),), 40, "urgent", ["no_textable", "opted_out"]),
        ((FAILED_TEXT,), 10, "critical", ["undelivered"]),
        ((LATE,), 40, "urgent", ["no_report"]),
        ((ON_TIME,), 40, None, []),
        ((s.Contact(1, True, last_text_status="delivered", last_text_at=at(-1)),), 40, None, []),
    ],
)  # fmt: skip
def test_family_cannot_be_reached(contacts, alarm_in, tier, reasons):
    result = s.assess(facts(contacts=contacts, alarm_in=alarm_in, booked_in=alarm_in - 8), now=NOW)
    found = [c for c in result.concerns if c.kind == s.Kind.UNREACHABLE]
    if tier is None:
        assert found == []
    else:
        assert (found[0].tier.value, found[0].details["reasons"]) == (tier, reasons)
        assert found[0].family_level is None and found[0].needs_nurse


def test_flex_child_whose_interval_crosses_a_clock_change_says_which_steps_run_off():
    steps = (fc.FlexStep(time(7, 0), Decimal(14)), fc.FlexStep(time(19, 0), Decimal(11)))
    visit_at = datetime(2026, 10, 1, 9, 30, tzinfo=TZ)  # MDT, UTC-6
    f = facts(flex=steps, visit_at=visit_at, alarm_at=datetime(2026, 12, 20, 12, tzinfo=TZ))
    result = s.assess(f, now=datetime(2026, 10, 2, 16, tzinfo=UTC))
    [concern] = [c for c in result.concerns if c.kind == s.Kind.FLEX_CLOCK]
    assert concern.tier == s.Tier.ATTENTION
    assert concern.details["from_day"] == "2026-11-01"
    assert concern.details["shift_hours"] == -1
    assert concern.details["steps"] == [["07:00", "06:00"], ["19:00", "18:00"]]
    assert "from 1 Nov 2026" in concern.nurse_words()
    simple = facts(visit_at=visit_at, alarm_at=datetime(2026, 12, 20, 12, tzinfo=TZ))
    assert "flex_clock" not in kinds(simple, now=datetime(2026, 10, 2, 16, tzinfo=UTC))


def test_the_family_is_told_the_most_pressing_thing_first():
    result = s.assess(facts(alarm_in=-1, eri=TODAY - timedelta(days=1)), now=NOW)
    assert result.family.kind == s.Kind.ALARM_PASSED
    assert result.rank == 0
    calm = s.assess(facts(alarm_in=40, booked_in=30), now=NOW)
    assert calm.family is None and calm.rank == s.NO_CONCERN_RANK


def test_every_kind_has_nurse_words():
    for kind in s.Kind:
        assert s.nurse_words(kind, {}) != ""


def test_a_printed_date_that_governs_moves_the_refill_due_date_onto_an_open_clinic_day():
    """The calendar's one rule (clinic_calendar.open_day_on_or_before), not a second copy."""
    from dataclasses import replace

    from pumps.clinic_calendar import ClinicCalendar

    calendar = ClinicCalendar(tz=TZ, closed_dates=frozenset({date(2026, 7, 3)}))
    f = facts(alarm_in=40, printed=TODAY + timedelta(days=30))  # due 3 July, a closed Friday
    assert s.assess(f, now=NOW).dates.refill_due == date(2026, 7, 3)
    assert s.assess(replace(f, calendar=calendar), now=NOW).dates.refill_due == date(2026, 7, 2)
    weekend = replace(facts(alarm_in=40, printed=TODAY + timedelta(days=32)), calendar=calendar)
    assert s.assess(weekend, now=NOW).dates.refill_due == date(2026, 7, 2)  # Sun 5th, Fri 3rd closed


def test_a_shared_parents_new_number_is_urgent_for_the_nurse_until_checked():
    from dataclasses import replace

    change = s.ContactChange(proof_id=41, caregiver_id=1, caregiver_name="Pat Doe", at=at(-1))
    result = s.assess(replace(facts(alarm_in=40, booked_in=30), contact_changes=(change,)), now=NOW)
    [concern] = result.concerns
    assert (concern.kind, concern.tier, concern.key) == (
        s.Kind.CONTACT_CHANGED,
        s.Tier.URGENT,
        "contact_changed:41",
    )
    assert concern.needs_nurse and concern.family_level is None
    assert "Pat Doe" in concern.nurse_words() and result.family is None
    checked = replace(change, checked=True)
    assert (
        s.assess(replace(facts(alarm_in=40, booked_in=30), contact_changes=(checked,)), now=NOW).concerns
        == ()
    )
