"""The clinic's safety figures against a fixture whose numbers are worked out by hand below."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from alerts.models import Concern, LadderStep, SmsMessage
from patients.staff.figures.compute import nearest_rank
from patients.staff.figures.data import clinic_figures
from pumps.models import RefillVisit
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill
from tests.helpers import login_as

pytestmark = pytest.mark.django_db
DENVER = ZoneInfo("America/Denver")
NOW = datetime(2026, 3, 20, 12, tzinfo=DENVER)


def at(y, m, d, hh=10, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=DENVER)


def visit(pump, when, *, alarm, due, kind="refill"):
    """A visit with its stored alarm (worst case) and refill-due date pinned by hand."""
    row = refill(pump, visit_at=when, kind=kind)
    RefillVisit.objects.filter(pk=row.pk).update(alarm_at_worst=alarm, refill_due=due)


def concern(patient, *, tier, began, acknowledged=None, n=[0]):  # noqa: B006 - a counter for unique keys
    n[0] += 1
    return Concern.objects.create(
        patient=patient,
        clinic=patient.clinic,
        kind="alarm_passed",
        tier=tier,
        tier_rank={"critical": 0, "urgent": 1}[tier],
        key=f"fixture-{n[0]}",
        began_at=began,
        opened_at=began,
        updated_at=began,
        nurse_words="fixture",
        acknowledged_at=acknowledged,
        resolved_at=acknowledged,  # resolved, so several can exist per child
    )


def text(caregiver, when, status, *, direction="out", backend="twilio", patient=None):
    """A logged text about `patient` (every text a clinic counts carries its child)."""
    SmsMessage.objects.create(
        direction=direction,
        caregiver=caregiver,
        patient=patient,
        to_number="+18015550000",
        body="x",
        backend=backend,
        status=status,
        created_at=when,
    )


@pytest.fixture
def fixture(clinic, other_clinic):
    """Three pumps at clinic A (one implanted mid-February), one at clinic B that must not count."""
    child = PatientFactory(clinic=clinic)
    caregiver = CaregiverLinkFactory(patient=child).caregiver
    p1 = PumpFactory(patient=child, implant_date=date(2025, 6, 1))
    visit(p1, at(2025, 12, 1), alarm=at(2026, 1, 20), due=date(2026, 1, 13))
    visit(p1, at(2026, 1, 10), alarm=at(2026, 2, 25), due=date(2026, 2, 18))  # margin 10.0, in time
    visit(
        p1, at(2026, 2, 20, 16), alarm=at(2026, 3, 15), due=date(2026, 3, 8)
    )  # margin 4.75 → 4.8, after due
    # ...and no visit since: its alarm of 15 March has passed (March).
    p2 = PumpFactory(patient=PatientFactory(clinic=clinic), implant_date=date(2025, 1, 1))
    visit(p2, at(2025, 12, 15), alarm=at(2026, 1, 25), due=date(2026, 1, 18))
    visit(p2, at(2026, 1, 27), alarm=at(2026, 4, 30), due=date(2026, 4, 23))  # margin −2.0, after due;
    # the alarm of 25 January passed before it (January).
    visit(
        p2, at(2026, 2, 10), alarm=at(2026, 4, 20), due=date(2026, 4, 13), kind="programming"
    )  # not a refill
    p3 = PumpFactory(patient=PatientFactory(clinic=clinic), implant_date=date(2026, 2, 15))
    visit(p3, at(2026, 2, 15), alarm=at(2026, 5, 1), due=date(2026, 4, 24), kind="implant")
    stranger = PumpFactory(patient=PatientFactory(clinic=other_clinic), implant_date=date(2025, 1, 1))
    visit(stranger, at(2025, 12, 1), alarm=at(2026, 1, 5), due=date(2026, 1, 1))
    visit(stranger, at(2026, 1, 20), alarm=at(2026, 4, 1), due=date(2026, 3, 25))

    # The refill factory assessed each child at today's date; the fixture's concerns are placed by hand.
    Concern.objects.all().delete()
    for when, status in [
        (at(2026, 1, 3), "delivered"),
        (at(2026, 1, 9), "undelivered"),
        (at(2026, 1, 30), "sent"),
    ]:
        text(caregiver, when, status, patient=child)
    text(caregiver, at(2026, 2, 2), "delivered", patient=child)
    text(caregiver, at(2026, 2, 3), "failed", patient=child)
    text(caregiver, at(2026, 2, 4), "received", direction="in", patient=child)  # a reply: not counted
    text(caregiver, at(2026, 2, 4), "reply", backend="twiml", patient=child)  # our answer: not counted
    text(caregiver, at(2026, 2, 5), "delivered")  # a number-check code, about no child: not counted

    concern(child, tier="critical", began=at(2026, 1, 5), acknowledged=at(2026, 1, 5, 12))  # 2 h
    concern(child, tier="critical", began=at(2026, 1, 10, 0), acknowledged=at(2026, 1, 10, 5))  # 5 h
    concern(child, tier="critical", began=at(2026, 1, 20), acknowledged=at(2026, 1, 21, 9))  # 23 h
    concern(child, tier="urgent", began=at(2026, 1, 6), acknowledged=at(2026, 1, 10, 14))  # not critical
    ladder = concern(child, tier="critical", began=at(2026, 2, 6))  # never acknowledged
    for when, rung in [
        (at(2026, 1, 2), "text"),
        (at(2026, 1, 12), "text"),
        (at(2026, 1, 13), "text_next"),
        (at(2026, 1, 14), "call"),
        (at(2026, 1, 15), "call_list"),
        (at(2026, 2, 7), "text"),
        (at(2026, 2, 8), "stopped"),
    ]:
        LadderStep.objects.create(concern=ladder, rung=rung, at=when)
    return clinic


def test_the_figures_match_the_hand_worked_fixture(fixture):
    jan, feb, mar = clinic_figures(clinic=fixture, now=NOW, count=3)
    assert (jan.start, feb.start, mar.start) == (date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1))

    # January: refills V1 (+10.0 days) and W1 (−2.0): median 4.0; 10th percentile = rank ⌈0.2⌉ = 1st
    # of [−2.0, 10.0] = −2.0; smallest −2.0. W1 came after its due date (27 > 18 Jan).
    assert jan.refills == 2 and jan.margins == [D("10.0"), D("-2.0")]
    assert (jan.margin_median, jan.margin_p10, jan.margin_min) == (D("4.0"), D("-2.0"), D("-2.0"))
    assert jan.after_due == 1
    # One alarm passed (25 Jan, pump 2). Pump-months: pumps 1 and 2 all 31 days = 62/31 = 2.
    assert jan.alarms_passed == 1 and jan.pump_months == 2
    assert jan.alarms_per_100 == D("50.0")
    # Texts: 3 sent, 1 undelivered. Critical acknowledgements 2, 5, 23 h: median 5.0.
    assert (jan.texts_sent, jan.texts_undelivered) == (3, 1)
    assert jan.ack_median_hours == D("5.0") and jan.not_acknowledged == 0
    assert jan.ladder == {"text": 2, "text_next": 1, "call": 1, "call_list": 1}

    # February: refill V2, 25 Feb 10:00 − 20 Feb 16:00 = 4 d 18 h = 4.75 → 4.8 days, after due (20 > 18).
    assert feb.refills == 1 and (feb.margin_median, feb.margin_p10, feb.margin_min) == (D("4.8"),) * 3
    assert feb.after_due == 1 and feb.alarms_passed == 0
    # Pumps 1 and 2: 28 days each, pump 3 from the 15th: 14 days. 70 / 28 = 2.5 pump-months.
    assert feb.pump_months == D("2.5") and feb.alarms_per_100 == D("0.0")
    assert (feb.texts_sent, feb.texts_undelivered) == (2, 1)
    assert feb.ack_median_hours is None and feb.not_acknowledged == 1
    assert feb.ladder == {"text": 1, "text_next": 0, "call": 0, "call_list": 0}

    # March, to today the 20th: no refill; pump 1's alarm of 15 March passed with no visit since.
    # Three pumps × 20 days / 31 = 1.935… pump-months; 1 / 1.935… × 100 = 51.666… → 51.7.
    assert mar.refills == 0 and mar.margin_median is None and mar.margin_p10 is None
    assert mar.alarms_passed == 1 and mar.pump_months == D(60) / D(31)
    assert mar.alarms_per_100 == D("51.7")


@pytest.mark.parametrize(
    ("values", "percent", "expected"),
    [
        ([], 10, None),
        ([D(5)], 10, D(5)),
        ([D(v) for v in range(1, 11)], 10, D(1)),  # rank ⌈1.0⌉ = 1
        ([D(v) for v in range(1, 12)], 10, D(2)),  # rank ⌈1.1⌉ = 2
        ([D(v) for v in range(20, 0, -1)], 10, D(2)),  # sorted first: rank 2 of 1..20
    ],
)
def test_the_10th_percentile_is_the_nearest_rank(values, percent, expected):
    assert nearest_rank(values, percent) == expected


def test_the_figures_page_shows_charts_and_how_each_figure_is_computed(fixture, client, nurse):
    with time_machine.travel(NOW, tick=False):
        login_as(client, nurse)
        page = client.get(reverse("staff:figures")).content.decode()
    assert page.count("<svg") >= 5
    assert "1 in 10 refills" in page and "pump-months" in page and "acknowledg" in page
    assert "nearest-rank" not in page and "percentile" not in page and "median" not in page.lower()
    assert "Jan 2026" in page and "Refills after the refill-due date" in page


def test_the_current_month_is_marked_so_far_and_left_out_of_the_charts(fixture, client, nurse):
    """Issue 24, item 12: a month six days old is not drawn beside whole months; every chart
    labels both axes."""
    import re

    with time_machine.travel(NOW, tick=False):
        login_as(client, nurse)
        page = client.get(reverse("staff:figures")).content.decode()
    current = NOW.strftime("%b %Y")
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.S)
    assert len(charts) == 6
    for svg in charts:
        desc = re.search(r"<desc>(.*?)</desc>", svg).group(1)
        assert current not in desc, desc
        assert "Month (complete months only)" in svg or "No data yet." in svg
    header = page[page.index("<thead>") : page.index("</thead>")]
    assert f"{current}<br><span" in header and "so far" in header


def test_the_csv_has_one_row_per_month_with_the_hand_worked_numbers(fixture, client, nurse):
    with time_machine.travel(NOW, tick=False):
        login_as(client, nurse)
        response = client.get(reverse("staff:figures_csv"))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 12 and rows[-1]["month"] == "2026-03"
    jan = next(r for r in rows if r["month"] == "2026-01")
    assert (
        jan["refills"] == "2"
        and jan["margin_median_days"] == "4.0"
        and jan["alarms_per_100_pump_months"] == "50.0"
    )
    assert jan["critical_ack_median_hours"] == "5.0" and jan["ladder_calls"] == "1"


def test_the_figures_of_another_clinic_stay_out(fixture, client, other_nurse):
    with time_machine.travel(NOW, tick=False):
        login_as(client, other_nurse)
        rows = list(csv.DictReader(io.StringIO(client.get(reverse("staff:figures_csv")).content.decode())))
    jan = next(r for r in rows if r["month"] == "2026-01")
    assert jan["refills"] == "1" and jan["texts_sent"] == "0" and jan["ladder_texts"] == "0"


def test_the_figures_page_reads_in_a_fixed_number_of_queries(
    fixture, client, nurse, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        login_as(client, nurse)
        with django_assert_max_num_queries(20):
            assert client.get(reverse("staff:figures")).status_code == 200
