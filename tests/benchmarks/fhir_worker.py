"""A FHIR bulk-export process for the benchmarks (run by bench_fhir in a subprocess).

    python -m tests.benchmarks.fhir_worker LIMIT CLINIC_ID ...  # the first LIMIT children (0: all)

Consumes the NDJSON stream `/fhir/$export` sends (patients.fhir.views.ndjson_lines) for the
children of those clinics, throwing each line away as a client would after writing it; prints one
JSON line: seconds, children, lines, bytes, queries, VmRSS before the export and VmHWM (the
process's peak resident memory) after it, in kB.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from patients.fhir.views import ndjson_lines
    from patients.models import Patient

    limit, clinic_ids = int(argv[0]), [int(x) for x in argv[1:]]
    patients = Patient.objects.filter(clinic_id__in=clinic_ids)
    if limit:
        patients = Patient.objects.filter(
            pk__in=list(patients.order_by("pk").values_list("pk", flat=True)[:limit])
        )
    children = patients.count()
    rss_before = _status("VmRSS")
    lines = size = 0
    start = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        for chunk in ndjson_lines(patients, base_url="https://bench.test"):
            lines += chunk.count("\n")
            size += len(chunk)
    result = {
        "seconds": time.perf_counter() - start,
        "children": children,
        "lines": lines,
        "bytes": size,
        "queries": len(queries),
        "rss_before_kb": rss_before,
        "hwm_kb": _status("VmHWM"),
    }
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
