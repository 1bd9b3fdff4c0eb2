"""Backups that restore (README "Backups"): a cluster of its own archives its WAL to an encrypted
pgBackRest repository with the deployment's configuration, takes a full backup, gets the portal's
tables (its migrations) and refill visits written through the portal's code; a point in time is
noted between two writes; a NEW cluster restored to that point holds exactly the visits written
before it. `make backup-drill` runs this test alone and prints how long the backup and the restore
took (the README's RTO).

The clock: PostgreSQL and pgBackRest run without libfaketime (CI runs the suite under it), and the
point in time is read from the cluster's own clock, so nothing here depends on the wall clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from itbportal import backups
from tests.deploy.pgcluster import ROOT, STANZA, Cluster, Workspace, as_postgres

pytestmark = pytest.mark.slow

WRITE_VISITS = """
import json
from datetime import timedelta
from django.utils import timezone
from pumps.models import Pump
from tests.factories import PatientFactory, PumpFactory, refill
pump = Pump.objects.filter(serial_number="DRILL-1").first() or PumpFactory(
    serial_number="DRILL-1", patient=PatientFactory(first_name="Drill"))
start = timezone.now() - timedelta(days=200) + timedelta(days=30 * pump.visits.count())
ids = [refill(pump, visit_at=start + timedelta(days=30 * i)).pk for i in range({count})]
print(json.dumps(ids))
"""


def _django(cluster: Cluster, *args: str) -> str:
    """manage.py against the throw-away cluster (pytest's own clock, like the suite)."""
    env = {**os.environ, "DATABASE_URL": cluster.url, "DEBUG": "false"}
    env.pop("DB_POOL_MAX_SIZE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


def _write_visits(cluster: Cluster, count: int) -> list[int]:
    return json.loads(_django(cluster, "shell", "-c", WRITE_VISITS.format(count=count)))


def _visit_ids(cluster: Cluster) -> list[int]:
    with cluster.connect() as conn:
        return [row[0] for row in conn.execute("SELECT id FROM pumps_refillvisit ORDER BY id")]


@pytest.fixture
def workspace():
    ws = Workspace()
    clusters: list[Cluster] = []
    ws.clusters = clusters
    try:
        yield ws
    finally:
        for cluster in clusters:
            cluster.stop()
        ws.cleanup()
        backups.clear_cache()


def test_a_restore_to_a_point_in_time_holds_exactly_the_visits_written_before_it(workspace, settings, capsys):
    ws = workspace
    primary = Cluster(ws, "primary")
    ws.clusters.append(primary)
    primary.initdb()
    ws.write_conf(primary)
    primary.archive_to_pgbackrest().start()
    with primary.connect("postgres") as conn:
        conn.execute("CREATE DATABASE itbportal")
    _django(primary, "migrate", "--noinput")

    # The backup service's schedule, one round: no backup yet, so a full one, and the info for /healthz.
    began = time.monotonic()
    ws.itb_backup(primary, "schedule")
    backup_seconds = time.monotonic() - began
    settings.BACKUP_INFO_FILE = str(ws.info_dir / "pgbackrest-info.json")
    backups.clear_cache()
    full = json.loads((ws.info_dir / "pgbackrest-info.json").read_text())[0]["backup"]
    assert [b["type"] for b in full] == ["full"]
    # A round soon after takes none (the full is a week from due, a differential a day).
    ws.itb_backup(primary, "schedule")
    assert len(json.loads(ws.pgbackrest("info", "--output=json"))[0]["backup"]) == 1
    # Once a differential is due (here at once), the round takes one, on top of the full.
    ws.itb_backup(primary, "schedule", BACKUP_DIFF_EVERY_HOURS="0")
    taken = json.loads((ws.info_dir / "pgbackrest-info.json").read_text())[0]["backup"]
    assert [b["type"] for b in taken] == ["full", "diff"] and taken[1]["reference"] == [full[0]["label"]]

    # Encrypted: the repository's files are not plain text, and a wrong passphrase reads nothing.
    assert b"[backup:current]" not in (ws.repo / "backup" / STANZA / "backup.info").read_bytes()
    # (bytes: with a wrong key pgBackRest's error quotes what it decrypted, which is noise)
    wrong = subprocess.run(
        ["pgbackrest", f"--config={ws.conf}", f"--stanza={STANZA}", "info", "--output=json"],
        env={**ws.env, "PGBACKREST_REPO1_CIPHER_PASS": "not-the-passphrase"},
        cwd=ws.dir,
        capture_output=True,
        **as_postgres(),
    )
    assert wrong.returncode != 0 or b'"message":"ok"' not in wrong.stdout, wrong.stdout[:500]

    before = _write_visits(primary, 3)
    # The point in time, on the cluster's clock, after the first visits committed.
    with primary.connect() as conn:
        target = conn.execute("SELECT clock_timestamp()").fetchone()[0]
        # Commit timestamps are microseconds apart at worst; leave a clear gap either side.
        conn.execute("SELECT pg_sleep(0.5)")
    after = _write_visits(primary, 2)
    assert set(before).isdisjoint(after) and len(_visit_ids(primary)) == 5
    # Every WAL segment up to now reaches the repository (pgBackRest switches and waits for it).
    ws.pgbackrest("check")

    # /healthz reads what the schedule wrote, judged a minute and two days after the differential.
    stop = taken[1]["timestamp"]["stop"]
    state = backups.backup_status(now=backups.from_epoch(stop + 60))
    assert state.ok and state.text.startswith(f"ok: last diff backup {taken[1]['label']}"), state.text
    assert f"last full {full[0]['label']}" in state.text
    assert backups.backup_status(now=backups.from_epoch(stop + 2 * 86400)).text.startswith("stale:")

    # Restore into a new, empty cluster, to that point, and let it recover and promote.
    restored = Cluster(ws, "restored")
    ws.clusters.append(restored)
    began = time.monotonic()
    ws.pgbackrest(
        f"--pg1-path={restored.data}",
        "restore",
        "--type=time",
        f"--target={target.isoformat(sep=' ')}",
        "--target-action=promote",
    )
    # Its own archive_command would push a new timeline into the same repository: not in a drill.
    restored.start("archive_mode=off")
    restored.wait_promoted()
    restore_seconds = time.monotonic() - began

    assert _visit_ids(restored) == sorted(before)
    with restored.connect() as conn:
        assert (
            conn.execute("SELECT count(*) FROM patients_patient WHERE first_name = 'Drill'").fetchone()[0]
            == 1
        )
    # The primary still holds all five: the restore touched only the new cluster.
    assert _visit_ids(primary) == sorted(before + after)

    # The README's drill: the latest state, restored into a scratch cluster and counted.
    drill = ws.itb_backup(primary, "drill")
    assert "refill visits: 5" in drill, drill

    with capsys.disabled():
        print(
            f"\nbackup drill: full backup {backup_seconds:.1f} s, restore to a point in time and "
            f"recovery {restore_seconds:.1f} s ({len(before)} of {len(before) + len(after)} visits back)"
        )
