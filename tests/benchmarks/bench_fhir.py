"""The FHIR bulk export (patients/fhir/views.py `ndjson_lines`, what `/fhir/$export` streams),
each run in a fresh process (fhir_worker.py): the process's peak resident memory (VmHWM) while
the NDJSON of every child is produced and thrown away, for a tenth of the children and for all of
them. Flat memory: the peak for all the children within 1.5 times the peak for a tenth (the
export's own growth, peak minus the resident memory before it, is printed too). Also seconds per
child and queries per 200-child chunk."""

from __future__ import annotations

import json
import subprocess

from tests.benchmarks.common import PYTHON, ROOT, Figure, Results, bench_env, ratio_figure
from tests.benchmarks.data import Dataset


def _worker(limit: int, clinic_ids: list[int]) -> dict:
    proc = subprocess.run(
        [PYTHON, "-m", "tests.benchmarks.fhir_worker", str(limit), *map(str, clinic_ids)],
        cwd=ROOT, env=bench_env(), capture_output=True, text=True, timeout=3600, check=False,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"fhir worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")


def run(results: Results, dataset: Dataset, *, worker=_worker) -> None:
    from patients.fhir.views import CHUNK
    from patients.models import Patient

    total = Patient.objects.filter(clinic_id__in=dataset.clinic_ids).count()
    small = worker(max(total // 10, 1), dataset.clinic_ids)
    large = worker(0, dataset.clinic_ids)
    mib = 1024
    for label, run_ in (("a tenth", small), ("all", large)):
        growth = (run_["hwm_kb"] - run_["rss_before_kb"]) / mib
        print(f"  fhir export, {label}: {run_}; growth {growth:,.1f} MiB", flush=True)
    results.add(
        ratio_figure(
            f"fhir bulk export: peak memory, {large['children']:,} children "
            f"(reference: {small['children']:,})",
            large["hwm_kb"] / mib,
            small["hwm_kb"] / mib,
            "MiB",
            at_most=1.5,
        )
    )
    name = (
        f"fhir bulk export: seconds per child ({large['lines']:,} resources, "
        f"{large['bytes'] / mib / mib:,.0f} MiB of NDJSON)"
    )
    results.add(Figure(name, large["seconds"] / max(large["children"], 1), unit="s"))
    chunks = -(-large["children"] // CHUNK)
    results.add(
        Figure(
            f"fhir bulk export: queries per {CHUNK}-child chunk", large["queries"] / chunks, unit="queries"
        )
    )
