"""A document-rendering process for the benchmarks (run by bench_documents in a subprocess).

    python -m tests.benchmarks.doc_worker summary ID ID ...  # the pipeline, and WeasyPrint on its HTML
    python -m tests.benchmarks.doc_worker baseline COUNT     # WeasyPrint, a one-line page

Renders one item to warm up, then the rest in a row; prints one JSON line: seconds, count,
VmRSS after 50 and after all (kB), VmHWM (kB). `summary` times, for each visit in turn,
pumps.tasks.visit_summary_render and then WeasyPrint alone laying out exactly the HTML the
pipeline rendered, with its own options (base URL, static-only fetcher, fonts, PDF/UA); it adds
both totals, the documents' count and the most pages any of them has.
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


def _paired(ids: list[int]) -> dict:
    """For each visit: the pipeline (visit_summary_render), then WeasyPrint alone on exactly the
    HTML the pipeline just rendered, with its options. Timed apart, in turns, in one process, so
    a change in the machine's load falls on both alike."""
    from weasyprint import DEFAULT_OPTIONS, HTML

    import pumps.pdf
    from pumps.pdf import BASE_URL, StaticOnlyURLFetcher, _font_config
    from pumps.tasks import visit_summary_render

    rendered: list[str] = []
    render_html = pumps.pdf.render_html

    def recording(**kwargs) -> str:  # the pipeline's own HTML
        html = render_html(**kwargs)
        rendered.append(html)
        return html

    pumps.pdf.render_html = recording
    options = {**DEFAULT_OPTIONS, "pdf_variant": "pdf/ua-1", "pdf_identifier": True}
    totals = {"summary": 0.0, "same_html": 0.0, "documents": 0}
    pages: list[int] = []

    calls = []

    def one(visit_id: int) -> None:
        rendered.clear()
        start = time.perf_counter()
        visit_summary_render(visit_id)
        middle = time.perf_counter()
        for html in rendered:  # what HTML.write_pdf does, with the page count read in between
            source = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyURLFetcher())
            document = source.render(font_config=_font_config(), **options)
            pages.append(len(document.pages))
            document.write_pdf(**options)
        end = time.perf_counter()
        calls.append(visit_id)
        if len(calls) == 1:
            return  # _loop's warm-up: imports, fonts, connections
        totals["summary"] += middle - start
        totals["same_html"] += end - middle
        totals["documents"] += len(rendered)

    result = _loop(one, ids)
    return {**result, **totals, "max_pages": max(pages)}


def main(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "baseline":
        from weasyprint import HTML

        result = _loop(lambda _: HTML(string=BASELINE_HTML).write_pdf(), list(range(int(rest[0]) + 1)))
    else:
        import django

        django.setup()
        result = _paired([int(x) for x in rest])
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
