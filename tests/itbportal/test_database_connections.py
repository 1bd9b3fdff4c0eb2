"""Production's database connections (issue 16): persistent, health-checked, in the web
processes and in the Celery worker alike."""

import os
import subprocess
import sys
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

# A process that runs like a gunicorn worker (request signals) and a Celery worker (task signals).
SCRIPT = """
import django
django.setup()
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import connection
from itbportal.celery import _close_old_connections

class Task:
    class request:
        is_eager = False

def request():
    request_started.send(sender=None)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    request_finished.send(sender=None)
    return pid

def task():
    _close_old_connections(task=Task)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    _close_old_connections(task=Task)
    return pid

db = settings.DATABASES["default"]
print(db["CONN_MAX_AGE"], db["CONN_HEALTH_CHECKS"], request(), request(), flush=True)
input()  # the test ends this connection's server process
print(request(), task(), task(), flush=True)
"""


def _settings_of(env: dict) -> str:
    code = "import django; django.setup(); from django.conf import settings as s; d = s.DATABASES['default'];"
    code += "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _env(**changes) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    env.update(DJANGO_SETTINGS_MODULE="itbportal.settings", **changes)
    return env


def test_production_keeps_connections_ten_minutes_with_health_checks_and_development_does_not():
    assert _settings_of(_env(DEBUG="false")) == "600 True"
    assert _settings_of(_env(DEBUG="true")) == "0 True"


def test_a_connection_is_reused_across_requests_and_tasks_and_replaced_when_the_server_ends_it(db):
    name = connection.settings_dict["NAME"]  # the test database
    url = f"postgres://{connection.settings_dict['USER']}@{connection.settings_dict['HOST']}:"
    url += f"{connection.settings_dict['PORT']}/{name}"
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=_env(DEBUG="false", DATABASE_URL=url),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        max_age, checks, first, second = proc.stdout.readline().split()
        assert (max_age, checks) == ("600", "True"), proc.stderr.read() if proc.poll() is not None else ""
        assert first == second  # the second request used the first one's connection

        with connection.cursor() as cursor:  # a database restart or a network cut, for this one
            cursor.execute("SELECT pg_terminate_backend(%s)", [int(first)])
        out, err = proc.communicate("\n", timeout=60)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0, err
    after_request, task_one, task_two = out.split()
    assert after_request != first  # the health check replaced it: no failed request
    assert task_one == task_two == after_request  # the worker keeps it across tasks too
