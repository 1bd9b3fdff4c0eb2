"""After-visit summaries: documents per second per worker and memory of a worker rendering 200 in
a row, against WeasyPrint rendering a one-line page with the same fonts (DejaVu)."""

from __future__ import annotations

import importlib
import json
import os
import subprocess

from .common import PYTHON, ROOT, Figure, Results, bench_env, ratio_figure
from .data import Dataset

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

    name = "documents: after-visit summaries/s per worker"
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
    per_doc, base_per_doc = summary["seconds"] / summary["count"], baseline["seconds"] / baseline["count"]
    results.add(ratio_figure(name, 1 / per_doc, 1 / base_per_doc, "docs/s"))
    results.add(
        ratio_figure("documents: seconds per summary", per_doc * 1000, base_per_doc * 1000, "ms", at_most=4)
    )
    grow = summary["rss_end_kb"] / summary["rss_50_kb"]
    results.add(
        Figure(
            f"documents: worker RSS after {summary['count']} / after 50",
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
