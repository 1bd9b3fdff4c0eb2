"""Pages under load: gunicorn (DEBUG=false, whitenoise) and wrk from a separate process.

Each page's throughput and latency are compared with /bench/baseline/, a static template behind
the same sign-in, measured in the same run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request

from .common import BENCH_DIR, PYTHON, Results, free_port, ratio_figure, start, stop, wait_for_port
from .data import Dataset

WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "15"))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))


def resolve(name: str, *args) -> str | None:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _preflight(url: str, cookie: str) -> int:
    """The status of one GET (no redirects followed): a page must answer 200 before loading it."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=30) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def wrk(url: str, cookie: str) -> dict:
    cmd = [
        "wrk", "-t2", "-c8", f"-d{WRK_SECONDS}s", "--latency", "--timeout", "10s",
        "-s", str(BENCH_DIR / "report.lua"), "-H", f"Cookie: {cookie}", url,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=WRK_SECONDS + 60, check=True).stdout
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no figures:\n{out}")


def _load(results: Results, label: str, base: str, path: str, cookie: str) -> dict | None:
    status = _preflight(base + path, cookie)
    if status != 200:
        results.missing(f"{label}: requests/s", f"GET {path} answered {status}, not 200")
        return None
    _preflight(base + path, cookie)  # warm the worker caches
    figures = wrk(base + path, cookie)
    print(f"  {label}: {json.dumps(figures)}", flush=True)
    return figures


def run(results: Results, dataset: Dataset) -> None:
    from patients.models import User

    from .sessions import session_cookie

    if shutil.which("wrk") is None:
        results.missing("pages", "wrk is not installed: scripts/system-deps.sh with-bench")
        return
    nurse = User.objects.get(pk=dataset.nurse_id)
    parent = User.objects.get(pk=dataset.parent_id)
    staff_cookie, parent_cookie = session_cookie(nurse), session_cookie(parent)
    pages = [
        ("parent home", "family:home", parent_cookie, 0.5),
        ("nurse worklist", "staff:worklist", staff_cookie, 0.3),
    ]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [PYTHON, "-m", "gunicorn", "itbportal.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(WORKERS),
           "--timeout", "60", "--graceful-timeout", "5"]  # fmt: skip
    proc = start(cmd, "gunicorn")
    try:
        wait_for_port(port, proc)
        baseline = _load(
            results, "baseline (parent)", base, resolve("bench_baseline") or "/bench/baseline/", parent_cookie
        )
        staff_baseline = _load(
            results, "baseline (staff)", base, resolve("bench_baseline") or "/bench/baseline/", staff_cookie
        )
        if baseline is None:
            return
        results.add(ratio_figure("baseline page: requests/s", baseline["rps"], None, "req/s"))
        for pct in ("p50", "p95", "p99"):
            results.add(ratio_figure(f"baseline page: {pct} latency", baseline[f"{pct}_ms"], None, "ms"))
        non2xx = baseline["non2xx"] + (staff_baseline or {}).get("non2xx", 0)
        for label, name, cookie, share in pages:
            path = resolve(name)
            if path is None:
                results.missing(f"{label}: requests/s", f"URL name {name} does not resolve")
                continue
            figures = _load(results, label, base, path, cookie)
            if figures is None:
                continue
            ref = baseline if cookie == parent_cookie else (staff_baseline or baseline)
            results.add(
                ratio_figure(f"{label}: requests/s", figures["rps"], ref["rps"], "req/s", at_least=share)
            )
            for pct in ("p50", "p95", "p99"):
                key = f"{pct}_ms"
                below = 4 if (pct == "p95" and name == "family:home") else None
                results.add(
                    ratio_figure(f"{label}: {pct} latency", figures[key], ref[key], "ms", below=below)
                )
            non2xx += figures["non2xx"] + figures["socket_errors"]
        results.add(_errors_figure(non2xx))
    finally:
        stop(proc)


def _errors_figure(count: int):
    from .common import Figure

    return Figure("pages: error responses (non-2xx, socket errors)", count, "", None, None, "0", count == 0)
