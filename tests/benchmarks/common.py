"""Shared pieces of the benchmark harness: environment, results table, processes, machine.

Nothing here imports Django at module level: __main__ sets the environment first.
"""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_DIR = Path(__file__).resolve().parent
VAR = ROOT / "var" / "bench"
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/itbportal_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


def bench_env() -> dict[str, str]:
    """The environment of every process of the run: production-like, but http and local."""
    db = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    redis = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS)
    env = {k: v for k, v in os.environ.items() if k not in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    env.update(
        DJANGO_SETTINGS_MODULE="itbportal.settings",
        DEBUG="false",
        SECRET_KEY="bench-secret-key-not-for-production-0123456789abcdef",
        DATABASE_URL=db,
        REDIS_URL=redis,
        CELERY_BROKER_URL=redis,
        SMS_BACKEND="locmem",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        BENCHMARK_VIEWS="true",
        ITB_VAR_DIR=str(VAR),
        MEDIA_ROOT=str(VAR / "media"),
        LOG_LEVEL="WARNING",
        # http on localhost: production's https-only switches (if the security work reads these).
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
    )
    return env


def not_available(what: str) -> str:
    return f"not available yet ({what})"


@dataclass
class Figure:
    """One row of the table. `value`/`baseline` are numbers or None; `met` None = no target."""

    name: str
    value: float | None
    unit: str = ""
    baseline: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def cells(self) -> list[str]:
        met = {True: "yes", False: "NO", None: "-"}[self.met]
        if self.value is None:
            met = "n/a"
        elif self.note:
            met = f"{met} ({self.note})"
        return [
            self.name,
            _fmt(self.value, self.unit) if self.value is not None else (self.note or "n/a"),
            _fmt(self.baseline, self.unit) if self.baseline is not None else "",
            f"{self.ratio:.2f}" if self.ratio is not None else "",
            self.target,
            met,
        ]


def _fmt(value: float, unit: str) -> str:
    if abs(value) >= 100 or float(value).is_integer():
        text = f"{value:,.0f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {unit}".strip()


def ratio_figure(name, value, baseline, unit, *, at_least=None, at_most=None, below=None) -> Figure:
    """A figure judged by value/baseline: at_least / at_most (inclusive) or below (strict)."""
    ratio = value / baseline if baseline else None
    met, target = None, ""
    if ratio is not None:
        if at_least is not None:
            met, target = ratio >= at_least, f"≥ {at_least}× reference"
        elif at_most is not None:
            met, target = ratio <= at_most, f"≤ {at_most}× reference"
        elif below is not None:
            met, target = ratio < below, f"< {below}× reference"
    return Figure(name, value, unit, baseline, ratio, target, met)


@dataclass
class Results:
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    load: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # part: min, mean, max

    def add(self, figure: Figure) -> None:
        self.figures.append(figure)
        print(f"  {' | '.join(figure.cells())}", flush=True)

    def missing(self, name: str, why: str) -> None:
        self.add(Figure(name, None, note=not_available(why)))

    def table(self) -> str:
        head = ["figure", "value", "reference", "ratio", "target", "met?"]
        rows = [head] + [f.cells() for f in self.figures]
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        lines.insert(1, "-+-".join("-" * w for w in widths))
        return "\n".join(lines)

    def markdown(self) -> str:
        head = ["figure", "value", "reference", "ratio", "target", "met?"]
        rows = [head, ["---"] * len(head)] + [f.cells() for f in self.figures]
        return "\n".join("| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in rows)

    def load_lines(self) -> list[str]:
        """One line per part: the 1-minute load average seen while it ran (min / mean / max)."""
        return [
            f"load average during {part}: {low:.2f} / {mean:.2f} / {high:.2f} (min / mean / max)"
            for part, (low, mean, high) in self.load.items()
        ]


def loadavg() -> float:
    """The 1-minute load average (/proc/loadavg)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


class LoadMonitor:
    """Samples /proc/loadavg every `interval` seconds in a thread; `during(name)` records the
    samples taken while a part ran into `results.load` (a run on a busy machine says so)."""

    def __init__(self, results: Results, interval: float = 2.0, read=loadavg):
        self.results, self.interval, self.read = results, interval, read
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(self.read())
            self._stop.wait(self.interval)

    def start(self) -> LoadMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @contextlib.contextmanager
    def during(self, name: str):
        first = len(self.samples)
        try:
            yield
        finally:
            seen = self.samples[first:] + [self.read()]
            self.results.load[name] = (min(seen), sum(seen) / len(seen), max(seen))


def children(pid: int) -> list[int]:
    """The ids of `pid`'s direct child processes (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pids) -> float:
    """User + system CPU seconds of the given processes (all their threads), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its live children (a Celery or gunicorn master and its pool)."""
    return cpu_seconds([pid, *children(pid)])


def warm_workers(
    fetch,
    paths: list[str],
    workers: set,
    *,
    rounds: int = 3,
    max_requests: int = 2000,
    concurrency: int | None = None,
) -> Counter:
    """Request every path until each of `workers` (process ids) has answered it `rounds` times.

    `fetch(path)` makes one request and returns the id of the process that answered (the
    X-Bench-Worker header). Requests go `concurrency` at a time (twice the workers by default)
    so that every worker takes some. Raises if a worker has not answered after `max_requests`
    requests per path: a figure measured with a cold worker would be start-up, not load.
    """
    seen: Counter = Counter()
    concurrency = concurrency or 2 * len(workers)
    with ThreadPoolExecutor(concurrency) as pool:
        for path in paths:
            sent = 0
            while any(seen[(path, w)] < rounds for w in workers):
                if sent >= max_requests:
                    cold = sorted(w for w in workers if seen[(path, w)] < rounds)
                    raise RuntimeError(f"workers {cold} never answered {path} {rounds} times")
                for answered in pool.map(fetch, [path] * concurrency):
                    seen[(path, answered)] += 1
                sent += concurrency
    return seen


def free_port() -> int:
    """A free port in BENCH_PORTS (default 8190-8199)."""
    low, high = (int(p) for p in os.environ.get("BENCH_PORTS", "8190-8199").split("-"))
    for port in range(low, high + 1):
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high}")


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def start(cmd: list[str], log_name: str, env: dict | None = None) -> subprocess.Popen:
    """Start a process in its own process group, output to var/bench/<log_name>.log."""
    VAR.mkdir(parents=True, exist_ok=True)
    log = open(VAR / f"{log_name}.log", "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env or bench_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    proc._bench_log = log  # type: ignore[attr-defined]
    return proc


def stop(proc: subprocess.Popen | None, timeout: float = 15) -> None:
    """Stop the process group we started: TERM, then KILL after `timeout` seconds."""
    if proc is None:
        return
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    log = getattr(proc, "_bench_log", None)
    if log:
        log.close()


def machine() -> dict[str, str]:
    """CPU model, cores, memory, Python, PostgreSQL and Redis versions."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "memory": mem,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "PostgreSQL": _pg_version(),
        "Redis": _redis_version(),
    }


def _pg_version() -> str:
    try:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            return cursor.fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - a description, never a failure
        return f"unknown ({exc.__class__.__name__})"


def _redis_version() -> str:
    try:
        import redis

        return redis.Redis.from_url(bench_env()["REDIS_URL"], socket_timeout=5).info()["redis_version"]
    except Exception as exc:  # noqa: BLE001
        return f"unknown ({exc.__class__.__name__})"


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
