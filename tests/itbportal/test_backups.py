"""The age of the last good backup on /healthz (itbportal/backups.py), judged on pgBackRest's own
words: data/pgbackrest-info.json is the `pgbackrest info --output=json` of a real repository (the
deployment's configuration, tests/deploy/pgcluster.py) holding a full and a differential backup;
data/pgbackrest-info-no-backup.json the same just after `stanza-create`."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine

from alerts.models import Heartbeat
from itbportal import backups

DATA = Path(__file__).parent / "data"
INFO = json.loads((DATA / "pgbackrest-info.json").read_text())
NO_BACKUP = json.loads((DATA / "pgbackrest-info-no-backup.json").read_text())
FULL, DIFF = INFO[0]["backup"]
DIFF_STOP = backups.from_epoch(DIFF["timestamp"]["stop"])
FULL_STOP = backups.from_epoch(FULL["timestamp"]["stop"])
STALE = timedelta(hours=26)


@pytest.fixture(autouse=True)
def fresh_cache():
    backups.clear_cache()
    yield
    backups.clear_cache()


def test_the_recorded_repository_holds_a_full_and_a_differential_backup():
    assert (FULL["type"], DIFF["type"]) == ("full", "diff")
    assert DIFF["reference"] == [FULL["label"]] and INFO[0]["cipher"] == "aes-256-cbc"


def test_a_differential_an_hour_old_is_ok_and_the_text_names_it_and_the_last_full():
    now = DIFF_STOP + timedelta(hours=1)
    state = backups.assess(INFO, now=now, stale_after=STALE)
    full_hours = (now - FULL_STOP).total_seconds() / 3600
    assert state.ok
    assert state.text == (
        f"ok: last diff backup {DIFF['label']} finished {DIFF_STOP.isoformat()}, 1.0 h ago; "
        f"last full {FULL['label']} {full_hours:.1f} h ago"
    )


@pytest.mark.parametrize(
    ("age", "ok"),
    [
        (timedelta(0), True),
        (STALE - timedelta(seconds=1), True),
        (STALE, True),
        (STALE + timedelta(seconds=1), False),
    ],
)
def test_the_last_good_backup_is_stale_only_past_the_threshold(age, ok):
    state = backups.assess(INFO, now=DIFF_STOP + age, stale_after=STALE)
    assert state.ok is ok
    assert state.text.startswith("ok: " if ok else "stale: last diff backup")


def test_the_threshold_is_26_hours_by_default(settings):
    assert settings.BACKUP_STALE_AFTER_HOURS == 26
    assert backups.assess(INFO, now=DIFF_STOP + timedelta(hours=25, minutes=59)).ok
    assert not backups.assess(INFO, now=DIFF_STOP + timedelta(hours=26, minutes=1)).ok


def test_a_backup_pgbackrest_marks_in_error_does_not_count():
    info = copy.deepcopy(INFO)
    info[0]["backup"][1]["error"] = True
    state = backups.assess(info, now=DIFF_STOP + timedelta(hours=1), stale_after=STALE)
    assert state.text.startswith(f"ok: last full backup {FULL['label']}")
    stale = backups.assess(info, now=FULL_STOP + STALE + timedelta(minutes=1), stale_after=STALE)
    assert not stale.ok and "full" in stale.text


def test_no_backup_yet_fails_in_pgbackrest_s_words():
    state = backups.assess(NO_BACKUP, now=DIFF_STOP, stale_after=STALE)
    assert state == backups.BackupState(False, "no good backup yet (pgBackRest: no valid backups)")


def test_a_repository_in_error_fails_even_with_a_fresh_backup():
    info = copy.deepcopy(INFO)
    info[0]["status"] = {"code": 99, "message": "other"}
    state = backups.assess(info, now=DIFF_STOP, stale_after=STALE)
    assert state == backups.BackupState(False, "error: pgBackRest says 'other'")


@pytest.mark.parametrize("info", [{}, [], [None], [{"backup": [{"timestamp": {}}]}], "text"])
def test_anything_else_is_a_failing_check_not_an_exception(info):
    assert not backups.assess(info, now=DIFF_STOP, stale_after=STALE).ok


def test_not_configured_says_so_and_passes(settings):
    settings.BACKUP_INFO_FILE = settings.BACKUP_INFO_COMMAND = ""
    assert backups.backup_status(now=DIFF_STOP) == backups.BackupState(True, "not configured")


def test_the_file_the_backup_service_writes(settings, tmp_path):
    path = tmp_path / "pgbackrest-info.json"
    settings.BACKUP_INFO_FILE = str(path)
    assert backups.backup_status(now=DIFF_STOP).text.startswith("no backup information yet")
    backups.clear_cache()
    path.write_text("{not json")
    assert backups.backup_status(now=DIFF_STOP).text == "error: pgBackRest info unreadable (JSONDecodeError)"
    backups.clear_cache()
    path.write_text(json.dumps(INFO))
    assert backups.backup_status(now=DIFF_STOP).ok


def test_the_info_is_read_once_per_cache_period(settings, tmp_path):
    path = tmp_path / "pgbackrest-info.json"
    path.write_text(json.dumps(INFO))
    settings.BACKUP_INFO_FILE = str(path)
    assert backups.backup_status(now=DIFF_STOP).ok
    path.write_text(json.dumps(NO_BACKUP))
    assert backups.backup_status(now=DIFF_STOP).ok  # cached
    settings.BACKUP_INFO_CACHE_SECONDS = 0
    assert not backups.backup_status(now=DIFF_STOP).ok


def test_the_command_is_run_with_a_time_limit(settings, tmp_path):
    path = tmp_path / "info.json"
    path.write_text(json.dumps(INFO))
    settings.BACKUP_INFO_COMMAND = f"cat {path}"
    assert backups.backup_status(now=DIFF_STOP).ok
    backups.clear_cache()
    settings.BACKUP_INFO_COMMAND = "false"
    assert backups.backup_status(now=DIFF_STOP).text == "error: pgBackRest info failed (exit 1)"
    backups.clear_cache()
    settings.BACKUP_INFO_COMMAND, settings.BACKUP_INFO_TIMEOUT = "sleep 5", 0.2
    assert backups.backup_status(now=DIFF_STOP).text == "error: pgBackRest info took more than 0.2 s"
    backups.clear_cache()
    settings.BACKUP_INFO_COMMAND = "/nonexistent/pgbackrest info"
    assert (
        backups.backup_status(now=DIFF_STOP).text == "error: pgBackRest info unreadable (FileNotFoundError)"
    )


@pytest.mark.django_db
def test_healthz_fails_on_a_stale_backup_and_passes_on_a_fresh_one(client, settings, tmp_path):
    path = tmp_path / "pgbackrest-info.json"
    path.write_text(json.dumps(INFO))
    settings.BACKUP_INFO_FILE = str(path)
    with time_machine.travel(DIFF_STOP + timedelta(hours=2), tick=False):
        Heartbeat.objects.create(name="sweep", last_run_at=DIFF_STOP + timedelta(hours=2))
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
        assert response.json()["checks"]["backup"].startswith(f"ok: last diff backup {DIFF['label']}")
    with time_machine.travel(DIFF_STOP + timedelta(hours=30), tick=False):
        Heartbeat.objects.filter(name="sweep").update(last_run_at=DIFF_STOP + timedelta(hours=30))
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["backup"].startswith("stale: last diff backup")


def test_a_failed_read_is_kept_only_briefly_so_the_first_backup_shows_at_once(
    settings, tmp_path, monkeypatch
):
    clock = [1000.0]
    monkeypatch.setattr(backups.time, "monotonic", lambda: clock[0])
    path = tmp_path / "pgbackrest-info.json"
    settings.BACKUP_INFO_FILE = str(path)
    assert backups.backup_status(now=DIFF_STOP).text.startswith("no backup information yet")
    path.write_text(json.dumps(INFO))
    clock[0] += backups.FAILED_READ_CACHE_SECONDS - 1
    assert not backups.backup_status(now=DIFF_STOP).ok
    clock[0] += 2
    assert backups.backup_status(now=DIFF_STOP).ok
    path.write_text(json.dumps(NO_BACKUP))
    clock[0] += settings.BACKUP_INFO_CACHE_SECONDS - 1
    assert backups.backup_status(now=DIFF_STOP).ok  # a good answer is kept the whole period
