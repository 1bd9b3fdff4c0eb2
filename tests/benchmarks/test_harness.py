"""The benchmark harness's own pieces: the baseline page, the table, the generated data.

(`python -m tests.benchmarks` runs the benchmarks; pytest collects only this file.)
"""

import importlib
import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse

from alerts.models import Reminder
from pumps.models import RefillVisit
from pumps.services import visit_forecast
from tests.benchmarks.bench_pages import combine, report
from tests.benchmarks.common import Figure, LoadMonitor, Results, cpu_seconds, ratio_figure, warm_workers
from tests.benchmarks.data import REMINDERS_PER_CHILD, VISITS_PER_CHILD, dataset_generate
from tests.helpers import login_as


@pytest.fixture
def bench_urls(settings):
    """The URLconf as it is with BENCHMARK_VIEWS=true; restored afterwards."""
    import itbportal.urls

    settings.BENCHMARK_VIEWS = True
    clear_url_caches()
    importlib.reload(itbportal.urls)
    yield
    with override_settings(BENCHMARK_VIEWS=False):
        importlib.reload(itbportal.urls)
    clear_url_caches()


def test_baseline_page_is_not_mounted_without_benchmark_views():
    with pytest.raises(NoReverseMatch):
        reverse("bench_baseline")


@pytest.mark.django_db
def test_baseline_page_asks_anonymous_visitors_to_sign_in(bench_urls, client):
    response = client.get("/bench/baseline/")

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_baseline_page_renders_the_static_table_for_a_signed_in_parent(bench_urls, client, parent):
    response = login_as(client, parent).get(reverse("bench_baseline"))

    assert response.status_code == 200
    assert response.content.count(b"<tr>") == 41  # header and 40 rows, as big as a list page
    assert b"Emergency" in response.content  # extends base.html


def test_baseline_page_reads_no_more_than_the_bare_view(
    bench_urls, client, parent, django_assert_num_queries
):
    """Issue 27: the frame of every page (the clinic's numbers, the menus) costs no query once the
    session keeps it: the session, the user and the person's roles, as for the bare view."""
    login_as(client, parent)
    client.get(reverse("bench_baseline"))  # the first page reads the frame and keeps it

    with django_assert_num_queries(3):
        assert client.get(reverse("bench_bare")).status_code == 200
    with django_assert_num_queries(3):
        assert client.get(reverse("bench_baseline")).status_code == 200


def test_ratio_figures_are_judged_against_their_baseline():
    assert ratio_figure("rps", 60, 100, "req/s", at_least=0.5).met is True
    assert ratio_figure("rps", 40, 100, "req/s", at_least=0.5).met is False
    assert ratio_figure("p95", 400, 100, "ms", below=4).met is False
    assert ratio_figure("s", 30, 10, "s", at_most=3).met is True


def test_table_has_one_row_per_figure_and_says_what_is_missing():
    results = Results()
    results.add(ratio_figure("parent home: requests/s", 50, 100, "req/s", at_least=0.5))
    results.missing("nurse worklist: requests/s", "URL name staff:worklist does not resolve")

    lines = results.table().splitlines()

    assert lines[0].split("|")[0].strip() == "figure"
    assert "0.50" in lines[2] and lines[2].rstrip().endswith("yes")
    assert "not available yet (URL name staff:worklist does not resolve)" in lines[3]
    assert Figure("x", None).cells()[-1] == "n/a"


@pytest.mark.django_db
def test_generated_visits_store_the_forecast_the_portal_computes():
    dataset = dataset_generate(children=12, log=lambda *_: None)

    assert RefillVisit.objects.count() == 12 * VISITS_PER_CHILD
    assert Reminder.objects.count() == 12 * REMINDERS_PER_CHILD
    assert len(dataset.parent_child_ids) == 2  # the parent persona has two children
    visit = (
        RefillVisit.objects.select_related("pump__patient__clinic", "program").order_by("-visit_at").first()
    )
    computed = visit_forecast(
        pump=visit.pump,
        program=visit.program,
        visit_at=visit.visit_at,
        volume_after_ml=Decimal(visit.volume_after_ml),
    )
    # The generator stores the programmed-rate dates (a COPY of rows, not the refill service), not
    # the observed delivery (pumps/delivery.py) that the portal's own refills add.
    expected = {
        k: computed[k] for k in ("alarm_at", "alarm_at_worst", "empty_at", "empty_at_worst", "refill_due")
    }
    assert {k: getattr(visit, k) for k in expected} == expected


@pytest.mark.django_db
def test_the_replanning_set_is_copied_with_the_databases_own_defaults():
    """The re-planning and beat sets are COPYed; a field with only a database default (the text
    name, the comfort note) is left to the database, not sent as a Python placeholder."""
    from patients.models import Patient
    from tests.benchmarks.data import replan_pumps_generate

    clinic_id = replan_pumps_generate(count=3)
    children = Patient.objects.filter(clinic_id=clinic_id)
    assert children.count() == 3
    assert set(children.values_list("text_name", "comfort_note")) == {("", "")}


def test_the_bare_view_is_the_signed_in_floor_with_no_template(bench_urls, client, parent):
    assert client.get("/bench/bare/").status_code == 302  # sign-in first, like every page

    response = login_as(client, parent).get(reverse("bench_bare"))

    assert response.status_code == 200
    assert response.content == f"user {parent.pk}\n".encode()
    assert not response.templates


def test_every_answer_says_which_worker_process_gave_it():
    import os

    from itbportal.bench_views import WORKER_HEADER, WorkerPidMiddleware

    response = WorkerPidMiddleware(lambda request: HttpResponse("ok"))(None)

    assert response[WORKER_HEADER] == str(os.getpid())


def test_warming_goes_on_until_every_worker_answered_every_page():
    answers = itertools.cycle([11, 11, 11, 12, 11, 13])  # worker 13 is rarely free
    asked = []

    def fetch(path):
        asked.append(path)
        return next(answers)

    seen = warm_workers(fetch, ["/a/", "/b/"], {11, 12, 13}, rounds=3, concurrency=1)

    assert all(seen[(path, w)] >= 3 for path in ("/a/", "/b/") for w in (11, 12, 13))
    assert asked.count("/a/") == asked.count("/b/") == 18  # not one request past the third of 13


def test_warming_refuses_to_measure_with_a_worker_that_never_answered():
    with pytest.raises(RuntimeError, match=r"\[13\] never answered /a/"):
        warm_workers(lambda path: 11, ["/a/"], {11, 13}, rounds=1, max_requests=20, concurrency=2)


def test_page_figures_are_ratios_to_the_references_of_the_same_run():
    def page(rps, p95, errors=0):
        return {"rps": rps, "p50_ms": p95 / 2, "p95_ms": p95, "p99_ms": p95 * 2, "non2xx": errors,
                "socket_errors": 0}  # fmt: skip

    results = Results()
    report(
        results,
        {"bare": page(400, 20), "baseline": page(150, 50), "staff baseline": page(100, 60),
         "home": page(80, 110, errors=1), "worklist": page(20, 400)},
    )  # fmt: skip
    by_name = {f.name: f for f in results.figures}

    assert by_name["baseline page vs bare view: requests/s"].ratio == pytest.approx(0.375)
    assert by_name["baseline page vs bare view: requests/s"].met is False  # target 0.5×
    assert by_name["parent home: requests/s"].ratio == pytest.approx(80 / 150)
    assert by_name["parent home: requests/s"].met is True
    assert by_name["parent home: p95 latency"].met is False  # 2.2× the baseline's, target < 2×
    assert by_name["nurse worklist: requests/s"].ratio == pytest.approx(0.2)  # against the staff baseline
    assert by_name["pages: error responses (non-2xx, socket errors)"].value == 1
    assert by_name["pages: error responses (non-2xx, socket errors)"].met is False


def test_rounds_pool_requests_and_take_the_median_latency():
    rounds = [
        {"requests": 100, "duration_us": 2e6, "p50_ms": 10, "p95_ms": 30, "p99_ms": 50, "non2xx": 0,
         "socket_errors": 0},
        {"requests": 300, "duration_us": 2e6, "p50_ms": 8, "p95_ms": 20, "p99_ms": 90, "non2xx": 2,
         "socket_errors": 1},
        {"requests": 200, "duration_us": 2e6, "p50_ms": 9, "p95_ms": 25, "p99_ms": 40, "non2xx": 0,
         "socket_errors": 0},
    ]  # fmt: skip

    out = combine(rounds)

    assert out["rps"] == pytest.approx(100)  # 600 requests in 6 s
    assert (out["p50_ms"], out["p95_ms"], out["p99_ms"]) == (9, 25, 50)
    assert out["non2xx"] == 2 and out["socket_errors"] == 1


def test_the_load_average_of_each_part_is_recorded():
    results = Results()
    monitor = LoadMonitor(results, read=lambda: 4.0)  # the reading taken as the part ends
    monitor.samples = [1.0, 3.0]  # taken before the part started

    with monitor.during("pages"):
        monitor.samples += [2.0, 5.0]  # taken while it ran

    assert results.load["pages"] == (2.0, pytest.approx(11 / 3), 5.0)
    assert results.load_lines() == ["load average during pages: 2.00 / 3.67 / 5.00 (min / mean / max)"]


@pytest.mark.django_db
def test_the_generated_data_is_analyzed_so_pages_run_on_real_plans():
    dataset_generate(children=6, log=lambda *_: None)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT tablename) FROM pg_stats"
            " WHERE tablename IN ('alerts_reminder', 'pumps_refillvisit', 'patients_patient')"
        )
        (analyzed,) = cursor.fetchone()

    assert analyzed == 3


def test_cpu_of_a_process_tree_is_read_from_proc():
    import os

    assert cpu_seconds([os.getpid()]) > 0
    assert cpu_seconds([os.getpid(), 2**22 + 12345]) == cpu_seconds([os.getpid()])  # gone: 0


@pytest.mark.django_db
def test_the_fhir_export_part_measures_memory_time_and_queries_of_the_real_stream(capsys):
    import json

    from tests.benchmarks import bench_fhir, fhir_worker

    def in_process(limit, clinic_ids):  # the worker's own code, on the test database
        fhir_worker.main([str(limit), *map(str, clinic_ids)])
        line = capsys.readouterr().out.strip().splitlines()[-1]
        return json.loads(line.removeprefix("BENCH_JSON "))

    dataset = dataset_generate(children=20, log=lambda *_: None)
    results = Results()
    bench_fhir.run(results, dataset, worker=in_process)

    memory, seconds, queries = results.figures
    assert memory.unit == "MiB" and memory.value > 0 and memory.baseline > 0 and memory.met is not None
    assert "20 children" in memory.name and "reference: 2)" in memory.name
    assert seconds.value > 0 and "resources" in seconds.name
    # One chunk of 20 children: the children, then one query per prefetched relation.
    assert 5 <= queries.value <= 15
