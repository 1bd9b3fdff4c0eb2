"""The Celery application. Tasks carry primary keys only; the database holds the truth."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itbportal.settings")

app = Celery("itbportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
