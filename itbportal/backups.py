"""The age of the last good backup, for /healthz (README "Backups").

pgBackRest keeps the backups; its `info --output=json` says which exist. The compose file's backup
service writes that JSON to a file on a shared volume after each check (BACKUP_INFO_FILE), so the
web process needs neither the repository nor its passphrase; elsewhere BACKUP_INFO_COMMAND runs
pgBackRest itself (at most BACKUP_INFO_TIMEOUT seconds). Either is read at most once every
BACKUP_INFO_CACHE_SECONDS (a failed read, every 10 s). With neither set (development, the tests)
the check says "not configured" and passes. The last good backup older than
BACKUP_STALE_AFTER_HOURS (26: a daily backup and two hours' slack) fails the check, as does no good
backup at all or a repository pgBackRest reports in error. Nothing here raises: every failure
becomes the check's text.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.utils import timezone

NOT_CONFIGURED = "not configured"
FAILED_READ_CACHE_SECONDS = 10.0


@dataclass(frozen=True)
class BackupState:
    ok: bool
    text: str


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def assess(info, *, now: datetime, stale_after: timedelta | None = None) -> BackupState:
    """What pgBackRest's info (the parsed JSON) says of the last good backup at `now`."""
    if stale_after is None:
        stale_after = timedelta(hours=settings.BACKUP_STALE_AFTER_HOURS)
    if not isinstance(info, list) or not info or not isinstance(info[0], dict):
        return BackupState(False, "error: pgBackRest's info names no stanza")
    stanza = info[0]
    status = stanza.get("status") or {}
    backups = [b for b in stanza.get("backup") or [] if isinstance(b, dict) and not b.get("error")]
    good = [b for b in backups if isinstance((b.get("timestamp") or {}).get("stop"), int | float)]
    if not good:
        return BackupState(False, f"no good backup yet (pgBackRest: {status.get('message', '?')})")
    if status.get("code", 0) != 0:
        return BackupState(False, f"error: pgBackRest says {status.get('message', '?')!r}")
    last = max(good, key=lambda b: b["timestamp"]["stop"])
    finished = from_epoch(last["timestamp"]["stop"])
    age = now - finished
    fulls = [b for b in good if b.get("type") == "full"]
    full_note = ""
    if fulls:
        full = max(fulls, key=lambda b: b["timestamp"]["stop"])
        full_note = (
            f"; last full {full.get('label', '?')} {_hours(now - from_epoch(full['timestamp']['stop']))} ago"
        )
    described = (
        f"last {last.get('type', '?')} backup {last.get('label', '?')} finished {finished.isoformat()}"
    )
    if age > stale_after:
        return BackupState(False, f"stale: {described}, {_hours(age)} ago (more than {_hours(stale_after)})")
    return BackupState(True, f"ok: {described}, {_hours(age)} ago{full_note}")


_cache_lock = threading.Lock()
_cache: dict = {}


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _read_info() -> tuple[object | None, str]:
    """(parsed info, "") or (None, why not)."""
    path, command = settings.BACKUP_INFO_FILE, settings.BACKUP_INFO_COMMAND
    try:
        if path:
            try:
                raw = Path(path).read_text()
            except FileNotFoundError:
                return None, "no backup information yet (the backup service has not written it)"
        else:
            done = subprocess.run(
                shlex.split(command),
                capture_output=True,
                text=True,
                timeout=settings.BACKUP_INFO_TIMEOUT,
                stdin=subprocess.DEVNULL,
            )
            if done.returncode != 0:
                return None, f"error: pgBackRest info failed (exit {done.returncode})"
            raw = done.stdout
        return json.loads(raw), ""
    except subprocess.TimeoutExpired:
        return None, f"error: pgBackRest info took more than {settings.BACKUP_INFO_TIMEOUT} s"
    except (OSError, ValueError) as exc:
        return None, f"error: pgBackRest info unreadable ({exc.__class__.__name__})"


def _ttl(info) -> float:
    """How long an answer is kept: a failed read only briefly, so a first backup shows at once."""
    if info is None:
        return min(settings.BACKUP_INFO_CACHE_SECONDS, FAILED_READ_CACHE_SECONDS)
    return settings.BACKUP_INFO_CACHE_SECONDS


def backup_status(*, now: datetime | None = None) -> BackupState:
    """The check /healthz shows (cached info, judged at `now`)."""
    if not settings.BACKUP_INFO_FILE and not settings.BACKUP_INFO_COMMAND:
        return BackupState(True, NOT_CONFIGURED)
    key = (settings.BACKUP_INFO_FILE, settings.BACKUP_INFO_COMMAND)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is None or time.monotonic() - cached[0] > _ttl(cached[1]):
            cached = (time.monotonic(), *_read_info())
            _cache.clear()
            _cache[key] = cached
    _, info, why = cached
    if info is None:
        return BackupState(False, why)
    return assess(info, now=now or timezone.now())
