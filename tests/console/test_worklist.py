"""The worklist: the stored safety state, ordered by tier then date to act; its flags are the
concerns in the nurse's words; filters; search; a constant query count from 50 to 5,000 children."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from alerts.concerns import concerns_refresh_many
from alerts.models import ChildSafety, Reminder
from patients.models import Patient, User
from patients.staff.worklist import worklist
from pumps.models import Program, Pump, RefillVisit
from pumps.services import visit_forecast
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill
from tests.helpers import login_as

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(client):
    call_command("seed_demo", "--no-summaries")
    nurse = User.objects.get(email="nurse.rosa@demo.itbportal.test")
    return login_as(client, nurse), nurse


def _kinds_by_first_name(response) -> dict[str, list[str]]:
    return {row["patient"].first_name: [c.kind for c in row["concerns"]] for row in response.context["rows"]}


def test_demo_worklist_is_ordered_by_tier_then_date_to_act(demo):
    client, _ = demo
    rows = client.get(reverse("staff:worklist")).context["rows"]
    assert len(rows) == 20
    keys = [(r["state"].tier_rank, r["state"].act_by or date.min) for r in rows]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)
    critical = {r["patient"].first_name for r in rows if r["state"].tier_rank == 0}
    assert {"Ava", "Liam", "Noah", "Oliver", "Elena"} <= critical


def test_no_child_with_an_open_critical_or_urgent_concern_ranks_below_one_without(demo):
    client, _ = demo
    rows = client.get(reverse("staff:worklist")).context["rows"]
    danger = [bool([c for c in r["concerns"] if c.tier in ("critical", "urgent")]) for r in rows]
    assert danger == sorted(danger, reverse=True)


def test_demo_worklist_shows_each_concern_on_the_right_child(demo):
    client, _ = demo
    kinds = _kinds_by_first_name(client.get(reverse("staff:worklist")))
    assert "alarm_passed" in kinds["Ava"]
    assert "alarm_near" in kinds["Liam"]
    assert "booked_after_alarm" in kinds["Noah"]
    assert "residual_high" in kinds["Oliver"]
    assert "battery" in kinds["Mia"]
    assert "eri" in kinds["Elena"]
    assert kinds["Samuel"] == []


def test_flags_are_the_concerns_in_the_nurses_words(demo):
    client, _ = demo
    html = client.get(reverse("staff:worklist")).content.decode()
    assert "passed, no refill recorded: the pump may be beeping" in html
    assert "possible pump stall or large under-delivery" in html
    assert "after the alarm date" in html


def test_filter_by_tier_and_by_concern(demo):
    client, _ = demo
    response = client.get(reverse("staff:worklist"), {"tier": "critical"})
    assert {r["state"].tier_rank for r in response.context["rows"]} == {0}
    response = client.get(reverse("staff:worklist"), {"kind": "residual_high"})
    assert [r["patient"].first_name for r in response.context["rows"]] == ["Oliver"]


def test_search_finds_by_name_or_record_number(demo):
    client, _ = demo
    response = client.get(reverse("staff:worklist"), {"q": "garcía"})
    assert {r["patient"].first_name for r in response.context["rows"]} == {"Sofia", "Mateo"}
    mrn = Patient.objects.get(first_name="Oliver").mrn
    response = client.get(reverse("staff:worklist"), {"q": mrn})
    assert [r["patient"].first_name for r in response.context["rows"]] == ["Oliver"]


def test_a_failed_text_shows_the_family_cannot_be_reached(nurse_client, child, parent, other_child):
    CaregiverLinkFactory(patient=other_child)
    Reminder.objects.create(
        patient=child,
        caregiver=parent.caregiver,
        kind="refill_due",
        target_date=timezone.localdate() + timedelta(days=3),
        offset_days=7,
        send_after=timezone.now(),
        claimed_at=timezone.now(),
        status=Reminder.Status.FAILED,
    )
    concerns_refresh_many(patient_ids=[child.pk, other_child.pk])
    response = nurse_client.get(reverse("staff:worklist"), {"kind": "unreachable"})
    assert {r["patient"].first_name for r in response.context["rows"]} == {"Sofia"}
    assert "a text failed or was not delivered" in response.content.decode()


def test_a_pump_with_no_fill_recorded_comes_first_within_its_tier(nurse_client, child, clinic):
    patient = PatientFactory(clinic=clinic, first_name="Nofill")
    PumpFactory(patient=patient)
    concerns_refresh_many(patient_ids=[patient.pk])
    response = nurse_client.get(reverse("staff:worklist"))
    names = [r["patient"].first_name for r in response.context["rows"] if r["state"].tier_rank == 3]
    assert names[0] == "Nofill"
    assert "No fill recorded" in response.content.decode()


def test_worklist_shows_only_the_nurses_clinic(nurse_client, child, child_in_other_clinic):
    response = nurse_client.get(reverse("staff:worklist"))
    assert [r["patient"].first_name for r in response.context["rows"]] == ["Sofia"]


def _bulk_children(clinic, n: int, start: int = 0) -> None:
    patients = Patient.objects.bulk_create(
        Patient(
            clinic=clinic,
            first_name=f"Kid{i}",
            last_name="Bulk",
            date_of_birth=date(2015, 1, 1),
            mrn=f"B{i:05d}",
        )
        for i in range(start, start + n)
    )
    pumps = Pump.objects.bulk_create(
        Pump(patient=p, serial_number=f"S{i}", implant_date=date(2024, 1, 1)) for i, p in enumerate(patients)
    )
    now = timezone.now()
    programs = Program.objects.bulk_create(
        Program(
            pump=p,
            effective_from=now - timedelta(days=5),
            concentration_mcg_ml=Decimal(1000),
            daily_dose_mcg=Decimal(300),
        )
        for p in pumps
    )
    visits = []
    for i, (pump, program) in enumerate(zip(pumps, programs, strict=True)):
        pump.patient = patients[i]
        pump.patient.clinic = clinic
        visit_at = now - timedelta(days=i % 70)  # some alarms passed, some near, most calm
        fields = visit_forecast(pump=pump, program=program, visit_at=visit_at, volume_after_ml=Decimal(19))
        visits.append(
            RefillVisit(pump=pump, program=program, visit_at=visit_at, volume_after_ml=Decimal(19), **fields)
        )
    RefillVisit.objects.bulk_create(visits)
    concerns_refresh_many(patient_ids=[p.pk for p in patients], now=now)


def _page_queries(client, params) -> list[str]:
    # One page first, not counted: the session's "last seen" stamp is written once a minute
    # (SEEN_RESOLUTION), and building 5,000 children can take longer than that on a busy machine.
    assert client.get(reverse("staff:worklist"), params).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("staff:worklist"), params)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("params", [{}, {"tier": "attention", "kind": "due_soon", "page": "2"}])
def test_worklist_query_count_is_the_same_for_50_and_5000_children(nurse_client, clinic, params):
    _bulk_children(clinic, 50)
    small = _page_queries(nurse_client, params)
    _bulk_children(clinic, 4950, start=50)
    assert ChildSafety.objects.filter(clinic=clinic).count() == 5000
    large = _page_queries(nurse_client, params)
    assert len(large) == len(small) <= 12


def test_worklist_reads_the_stored_state_without_a_per_row_subquery(nurse_client, clinic):
    _bulk_children(clinic, 60)
    pages = [sql for sql in _page_queries(nurse_client, {}) if 'FROM "alerts_childsafety"' in sql]
    assert pages  # the count and the page
    for sql in pages:
        inner = sql.split("SELECT")[2:]  # the one subquery: the children the nurse may see
        assert len(inner) <= 1
        assert all("alerts_childsafety" not in part.split(")")[0] for part in inner)  # not correlated
        assert "pumps_refillvisit" not in sql and "alerts_reminder" not in sql


def test_worklist_rows_come_only_from_children_the_user_may_see(child, parent, nurse, child_in_other_clinic):
    assert worklist(user=parent).count() == 1  # the rule, not the page guard
    assert [s.patient.first_name for s in worklist(user=nurse)] == ["Sofia"]


def test_residual_concern_follows_the_latest_refill_not_a_programming_visit(child, nurse):
    pump = child.pumps.get()
    refill(
        pump,
        visit_at=timezone.now() - timedelta(days=3),
        expected_residual_ml=Decimal(5),
        actual_residual_ml=Decimal("7.5"),
    )
    assert child.concerns.open().filter(kind="residual_high").exists()
    refill(pump, visit_at=timezone.now() - timedelta(days=2), kind="programming")
    assert child.concerns.open().filter(kind="residual_high").exists()
    refill(
        pump,
        visit_at=timezone.now() - timedelta(days=1),
        expected_residual_ml=Decimal(5),
        actual_residual_ml=Decimal("5.2"),
    )
    resolved = child.concerns.get(kind="residual_high")
    assert resolved.resolved_at is not None and resolved.resolved_reason == "a later refill"


def test_the_rows_rendered_in_python_escape_names_and_link_each_child(demo):
    client, nurse = demo
    child = Patient.objects.filter(clinic=nurse.staff_profile.clinic).order_by("pk").first()
    Patient.objects.filter(pk=child.pk).update(last_name="<b>Bold</b>", first_name='A"&')
    html = client.get(reverse("staff:worklist") + "?q=Bold").content.decode()
    assert "&lt;b&gt;Bold&lt;/b&gt;, A&quot;&amp;" in html and "<b>Bold</b>" not in html
    assert f'href="{reverse("staff:chart", args=[child.pk])}"' in html
    assert f'href="{reverse("staff:visit", args=[child.pk, "refill"])}"' in html
    # Twice: under the name on narrow screens, in the last column on wide ones.
    assert html.count(f'href="{reverse("staff:visit", args=[child.pk, "refill"])}"') == 2
    assert "next=/staff/%3Fq%3DBold" in html


def test_the_worklist_and_escalations_write_one_date_style_and_real_plurals(demo):
    """Issue 24, item 9: "4 Dec 2026", never "2026-12-04"; "1 day" / "9 days", never "day(s)";
    a calm row is one line of cells (no line breaks inside them)."""
    import re

    client, _ = demo
    for name in ("staff:worklist", "alerts:escalations"):
        html = client.get(reverse(name)).content.decode()
        body = html[html.index("<main") : html.index("</main>")]
        text = re.sub(r'(href|value|action|id)="[^"]*"', "", body)
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), (
            name,
            re.findall(r".{40}\b20\d\d-\d\d-\d\d", text),
        )
        assert "day(s)" not in text, name
        assert not re.search(r"\b1 days\b", text), name
    html = client.get(reverse("staff:worklist")).content.decode()
    rows = html.split('<tr class="')[1:]
    calm = [row for row in rows if row.startswith('">')]
    assert calm and all("<br>" not in row.split('<td class="concerns">')[0] for row in calm)


def test_a_count_of_days_is_a_real_plural(clinic):
    from pumps import safety

    assert "(in 1 day)" in safety.nurse_words("alarm_near", {"alarm_day": "2026-12-04", "days": 1})
    assert "Alarm on 4 Dec 2026 (in 9 days)" in safety.nurse_words(
        "alarm_near", {"alarm_day": "2026-12-04", "days": 9}
    )
    words = safety.nurse_words("due_passed", {"refill_due": "2026-11-27", "days_over": 1})
    assert words == "Refill due 27 Nov 2026 has passed (1 day ago) and nothing is booked."
