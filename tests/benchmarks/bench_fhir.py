"""The FHIR bulk export (patients/fhir/views.py `ndjson_lines`, what `/fhir/$export` streams):
peak Python memory (tracemalloc) while the NDJSON of every child is produced and thrown away, for
a tenth of the children and for all of them. Flat memory means the peak for all the children is
within 1.5 times the peak for a tenth; also seconds per child and queries per 200-child chunk."""

from __future__ import annotations

import time
import tracemalloc

from tests.benchmarks.common import Figure, Results, ratio_figure
from tests.benchmarks.data import Dataset


def _export(patients) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from patients.fhir.views import ndjson_lines

    lines = size = 0
    tracemalloc.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        for chunk in ndjson_lines(patients, base_url="https://bench.test"):
            lines += chunk.count("\n")
            size += len(chunk)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"lines": lines, "bytes": size, "seconds": seconds, "peak": peak, "queries": len(queries)}


def run(results: Results, dataset: Dataset) -> None:
    from patients.fhir.views import CHUNK
    from patients.models import Patient

    everyone = Patient.objects.filter(clinic_id__in=dataset.clinic_ids)
    total = everyone.count()
    tenth_ids = list(everyone.order_by("pk").values_list("pk", flat=True)[: max(total // 10, 1)])
    small = _export(Patient.objects.filter(pk__in=tenth_ids))
    large = _export(everyone)
    mib = 1024 * 1024
    print(f"  fhir export: {len(tenth_ids):,} children {small}; {total:,} children {large}", flush=True)
    results.add(
        ratio_figure(
            f"fhir bulk export: peak memory, {total:,} children (reference: {len(tenth_ids):,})",
            large["peak"] / mib,
            small["peak"] / mib,
            "MiB",
            at_most=1.5,
        )
    )
    name = (
        f"fhir bulk export: seconds per child ({large['lines']:,} resources, "
        f"{large['bytes'] / mib:,.0f} MiB of NDJSON)"
    )
    results.add(Figure(name, large["seconds"] / total, unit="s"))
    chunks = -(-total // CHUNK)
    results.add(
        Figure(
            f"fhir bulk export: queries per {CHUNK}-child chunk", large["queries"] / chunks, unit="queries"
        )
    )
