"""Real processes for the fault tests: a private redis-server and Celery workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


class RedisServer:
    """A throw-away redis-server that keeps nothing on disk (so a restart loses every message)."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        args = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        self.proc = subprocess.Popen(
            args, env=real_clock_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


def real_clock_env() -> dict:
    """This environment without libfaketime (the suite's night run): redis-server clashes with it."""
    env = dict(os.environ)
    if "faketime" in env.get("LD_PRELOAD", ""):
        env["LD_PRELOAD"] = " ".join(p for p in env["LD_PRELOAD"].split() if "faketime" not in p)
        if not env["LD_PRELOAD"]:
            del env["LD_PRELOAD"]
    return env


def redis_ports() -> range:
    """The ports private redis-servers may use: ITB_TEST_REDIS_PORTS ("6390-6399" by default)."""
    first, _, last = os.environ.get("ITB_TEST_REDIS_PORTS", "6390-6399").partition("-")
    return range(int(first), int(last or first) + 1)


def free_redis_port() -> int:
    """A port in redis_ports() with nothing listening."""
    import socket

    for port in redis_ports():
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError(f"no free port in {redis_ports()}")


class Worker:
    """`celery -A itbportal worker` in its own process group, so SIGKILL takes all of it."""

    ready_text = b"ready."

    def __init__(self, env: dict, log: Path, concurrency: int = 1):
        self.env, self.log, self.concurrency = env, log, concurrency
        self.proc: subprocess.Popen | None = None

    def args(self) -> list[str]:
        return [
            CELERY,
            "-A",
            "itbportal",
            "worker",
            "--loglevel=info",
            f"--concurrency={self.concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]

    def start(self) -> Worker:
        args = self.args()
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready_text in self.log.read_bytes():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("worker did not start:\n" + self.log.read_text()[-3000:])

    def kill(self, sig=signal.SIGKILL) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)
            self.proc.wait(20)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class Beat(Worker):
    """`celery -A itbportal beat` with its own schedule file (two can run at once)."""

    ready_text = b"beat: Starting"

    def args(self) -> list[str]:
        schedule = self.log.with_suffix(".schedule")
        return [CELERY, "-A", "itbportal", "beat", "--loglevel=info", f"--schedule={schedule}"]


@contextmanager
def broker(url: str):
    """Point this process's Celery app at `url` (and back afterwards)."""
    from itbportal.celery import app

    def reset():
        app._pool = None
        if "amqp" in app.__dict__:
            app.amqp._producer_pool = None

    # Celery reads the CELERY_BROKER_URL environment variable before its own setting.
    old, old_env = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = url
    reset()
    try:
        yield app
    finally:
        app.conf.broker_url = old
        if old_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_env
        reset()


def wait_until(check, *, timeout: float = 60, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(every)
    return False
