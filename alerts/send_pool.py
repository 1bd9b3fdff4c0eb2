"""Sending threads: texts flow through a worker process one by one (issues 16, 23).

A text spends almost all its time waiting on the provider (about 150 ms; 15 s when it hangs).
Each worker process keeps SMS_SEND_THREADS sending threads, and a text goes to a thread the
moment one is free: a batch does not wait for its slowest text, and neither does the next batch
(`stream`: the caller begins a few rows only when as many threads are free, hands each to one,
and by default returns once every row is handed on; the Celery task does not wait for the
provider's answers, so one hung request holds one thread, not twenty texts).

The sending threads do the HTTP and hold no database connection while the provider answers:
the row is begun (claimed, counted, send_started_at) by the caller in a short transaction
before it is handed on, and the thread records the provider's answer in its own short
transaction afterwards, taking a connection from the process's bounded pool only then
(DB_POOL_MAX_SIZE; without a pool, its own persistent connection). So connections per process
stay DB_POOL_MAX_SIZE however many texts are at the provider. A begun row is handed to a free
thread at once, and its request ends within the client's timeout, so its send is recorded well
inside lost_after() (alerts.sending checks that 2 x TWILIO_TIMEOUT_SECONDS fits).

Called inside a transaction (a caller's atomic block, or a test's), or with one sending thread
(SQLite: `make run`), the rows are sent one by one on the caller's thread and connection: other
connections could not see what it has not committed.

The threads are made lazily in the process that sends (never before a fork: a Celery pool
process makes its own). `drain()` waits for the texts in flight (a worker shutting down).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.conf import settings
from django.db import close_old_connections, connection

logger = logging.getLogger("alerts")
MAX_GROUP = 20  # rows begun in one transaction at most


def send_threads() -> int:
    """SMS_SEND_THREADS; one on SQLite (`make run`): one file takes one writer at a time, and
    twenty threads fighting for it failed with "database is locked" after texts went (issue 23)."""
    if connection.vendor == "sqlite":
        return 1
    return max(int(getattr(settings, "SMS_SEND_THREADS", 1)), 1)


def streams() -> bool:
    """Whether texts go to the sending threads (else one by one on the caller's thread)."""
    return send_threads() > 1 and not connection.in_atomic_block


class _Threads:
    """The process's sending threads, and a count of the free ones (a text is handed on only to
    a free thread: it never waits in a queue after its send began)."""

    def __init__(self, size: int):
        self.size = size
        self.free = threading.Semaphore(size)
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="sms-send")
        self.pending: set[Future] = set()
        self.lock = threading.Lock()

    def run(self, func: Callable, item):
        try:
            close_old_connections()  # a connection past CONN_MAX_AGE or broken is replaced
            try:
                return func(item)
            finally:
                close_old_connections()  # with a pool: handed back (CONN_MAX_AGE is 0 then)
        finally:
            self.free.release()

    def submit(self, func: Callable, item) -> Future:
        future = self.executor.submit(self.run, func, item)
        with self.lock:
            self.pending.add(future)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future) -> None:
        with self.lock:
            self.pending.discard(future)


_threads: tuple[int, _Threads] | None = None  # (pid, threads)
_lock = threading.Lock()


def _pool(size: int) -> _Threads:
    global _threads
    pid = os.getpid()
    with _lock:
        if _threads is None or _threads[0] != pid or _threads[1].size != size:
            _threads = (pid, _Threads(size))
        return _threads[1]


def stream(
    begin: Callable[[list], list], send: Callable, items: Sequence, *, wait_all: bool = True
) -> list[Future]:
    """Hand every item to a free sending thread: wait for one to be free, take as many as are
    free (at most MAX_GROUP), `begin(those items)` on this thread (one short transaction: it
    returns the rows that go), and `send(row)` on a thread each. Returns the futures, once every
    item is handed on, or (wait_all) once every send has ended. `send` must catch what it does
    not want raised from future.result()."""
    threads = _pool(send_threads())
    timeouts = _pool_timeouts()
    futures: list[Future] = []
    i = 0
    while i < len(items):
        if not threads.free.acquire(blocking=False):
            _hand_back_connection()  # while this thread waits for a sending thread to be free
            threads.free.acquire()
        taken = 1
        while taken < min(len(items) - i, MAX_GROUP) and threads.free.acquire(blocking=False):
            taken += 1
        chunk = list(items[i : i + taken])
        i += taken
        try:
            going = begin(chunk)
        except BaseException:
            for _ in range(taken):
                threads.free.release()
            raise
        for _ in range(taken - len(going)):
            threads.free.release()
        futures += [threads.submit(send, row) for row in going]
    if wait_all:
        wait(futures)
    if _pool_timeouts() > timeouts:
        pool_exhausted_record()
    return futures


def _hand_back_connection() -> None:
    """With a pool, give this thread's connection back to it (outside a transaction): a caller
    waiting for a free sending thread must not hold one the sending threads need to record."""
    if pool_size() and not connection.in_atomic_block:
        connection.close()


def run_each(func: Callable, items: Sequence) -> list:
    """func(item) for every item on the sending threads (when `streams()`, else one by one
    here); the results in the items' order, once all have run."""
    items = list(items)
    if len(items) <= 1 or not streams():
        return [func(item) for item in items]
    return [f.result() for f in stream(lambda chunk: chunk, func, items)]


def later(seconds: float, func: Callable, *args) -> None:
    """func(*args) on a thread of its own in `seconds` (a quick retry), its connection closed
    after it."""

    def run():
        try:
            func(*args)
        except Exception:  # noqa: BLE001 - the row stays planned: the sweep sends it
            logger.exception("A retry failed; the sweep takes it")
        finally:
            connection.close()

    def after():
        time.sleep(max(seconds, 0.0))  # a relative sleep: a timed wait on a condition (Timer)
        run()  # never woke under libfaketime, which the suite's night runs use

    threading.Thread(target=after, name="sms-retry", daemon=True).start()


def drain(timeout: float) -> int:
    """Wait up to `timeout` seconds for the texts in flight in this process; how many were."""
    current = _threads
    if current is None or current[0] != os.getpid():
        return 0
    with current[1].lock:
        pending = list(current[1].pending)
    deadline = time.monotonic() + timeout
    while any(not f.done() for f in pending) and time.monotonic() < deadline:
        time.sleep(0.1)  # polled, not a timed wait (see later())
    return len(pending)


# --- The connection budget (issue 23) -----------------------------------------------------------
# With DB_POOL_MAX_SIZE set, the sending threads share the process's bounded pool of database
# connections: a thread holds one only while it records a row's answer (closing it hands it
# back), never while the provider answers; with more threads than connections a thread waits for
# one. A wait that times out (the pool was
# exhausted for DB_POOL_TIMEOUT) is recorded, and /healthz reports it.
POOL_EXHAUSTED = "db_pool_exhausted"


def pool_size() -> int | None:
    """The process's pool of database connections (its max size), or None without one."""
    pool = settings.DATABASES["default"].get("OPTIONS", {}).get("pool")
    return int(pool["max_size"]) if isinstance(pool, dict) else None


def in_flight() -> int:
    """How many texts a process can have at the provider at once: its sending threads (none
    holds a database connection while the provider answers, so the pool does not bound this)."""
    return send_threads()


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
