"""The benchmark harness's own pieces: the baseline page, the table, the generated data.

(`python -m tests.benchmarks` runs the benchmarks; pytest collects only this file.)
"""

import importlib
from decimal import Decimal

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, clear_url_caches, reverse

from alerts.models import Reminder
from pumps.models import RefillVisit
from pumps.services import visit_forecast
from tests.benchmarks.common import Figure, Results, ratio_figure
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
    expected = visit_forecast(
        pump=visit.pump,
        program=visit.program,
        visit_at=visit.visit_at,
        volume_after_ml=Decimal(visit.volume_after_ml),
    )
    assert {k: getattr(visit, k) for k in expected} == expected
