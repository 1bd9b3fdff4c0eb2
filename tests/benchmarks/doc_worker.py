"""A document-rendering process for the benchmarks (run by bench_documents in a subprocess).

    python -m tests.benchmarks.doc_worker summary ID ID ...   # pumps.tasks.visit_summary_render
    python -m tests.benchmarks.doc_worker baseline COUNT       # WeasyPrint, a one-line page

Renders one document to warm up, then the rest in a row; prints one JSON line: seconds, count,
VmRSS after 50 and after all (kB), VmHWM (kB).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

BASELINE_HTML = """<!doctype html><html><head><meta charset="utf-8"><style>
body { font-family: "DejaVu Sans", sans-serif; font-size: 11pt; }
@page { size: letter; margin: 2cm; }
</style></head><body><p>ITB Portal benchmark baseline: one line of text.</p></body></html>"""


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def _loop(render, items: list) -> dict:
    render(items[0])  # warm-up: imports, fonts
    rss_50 = 0
    start = time.perf_counter()
    for n, item in enumerate(items[1:], start=1):
        render(item)
        if n == 50:
            rss_50 = _status("VmRSS")
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds, "count": len(items) - 1, "rss_50_kb": rss_50 or _status("VmRSS"),
        "rss_end_kb": _status("VmRSS"), "hwm_kb": _status("VmHWM"),
    }  # fmt: skip


def main(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "baseline":
        from weasyprint import HTML

        result = _loop(lambda _: HTML(string=BASELINE_HTML).write_pdf(), list(range(int(rest[0]) + 1)))
    else:
        import django

        django.setup()
        from pumps.tasks import visit_summary_render

        result = _loop(visit_summary_render, [int(x) for x in rest])
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
