"""Issue 15, the first ten minutes: `make run`'s seeding plans the demo's texts (the first due at
once, at any hour), stores each child's latest after-visit summary, and says who is who."""

import re
import subprocess
import sys
from datetime import datetime, time, timedelta
from io import StringIO
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command

from alerts.models import Reminder, SmsMessage
from alerts.sending import reminders_claim_due, reminders_send
from alerts.sms import locmem
from patients.models import Clinic, Patient
from pumps.models import Document

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def test_make_run_seeds_with_the_command_tested_here():
    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "manage.py seed_demo\n" in recipe + "\n"
    assert "--no-summaries" not in recipe
    assert "demo_ready" in (ROOT / "Procfile").read_text()


@pytest.mark.parametrize("hour", [3, 14])  # at night (quiet hours) and by day
def test_within_a_minute_of_start_a_text_is_sent_and_a_summary_is_there(hour):
    clinic = Clinic.objects.order_by("pk").first()
    today = datetime(2027, 3, 10).date()
    start = datetime.combine(today, time(hour, 0), tzinfo=clinic.tzinfo)
    with time_machine.travel(start, tick=False):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        planned = Reminder.objects.filter(status=Reminder.Status.PLANNED)
        assert planned.count() > 20, "every child's texts are planned as part of seeding"
        minute = start + timedelta(minutes=1)
        due = reminders_claim_due(now=minute)
        assert due, "a text is due within a minute of start"
        locmem.outbox.clear()
        assert reminders_send(reminder_ids=due, now=minute) >= 1
    sent = SmsMessage.objects.filter(direction=SmsMessage.Direction.OUTBOUND)
    assert sent.exists() and locmem.outbox, "not held by quiet hours, whatever the hour"
    assert "ITB" in locmem.outbox[0].body or locmem.outbox[0].body
    # Every child's latest visit has its after-visit summary stored, as a PDF.
    children = Patient.objects.filter(mrn__startswith="DEMO-")
    summarised = set(
        Document.objects.filter(kind=Document.Kind.VISIT_SUMMARY).values_list("patient_id", flat=True)
    )
    assert summarised == set(children.values_list("pk", flat=True))
    document = Document.objects.filter(kind=Document.Kind.VISIT_SUMMARY).first()
    with document.file.open("rb") as pdf:
        assert pdf.read(5) == b"%PDF-"


def test_the_logins_say_how_many_children_and_which_language():
    out = StringIO()
    call_command("seed_demo", "--no-summaries", stdout=out)
    text = out.getvalue()
    assert re.search(r"maria\.garcia@\S+\s+reads Spanish, 3 children: Sofia, Mateo, Valentina", text)
    assert re.search(r"james\.smith@\S+\s+reads English, 4 children: Liam", text)
    assert re.search(r"sarah\.jones@\S+\s+.*texts off", text)


def test_links_in_e_mails_use_the_port_the_portal_runs_on():
    code = "import django; django.setup(); from django.conf import settings; print(settings.PUBLIC_BASE_URL)"
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "true",
        "WEB_PORT": "8123",
        "DJANGO_SETTINGS_MODULE": "itbportal.settings",
    }
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "http://127.0.0.1:8123", result.stderr


def test_make_run_keeps_one_clock_installs_no_test_tools_and_stops_quietly():
    """Issue 24, item 14: honcho stamps its lines in the portal's time zone (as Django and Celery
    do); `make run` asks only for the runtime system packages; Ctrl-C (honcho's 130) ends make
    with 0; the worker has no forked children to report killed; the demo_ready process imports."""
    import importlib

    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "system-deps" not in recipe.splitlines()[0], "run must not depend on the test tools"
    assert "system-deps.sh runtime" in recipe
    assert 'TZ="$$($(RUN_ENV) $(BIN)/python manage.py clock_zone)"' in recipe
    assert "|| test $$? -eq 130" in recipe
    deps = (ROOT / "scripts" / "system-deps.sh").read_text()
    runtime = deps.split("runtime=(", 1)[1].split(")", 1)[0]
    assert "faketime" not in runtime and "poppler-utils" not in runtime
    assert "--pool=threads" in (ROOT / "Procfile").read_text()
    out = StringIO()
    call_command("clock_zone", stdout=out)
    assert out.getvalue().strip() == settings.TIME_ZONE
    importlib.import_module("patients.demo.management.commands.demo_ready")


def test_the_filesystem_broker_names_its_host():
    """kombu warns "No hostname was supplied" on every connection to a URL without one."""
    from kombu import Connection

    text = (ROOT / "itbportal" / "settings.py").read_text()
    url = re.search(r'default=REDIS_URL or "([^"]+)"', text).group(1)
    assert Connection(url).hostname == "localhost" and url.startswith("filesystem://")


def test_make_run_gives_the_worker_time_for_its_warm_shutdown():
    """Issue 24: on Ctrl-C honcho killed the worker 5 s after SIGTERM ("sending SIGKILL to
    worker.1"); its warm shutdown took 6 to 8 s on a loaded machine. `make run` starts honcho
    through scripts/honcho_start.py, which waits 30 s."""
    import runpy

    import honcho.manager

    recipe = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/python scripts/honcho_start.py start -f Procfile" in recipe
    assert "/honcho start" not in recipe
    before = honcho.manager.KILL_WAIT
    try:
        runpy.run_path(str(ROOT / "scripts" / "honcho_start.py"), run_name="not_main")
        assert honcho.manager.KILL_WAIT >= 20
    finally:
        honcho.manager.KILL_WAIT = before
