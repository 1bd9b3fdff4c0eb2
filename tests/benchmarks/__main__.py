"""`python -m tests.benchmarks` (what `make bench` runs): generate data, measure, print ONE table.

Every machine-dependent figure is a ratio to a baseline measured in the same run. Parts whose
target does not exist yet print "not available yet (...)". See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback

from tests.benchmarks.common import ROOT, LoadMonitor, Results, Timer, bench_env, machine

PARTS = ("queries", "pages", "documents", "sweep", "replan", "fhir", "beat")
# The parts that need the shared generated data set (the beat makes its own 100,000 children).
DATASET_PARTS = set(PARTS) - {"beat"}
DOCS = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- bench:figures:begin -->", "<!-- bench:figures:end -->"


def _args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks", description=__doc__)
    parser.add_argument("--children", type=int, default=5000, help="children in the large data set")
    parser.add_argument("--small", type=int, default=50, help="children in the small data set (query counts)")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=list(PARTS), help="parts to run")
    parser.add_argument("--write-docs", action="store_true", help=f"write the figures into {DOCS.name}")
    return parser.parse_args(argv)


def _part(results: Results, monitor: LoadMonitor, name: str, func, *args) -> None:
    """Run one part; a crash is a row in the table, never the end of the run."""
    print(f"\n== {name}", flush=True)
    try:
        with monitor.during(name), Timer() as t:
            func(*args)
        print(f"  ({name}: {t.seconds:.0f} s)", flush=True)
    except Exception as exc:  # noqa: BLE001 - reported, the other parts still run
        traceback.print_exc()
        results.missing(name, f"failed: {exc.__class__.__name__}: {str(exc)[:100]}")


def main(argv=None) -> int:
    args = _args(argv)
    os.environ.update(bench_env())
    started = time.monotonic()
    from tests.benchmarks import data

    print("== database: drop, create, migrate, collectstatic", flush=True)
    data.database_reset()
    import django

    django.setup()
    from tests.benchmarks import (
        bench_beat,
        bench_documents,
        bench_fhir,
        bench_pages,
        bench_queries,
        bench_reminders,
    )

    results = Results()
    monitor = LoadMonitor(results).start()
    small_counts = {}
    if "queries" in args.only:
        small = data.dataset_generate(children=args.small)
        small_counts = bench_queries.measure(small)
        data.data_truncate()
    dataset = None
    if DATASET_PARTS & set(args.only):
        with monitor.during("data"), Timer() as t:
            dataset = data.dataset_generate(children=args.children)
        print(f"  (data: {t.seconds:.0f} s)", flush=True)
    if "queries" in args.only:
        _part(results, monitor, "queries", lambda: bench_queries.report(
            results, small_counts, bench_queries.measure(dataset), (args.small, args.children)))  # fmt: skip
    if "pages" in args.only:
        _part(results, monitor, "pages", bench_pages.run, results, dataset)
    if "documents" in args.only:
        _part(results, monitor, "documents", bench_documents.run, results, dataset)
    if "sweep" in args.only:
        _part(results, monitor, "sweep", bench_reminders.run_sweep, results, dataset)
    if "replan" in args.only:
        _part(results, monitor, "re-planning", bench_reminders.run_replan, results, dataset)
    if "fhir" in args.only:
        _part(results, monitor, "fhir export", bench_fhir.run, results, dataset)
    if "beat" in args.only:
        _part(results, monitor, "safety beat", bench_beat.run, results)
    monitor.stop()
    described = machine()
    minutes = (time.monotonic() - started) / 60
    print("\n== machine: " + "; ".join(f"{k} {v}" for k, v in described.items()))
    print(f"== figures ({minutes:.1f} min)\n")
    print(results.table())
    for note in results.notes:
        print(f"note: {note}")
    for line in results.load_lines():
        print(line)
    if args.write_docs:
        _write_docs(results, described, minutes)
    return 0


def _write_docs(results: Results, described: dict, minutes: float) -> None:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = "\n".join(
        [BEGIN, f"Run of {when}, {minutes:.1f} minutes.", "", "Machine:", ""]
        + [f"- {k}: {v}" for k, v in described.items()]
        + ["", results.markdown(), ""]
        + [f"Note: {n}" for n in results.notes]
        + ["", "Load average (1 minute, /proc/loadavg) while each part ran; 2 cores:", ""]
        + [f"- {line}" for line in results.load_lines()]
        + [END]
    )
    text = DOCS.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOCS.write_text(head + block + tail)
    print(f"\nwrote the figures into {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
