"""The Celery application. Tasks carry primary keys only; the database holds the truth."""

import logging
import os

from celery import Celery, Task
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun, worker_process_shutdown, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itbportal.settings")

from django.conf import settings  # noqa: E402 - needs DJANGO_SETTINGS_MODULE

logger = logging.getLogger("itbportal")


class AfterCommitTask(Task):
    """Every task's base: `task.delay_on_commit(...)` queues the task once the surrounding
    transaction commits (at once outside one), so a worker never reads rows that are not yet
    there, or that a rollback took back. Queueing that fails after the commit (the broker down)
    is logged, not raised: the write stands, and what the task would have done is recovered by
    the caller's own rule (a claimed text is swept again; a summary can be made again from the
    chart). This replaces hand-written `transaction.on_commit(lambda: task.delay(...))`."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        from django.db import transaction

        transaction.on_commit(lambda: self.queue_now(*args, **kwargs))

    def queue_now(self, *args, **kwargs) -> bool:
        """Queue at once; False (and a log line) when the broker refuses."""
        try:
            self.apply_async(args, kwargs)
        except Exception:  # noqa: BLE001 - broker down: the caller's recovery takes over
            logger.exception("Could not queue the task %s", self.name)
            return False
        return True


app = Celery("itbportal", task_cls=AfterCommitTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Persistent database connections in the worker too (settings: CONN_MAX_AGE, CONN_HEALTH_CHECKS).
# Celery's Django fixup closes every connection before and after each task unless
# CELERY_DB_REUSE_MAX is set (then it closes them every that many tasks): a new PostgreSQL
# connection per task. Set it, and around each task do what Django does around a request:
# close_old_connections() closes a connection past CONN_MAX_AGE, or broken, or left in a
# transaction, and arms the health check of the next use.
app.conf.update(CELERY_DB_REUSE_MAX=1000)


def _close_old_connections(task=None, **kwargs) -> None:
    if task is not None and getattr(task.request, "is_eager", False):
        return  # an eager task runs inside its caller's request or transaction
    from django.db import close_old_connections

    close_old_connections()


task_prerun.connect(_close_old_connections, weak=False)
task_postrun.connect(_close_old_connections, weak=False)

# The sweep claims due reminders every minute (REMINDER_SWEEP_SECONDS; alerts/sending.py has the
# rules); expiring messages keep a backlog of sweeps from piling up while the worker is down.
SWEEP_SECONDS = settings.REMINDER_SWEEP_SECONDS
REPLAN_HOUR, REPLAN_MINUTE = (int(part) for part in settings.REMINDER_REPLAN_AT_UTC.split(":"))
app.conf.beat_schedule = {
    "reminders-sweep": {
        "task": "alerts.tasks.sweep",
        "schedule": SWEEP_SECONDS,
        "options": {"expires": SWEEP_SECONDS * 0.9},
    },
    "escalations-check": {
        "task": "alerts.tasks.check_escalations",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # The escalation ladder: texts, a call, then the nurses' call list (alerts/ladder.py).
    "ladder-advance": {
        "task": "alerts.tasks.advance_ladders",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    # The safety net behind the stored instants (the 5-minute check refreshes only the children
    # whose instant has come): every active child once a day, before the daily re-plan.
    "safety-refresh-all": {
        "task": "alerts.tasks.refresh_all",
        "schedule": crontab(hour=(REPLAN_HOUR - 1) % 24, minute=REPLAN_MINUTE),
    },
    # Dates move with time: replan every child daily, at night in the Americas (09:00 UTC).
    "reminders-replan-all": {
        "task": "alerts.tasks.replan_all",
        "schedule": crontab(hour=REPLAN_HOUR, minute=REPLAN_MINUTE),
    },
}


@worker_ready.connect
def _sweep_at_start(sender=None, **kwargs):
    """With SWEEP_AT_WORKER_START (`make run`), a worker that starts sends what is due at once
    instead of at beat's first tick a minute later; the sweep is idempotent."""
    from django.conf import settings

    if getattr(settings, "SWEEP_AT_WORKER_START", False):
        app.send_task("alerts.tasks.sweep")


@worker_process_shutdown.connect
def _drain_sends(**kwargs):
    """A worker process that is shut down (not killed) lets the texts its sending threads have at
    the provider finish and be recorded first (alerts/send_pool.py), within the client's timeout;
    a text cut off would go again only after asking the provider (alerts/sending.py)."""
    from alerts.send_pool import drain

    drain(timeout=2 * settings.TWILIO_TIMEOUT_SECONDS + 5)
