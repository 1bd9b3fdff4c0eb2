"""After-visit summaries: seconds per document of `visit_summary_render` for 200 visits in a row,
against WeasyPrint alone laying out exactly the same HTML with the same options (the pipeline's
own overhead: queries, template, storing), and against a one-line page (a second reference);
the summary's page count; memory of the worker across the 200."""

from __future__ import annotations

import importlib
import json
import os
import subprocess

from tests.benchmarks.common import PYTHON, ROOT, Figure, Results, bench_env, ratio_figure
from tests.benchmarks.data import Dataset

DOCUMENTS = int(os.environ.get("BENCH_DOCUMENTS", "200"))


def _available() -> str | None:
    try:
        tasks = importlib.import_module("pumps.tasks")
    except ImportError:
        return "module pumps.tasks missing"
    if not hasattr(tasks, "visit_summary_render"):
        return "function pumps.tasks.visit_summary_render missing"
    return None


def _worker(*args: str) -> dict:
    proc = subprocess.run(
        [PYTHON, "-m", "tests.benchmarks.doc_worker", *args],
        cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"document worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def run(results: Results, dataset: Dataset) -> None:
    from pumps.models import RefillVisit

    name = "documents: seconds per summary document"
    why = _available()
    if why:
        results.missing(name, why)
        return
    ids = list(
        RefillVisit.objects.filter(pump__patient__clinic_id__in=dataset.clinic_ids)
        .order_by("pump_id", "-visit_at")
        .distinct("pump_id")
        .values_list("pk", flat=True)[: DOCUMENTS + 1]
    )
    baseline = _worker("baseline", str(DOCUMENTS))
    try:
        summary = _worker("summary", *map(str, ids))
    except RuntimeError as exc:
        results.missing(name, str(exc).splitlines()[-1][:120])
        return
    # Per document (a summary is one PDF per language the family needs): the pipeline against
    # WeasyPrint laying out exactly the same HTML (timed in turns with it), and a one-line page.
    docs = summary["documents"]
    per_doc = summary["summary"] / docs
    results.add(
        ratio_figure(f"{name} vs WeasyPrint on the same HTML", per_doc * 1000,
                     summary["same_html"] / docs * 1000, "ms", at_most=1.3)
    )  # fmt: skip
    base_per_doc = baseline["seconds"] / baseline["count"]
    results.add(ratio_figure(f"{name} vs a one-line page", per_doc * 1000, base_per_doc * 1000, "ms"))
    results.add(Figure("documents: pages of the longest summary", summary["max_pages"], "", None, None, "1",
                       summary["max_pages"] == 1))  # fmt: skip
    grow = summary["rss_end_kb"] / summary["rss_50_kb"]
    results.add(
        Figure(
            f"documents: worker RSS after {summary['count']} summaries / after 50",
            summary["rss_end_kb"] / 1024,
            "MiB",
            summary["rss_50_kb"] / 1024,
            grow,
            "≤ 1.10× (no growth)",
            grow <= 1.10,
        )
    )
    results.add(
        Figure(
            "documents: worker peak RSS (VmHWM)",
            summary["hwm_kb"] / 1024,
            "MiB",
            baseline["hwm_kb"] / 1024,
            summary["hwm_kb"] / baseline["hwm_kb"],
        )
    )
