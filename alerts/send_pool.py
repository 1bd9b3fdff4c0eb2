"""Sending threads: a batch's texts overlap the provider's round trips (issue 16).

A text spends almost all its time waiting: on the provider (about 150 ms) and on PostgreSQL.
One process sending them one after another manages 1/0.15 s, about 6 texts per second. So each
worker process keeps a pool of SMS_SEND_THREADS threads and sends the rows of a batch on them.

Every row is still sent by the same per-row code, each in its own short transactions holding
the row's lock while the provider is called, on the thread's own database connection (Django's
connections are per thread). So every rule of alerts.sending holds as before: a row is claimed
once, a repeated task finds it begun or sent, and a worker that dies leaves the rows it had in
flight to the unknown-outcome rule (sent again, never lost); the rows of its batch that had not
begun are lost claims, sent once. What changes is how many are in flight at the moment of a
crash: up to SMS_SEND_THREADS per process instead of one.

Called inside a transaction (a caller's atomic block, or a test's), the rows are sent one by one
on the caller's connection: other connections could not see what it has not committed.

The pool is made lazily in the process that sends (never before a fork: a Celery pool process
makes its own). Its threads keep their connections between batches, as a request's would
(CONN_MAX_AGE, CONN_HEALTH_CHECKS): close_old_connections() around each row.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait

from django.conf import settings
from django.db import close_old_connections, connection

_pool: tuple[int, int, ThreadPoolExecutor] | None = None  # (pid, size, pool)
_lock = threading.Lock()


def send_threads() -> int:
    """SMS_SEND_THREADS; one on SQLite (`make run`): one file takes one writer at a time, and
    twenty threads fighting for it failed with "database is locked" after texts went (issue 23)."""
    if connection.vendor == "sqlite":
        return 1
    return max(int(getattr(settings, "SMS_SEND_THREADS", 1)), 1)


def _executor(size: int) -> ThreadPoolExecutor:
    global _pool
    pid = os.getpid()
    with _lock:
        if _pool is None or _pool[0] != pid or _pool[1] != size:
            _pool = (pid, size, ThreadPoolExecutor(max_workers=size, thread_name_prefix="sms-send"))
        return _pool[2]


def _in_thread(func: Callable, item):
    close_old_connections()  # a connection past CONN_MAX_AGE or broken is replaced
    try:
        return func(item)
    finally:
        close_old_connections()


def run_each(func: Callable, items: Iterable) -> list:
    """func(item) for every item, on the sending threads when that is safe (see above); the
    results in the items' order. func must catch what it does not want to end the batch: an
    exception is raised here after every item has run."""
    items = list(items)
    size = min(send_threads(), len(items))
    if size <= 1 or connection.in_atomic_block:
        return [func(item) for item in items]
    timeouts = _pool_timeouts()
    pool = _executor(send_threads())
    futures = [pool.submit(_in_thread, func, item) for item in items]
    wait(futures)
    if _pool_timeouts() > timeouts:
        pool_exhausted_record()
    return [future.result() for future in futures]


# --- The connection budget (issue 23) -----------------------------------------------------------
# With DB_POOL_MAX_SIZE set, the sending threads share the process's bounded pool of database
# connections: a thread holds one only while it works on a row (closing it hands it back), and
# with more threads than connections a thread waits for one. A wait that times out (the pool was
# exhausted for DB_POOL_TIMEOUT) is recorded, and /healthz reports it.
POOL_EXHAUSTED = "db_pool_exhausted"


def pool_size() -> int | None:
    """The process's pool of database connections (its max size), or None without one."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    return int(pool["max_size"]) if isinstance(pool, dict) else None


def in_flight() -> int:
    """How many texts a process can have at the provider at once: its sending threads, or its
    connections when it has fewer (each send holds one while the provider answers)."""
    size = pool_size()
    return min(send_threads(), size) if size else send_threads()


def pool_stats() -> dict | None:
    pool = getattr(connection, "pool", None) if connection.vendor == "postgresql" else None
    return pool.get_stats() if pool is not None else None


def _pool_timeouts() -> int:
    stats = pool_stats()
    return int(stats.get("requests_errors", 0)) if stats else 0


def pool_exhausted_record() -> None:
    """Note that a sending thread waited in vain for a connection (read by /healthz)."""
    import logging

    from django.utils import timezone

    from alerts.models import Heartbeat

    logging.getLogger("alerts").error("The database connection pool was exhausted while sending")
    try:
        Heartbeat.objects.update_or_create(name=POOL_EXHAUSTED, defaults={"last_run_at": timezone.now()})
    except Exception:  # noqa: BLE001 - the log line above is the record then
        logging.getLogger("alerts").exception("Could not record the exhausted pool")
