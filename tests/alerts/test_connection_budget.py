"""A connection budget (issue 23, point 2): with DB_POOL_MAX_SIZE, a worker process's sending
threads share a bounded pool of database connections (Django's psycopg pool), taking one only to
record an answer, never while the provider answers. The send path runs in its own process here,
with more sending threads than connections, against the fake Twilio."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from alerts.models import Reminder, SmsMessage
from tests.alerts.conftest import ACCOUNT_SID, AUTH_TOKEN, texts_to_distinct_caregivers

SCRIPT = """
import json, django
django.setup()
from alerts import send_pool, sending

ids = sending.reminders_claim_due()
accepted = sending.reminders_send(reminder_ids=ids)
print(json.dumps({"claimed": len(ids), "accepted": accepted, "final": send_pool.pool_stats(),
                  "threads": send_pool.send_threads(), "in_flight": send_pool.in_flight()}))
"""


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_send_path_with_more_threads_than_connections_sends_every_text_once(fake_twilio):
    rows = texts_to_distinct_caregivers(24, send_after=timezone.now() - timedelta(minutes=1))
    fake_twilio.fail_share(1.0, [("hang", 0.2)])  # each send takes a while: they overlap
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itbportal.settings",
        "DEBUG": "false",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "DB_POOL_MAX_SIZE": "3",
        "DB_POOL_TIMEOUT": "30",
        "SMS_SEND_THREADS": "8",
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_MESSAGING_SERVICE_SID": "MG" + "1" * 32,
        "TWILIO_API_BASE_URL": fake_twilio.base_url,
        "TWILIO_TIMEOUT_SECONDS": "10",
        "PUBLIC_BASE_URL": "https://portal.example.org",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print("send path with a pool:", out)  # the figures, for the record (pytest -s)
    # 8 texts at the provider at once, on 3 connections: no thread holds one while Twilio answers.
    assert (out["threads"], out["in_flight"]) == (8, 8)
    assert fake_twilio.most_in_flight > 3
    assert out["claimed"] == out["accepted"] == 24
    final = out["final"]
    # Never more than 3 connections opened, for 8 threads; threads did wait for one (the pool was
    # the bound), and none waited in vain.
    assert final["pool_max"] == 3 and 1 <= final["pool_size"] <= 3 and final["connections_num"] <= 3
    assert final.get("requests_queued", 0) > 0 and final.get("requests_errors", 0) == 0
    pks = [r.pk for r in rows]
    assert set(Reminder.objects.filter(pk__in=pks).values_list("status", flat=True)) == {"sent"}
    assert len(fake_twilio.requests) == 24 == len({r["To"] for r in fake_twilio.requests})
    assert SmsMessage.objects.filter(reminder__in=pks).count() == 24
