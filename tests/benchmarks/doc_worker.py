"""A document-rendering process for the benchmarks (run by bench_documents in a subprocess).

    python -m tests.benchmarks.doc_worker summary HTML_FILE ID ID ...  # pumps.tasks.visit_summary_render
    python -m tests.benchmarks.doc_worker same-html HTML_FILE          # WeasyPrint alone, same HTML
    python -m tests.benchmarks.doc_worker baseline COUNT               # WeasyPrint, a one-line page

Renders one item to warm up, then the rest in a row; prints one JSON line: seconds, count,
VmRSS after 50 and after all (kB), VmHWM (kB). `summary` writes the HTML of every document it
rendered to HTML_FILE (one list per visit); `same-html` lays out exactly those documents with
WeasyPrint, with the pipeline's own options (base URL, static-only fetcher, fonts, PDF/UA), and
also reports the most pages any of them has.
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


def _summary(html_file: str, ids: list[int]) -> dict:
    import pumps.pdf
    from pumps.tasks import visit_summary_render

    rendered: list[list[str]] = []
    render_html = pumps.pdf.render_html

    def recording(**kwargs) -> str:  # the pipeline's own HTML, kept for `same-html`
        html = render_html(**kwargs)
        rendered[-1].append(html)
        return html

    pumps.pdf.render_html = recording

    def one(visit_id: int) -> None:
        rendered.append([])
        visit_summary_render(visit_id)

    result = _loop(one, ids)
    Path(html_file).write_text(json.dumps(rendered))
    result["documents"] = sum(len(r) for r in rendered[1:])
    return result


def _same_html(html_file: str) -> dict:
    from weasyprint import DEFAULT_OPTIONS, HTML

    from pumps.pdf import BASE_URL, StaticOnlyURLFetcher, _font_config

    pages = []

    def lay_out(htmls: list[str]) -> None:
        for html in htmls:
            # What HTML.write_pdf does, with the page count read in between.
            options = {**DEFAULT_OPTIONS, "pdf_variant": "pdf/ua-1", "pdf_identifier": True}
            source = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyURLFetcher())
            document = source.render(font_config=_font_config(), **options)
            pages.append(len(document.pages))
            document.write_pdf(**options)

    result = _loop(lay_out, json.loads(Path(html_file).read_text()))
    result["max_pages"] = max(pages)
    return result


def main(argv: list[str]) -> None:
    mode, rest = argv[0], argv[1:]
    if mode == "baseline":
        from weasyprint import HTML

        result = _loop(lambda _: HTML(string=BASELINE_HTML).write_pdf(), list(range(int(rest[0]) + 1)))
    else:
        import django

        django.setup()
        if mode == "summary":
            result = _summary(rest[0], [int(x) for x in rest[1:]])
        else:
            result = _same_html(rest[0])
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
