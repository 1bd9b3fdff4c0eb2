"""The Celery application. Tasks carry primary keys only; the database holds the truth."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itbportal.settings")

app = Celery("itbportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The sweep claims due reminders every minute (alerts/sending.py has the rules); expiring
# messages keep a backlog of sweeps from piling up while the worker is down.
app.conf.beat_schedule = {
    "reminders-sweep": {"task": "alerts.tasks.sweep", "schedule": 60.0, "options": {"expires": 55}},
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
    # Dates move with time: replan every child daily, at night in the Americas (09:00 UTC).
    "reminders-replan-all": {"task": "alerts.tasks.replan_all", "schedule": crontab(hour=9, minute=0)},
}
