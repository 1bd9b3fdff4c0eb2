"""Pages under load: gunicorn (DEBUG=false, whitenoise, persistent connections as in production)
and wrk from a separate process.

References measured in the same run, on the same server, in alternation with the pages:
- /bench/bare/: a signed-in bare Django view (session and user only): the floor;
- /bench/baseline/: a static list-sized template behind the same sign-in.
Targets: baseline ≥ 0.5× the bare view's req/s; parent home ≥ 0.5× the baseline's req/s with
p95 < 2×; worklist ≥ 0.3× the (staff) baseline's req/s; no error response.

Before measuring, every gunicorn worker has answered every page a few times (X-Bench-Worker),
so no figure includes a worker's first requests (imports, templates, connections).
Each page is loaded in BENCH_WRK_ROUNDS rounds that alternate with the others, so a change in
the machine's background load falls on every page alike: req/s = all requests / all seconds;
latency percentiles are the median of the rounds'.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request

from tests.benchmarks.common import (
    BENCH_DIR,
    PYTHON,
    Figure,
    Results,
    children,
    free_port,
    ratio_figure,
    start,
    stop,
    wait_for_port,
    warm_workers,
)
from tests.benchmarks.data import Dataset

WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "15"))  # per page, over all rounds
ROUNDS = int(os.environ.get("BENCH_WRK_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_GUNICORN_WORKERS", "3"))
WORKER_HEADER = "X-Bench-Worker"


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


def wrk(url: str, cookie: str, seconds: int) -> dict:
    cmd = [
        "wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", "--timeout", "10s",
        "-s", str(BENCH_DIR / "report.lua"), "-H", f"Cookie: {cookie}", url,
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    for line in out.splitlines():
        if line.startswith("BENCH_JSON "):
            return json.loads(line.removeprefix("BENCH_JSON "))
    raise RuntimeError(f"wrk printed no figures:\n{out}")


def combine(rounds: list[dict]) -> dict:
    """One page's figures from its rounds: pooled req/s, median percentiles, summed errors."""
    requests = sum(r["requests"] for r in rounds)
    seconds = sum(r["duration_us"] for r in rounds) / 1e6
    out = {"requests": requests, "rps": requests / seconds if seconds else 0.0}
    for key in ("p50_ms", "p95_ms", "p99_ms"):
        out[key] = statistics.median(r[key] for r in rounds)
    for key in ("non2xx", "socket_errors"):
        out[key] = sum(r[key] for r in rounds)
    return out


class _Fetcher:
    """GETs with one keep-alive connection per thread; returns the answering worker's id."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie
        self.local = threading.local()

    def __call__(self, path: str) -> int:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path, headers={"Cookie": self.cookie})
            resp = conn.getresponse()
            resp.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            self.local.conn = None
            raise
        if resp.status != 200:
            raise RuntimeError(f"GET {path} answered {resp.status} while warming up")
        return int(resp.getheader(WORKER_HEADER) or 0)


def run(results: Results, dataset: Dataset) -> None:
    from patients.models import User
    from tests.benchmarks.sessions import session_cookie

    if shutil.which("wrk") is None:
        results.missing("pages", "wrk is not installed: scripts/system-deps.sh with-bench")
        return
    nurse = User.objects.get(pk=dataset.nurse_id)
    parent = User.objects.get(pk=dataset.parent_id)
    cookies = {"parent": session_cookie(parent), "staff": session_cookie(nurse)}
    # (key, label, URL name, who)
    pages = [
        ("bare", "signed-in bare view", "bench_bare", "parent"),
        ("baseline", "baseline page", "bench_baseline", "parent"),
        ("staff baseline", "baseline page (nurse)", "bench_baseline", "staff"),
        ("home", "parent home", "family:home", "parent"),
        ("worklist", "nurse worklist", "staff:worklist", "staff"),
    ]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [PYTHON, "-m", "gunicorn", "itbportal.wsgi", "-b", f"127.0.0.1:{port}", "-w", str(WORKERS),
           "--timeout", "60", "--graceful-timeout", "5"]  # fmt: skip
    proc = start(cmd, "gunicorn")
    try:
        wait_for_port(port, proc)
        ready = []
        for key, label, name, who in pages:
            path = resolve(name)
            if path is None:
                results.missing(f"{label}: requests/s", f"URL name {name} does not resolve")
                continue
            status = _preflight(base + path, cookies[who])
            if status != 200:
                results.missing(f"{label}: requests/s", f"GET {path} answered {status}, not 200")
                continue
            ready.append((key, label, path, who))
        deadline = time.monotonic() + 30
        while len(workers := set(children(proc.pid))) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.2)
        for who in cookies:
            seen = warm_workers(
                _Fetcher(port, cookies[who]), [p for _k, _l, p, w in ready if w == who], workers
            )
            print(f"  warmed {len(workers)} workers ({who}): {sum(seen.values())} requests", flush=True)
        per_round = max(WRK_SECONDS // ROUNDS, 2)
        rounds: dict[str, list[dict]] = {key: [] for key, *_ in ready}
        for n in range(ROUNDS):
            for key, label, path, who in ready:
                figures = wrk(base + path, cookies[who], per_round)
                rounds[key].append(figures)
                print(f"  round {n + 1} {label}: {json.dumps(figures)}", flush=True)
        report(results, {key: combine(r) for key, r in rounds.items()})
    finally:
        stop(proc)


def report(results: Results, figures: dict[str, dict]) -> None:
    """The table's rows from each page's combined figures (keys as in `run`)."""
    bare, baseline = figures.get("bare"), figures.get("baseline")
    if bare:
        results.add(ratio_figure("signed-in bare view: requests/s", bare["rps"], None, "req/s"))
        results.add(ratio_figure("signed-in bare view: p95 latency", bare["p95_ms"], None, "ms"))
    if baseline:
        results.add(
            ratio_figure("baseline page vs bare view: requests/s", baseline["rps"], bare and bare["rps"],
                         "req/s", at_least=0.5)
        )  # fmt: skip
        for pct in ("p50", "p95", "p99"):
            ref = bare and bare[f"{pct}_ms"]
            results.add(ratio_figure(f"baseline page: {pct} latency", baseline[f"{pct}_ms"], ref, "ms"))
    targets = [
        ("home", "parent home", "baseline", 0.5, 2),
        ("worklist", "nurse worklist", "staff baseline", 0.3, None),
    ]
    for key, label, ref_key, share, p95_below in targets:
        page, ref = figures.get(key), figures.get(ref_key) or baseline
        if not page or not ref:
            continue
        results.add(ratio_figure(f"{label}: requests/s", page["rps"], ref["rps"], "req/s", at_least=share))
        for pct in ("p50", "p95", "p99"):
            below = p95_below if pct == "p95" else None
            results.add(
                ratio_figure(
                    f"{label}: {pct} latency", page[f"{pct}_ms"], ref[f"{pct}_ms"], "ms", below=below
                )
            )
    errors = sum(f["non2xx"] + f["socket_errors"] for f in figures.values())
    results.add(
        Figure("pages: error responses (non-2xx, socket errors)", errors, "", None, None, "0", errors == 0)
    )
