"""The simulated clinic year's pieces (patients/demo/simulation.py): the truth it measures
against, its figures, and a short run through the services that leaves the database as it was."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from random import Random

import pytest

from patients.demo import simulation as sim

T0 = datetime(2027, 1, 4, 16, tzinfo=UTC)


def test_the_true_reservoir_of_a_pump_delivering_more():
    truth = sim.Truth(ratio=1.1, ml_per_day=0.2, filled_at=T0, volume=20.0)
    # 18 mL to the alarm at 0.22 mL/day, 20 mL to empty.
    assert truth.alarm_at() == T0 + timedelta(days=18 / 0.22)
    assert truth.empty_at() == T0 + timedelta(days=20 / 0.22)
    at = T0 + timedelta(days=50)
    assert truth.remaining(at) == pytest.approx(20 - 0.22 * 50)
    assert truth.expected(at) == pytest.approx(20 - 0.2 * 50)  # the programmer's expectation
    assert truth.remaining(T0 + timedelta(days=200)) == 0.0  # never below empty


def test_the_residual_reading_is_the_truth_plus_a_reading_error():
    truth = sim.Truth(ratio=0.9, ml_per_day=0.2, filled_at=T0, volume=20.0)
    at = T0 + timedelta(days=60)
    expected, actual = sim.residual_reading(truth, at, Random(1), 0.0)
    assert (expected, actual) == (Decimal("8.0"), Decimal("9.2"))
    readings = [sim.residual_reading(truth, at, Random(seed), 0.1)[1] for seed in range(200)]
    assert abs(sum(readings) / len(readings) - Decimal("9.2")) < Decimal("0.05")
    assert all(r >= 0 for r in readings)


def test_percentile_interpolates():
    assert sim.percentile([], 0.1) is None
    assert sim.percentile([5.0], 0.1) == 5.0
    assert sim.percentile([0.0, 10.0], 0.1) == pytest.approx(1.0)
    assert sim.percentile(list(map(float, range(11))), 0.1) == pytest.approx(1.0)


def test_the_figures_of_a_year():
    year = sim.Year()
    end = T0 + timedelta(days=365)

    def interval(alarm_days, refill_days, earlier=3, **kw):
        refilled = T0 + timedelta(days=refill_days) if refill_days else None
        alarm = T0 + timedelta(days=alarm_days)
        return sim.Interval(child=1, start=T0, alarm=alarm, empty=alarm + timedelta(days=10),
                            earlier_fills=earlier, refilled_at=refilled, **kw)  # fmt: skip

    year.intervals = [
        interval(90, 80),  # margin 10
        interval(90, 95),  # crossed, margin -5
        interval(90, 101, earlier=1),  # crossed and empty, fewer than 2 earlier fills
        interval(90, None),  # not refilled by the end: crossed and empty
        interval(400, None),  # not refilled, not crossed by the end
    ]
    year.intervals[1].near, year.intervals[1].near_listed_days, year.intervals[1].near_told = True, 8.0, True
    year.intervals[2].lost, year.intervals[2].near_listed_days = True, 5.5  # a missed visit, listed then
    year.texts.update({1: 3, 2: 1})
    year.texts_after_booked = 1
    year.critical_days[1] += [20.0, 16.0]  # never within 14 days: counted
    year.critical_days[2] += [20.0, 3.0]
    f = year.figures(children=2, end=end)
    assert f["refills"] == 3
    assert (f["alarm_crossed"], f["alarm_crossed_2_earlier"], f["alarm_crossed_fewer"]) == (3, 2, 1)
    assert f["empty"] == 2
    assert f["margin_min"] == pytest.approx(-11.0)
    assert f["margin_median"] == pytest.approx(-5.0)
    assert (f["near"], f["near_listed_7_days"], f["near_told"]) == (1, 1, 1)
    assert (f["lost"], f["lost_listed"], f["lost_told"]) == (1, 1, 0)
    assert [r["when"] for r in f["near_rows"]] == ["unbooked", "lost"]
    assert "lost" in sim.cases(f)
    assert (f["texts"], f["texts_per_child"], f["texts_after_booked"]) == (4, 2.0, 1)
    assert (f["critical_children"], f["critical_no_danger"]) == (2, 1)
    assert "observed-delivery forecast=on" in sim.table(sim.Params(), f)


@pytest.mark.django_db(transaction=False)
def test_a_short_run_through_the_services_leaves_nothing_behind():
    from patients.models import Patient
    from pumps.models import RefillVisit

    before = (Patient.objects.count(), RefillVisit.objects.count())
    params = sim.Params(children=3, days=6, seed=4)
    figures = sim.run(params, log=lambda line: None)
    assert figures["children"] == 3
    # Each child starts with two to four refills recorded through the service; none is left.
    assert (Patient.objects.count(), RefillVisit.objects.count()) == before
    again = sim.run(params, log=lambda line: None)
    timing = ("seconds",)  # wall time differs from run to run; everything else is seeded
    assert {k: v for k, v in again.items() if k not in timing} == {
        k: v for k, v in figures.items() if k not in timing
    }
    assert figures["queries_per_day"] > 0 and figures["queries"]["setup"] > 0
    assert {"setup", "beat 02:00", "re-plan 02:00", "sending", "ladder", "watch"} <= set(figures["seconds"])
    assert "database queries per simulated day" in sim.table(params, figures)


def test_the_meter_counts_queries_per_phase(db):
    from patients.models import Clinic

    meter = sim.Meter()
    with meter.installed():
        with meter.phase("one"):
            Clinic.objects.count()
            with meter.phase("two"):
                Clinic.objects.count()
                Clinic.objects.count()
            Clinic.objects.count()
    assert (meter.queries["one"], meter.queries["two"]) == (2, 2)
    assert meter.seconds["one"] >= meter.seconds["two"] > 0
    assert "two" in sim.phases({"seconds": meter.seconds, "queries": meter.queries})


def test_locmem_leaves_a_number_awaiting_its_delivery_report():
    from alerts.sms import locmem

    backend = locmem.LocmemBackend()
    locmem.awaiting_report.add("+18015550001")
    try:
        assert backend.send(to="+18015550001", body="x").status == "sent"
        assert backend.send(to="+18015550002", body="x").status == "delivered"
    finally:
        locmem.awaiting_report.clear()
        locmem.outbox.clear()


@pytest.mark.django_db(transaction=False)
def test_a_committed_day_drops_what_the_services_queue_after_commit():
    """`make simulate` commits each simulated day in a throw-away database; what the services
    queue for after their commit (tasks, e-mails) is dropped, as the rolled-back year drops it,
    and what was queued before the day stays."""
    from django.db import connection, transaction

    ran = []
    transaction.on_commit(lambda: ran.append("before"))
    clinic = sim.Clinic(sim.Params(children=1, days=1), log=lambda line: None, commit=True)
    with clinic._committed():
        transaction.on_commit(lambda: ran.append("inside"))
        assert len(connection.run_on_commit) == 2
    assert [func() for _, func, _ in connection.run_on_commit] == [None]
    assert ran == ["before"]
