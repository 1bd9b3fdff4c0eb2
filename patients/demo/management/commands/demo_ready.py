"""`make run`'s fourth process: once web, worker and beat are up, print the URL and the logins
again (the first print scrolls away under the Celery banners), then stay (honcho stops every
process when one ends)."""

from __future__ import annotations

import signal
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from patients.demo.management.commands.seed_demo import write_logins

POLL_SECONDS = 1.0


def web_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "accounts/login/", timeout=2) as response:  # noqa: S310 - our own URL
            return response.status == 200
    except OSError:
        return False


def worker_up(since) -> bool:
    """The worker answers at start with a sweep, which records the sweep's heartbeat."""
    from alerts.models import Heartbeat

    return Heartbeat.objects.filter(name="sweep", last_run_at__gte=since).exists()


def beat_up(since_epoch: float) -> bool:
    """Beat writes its schedule file when it starts."""
    files = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent.glob(
        Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).name + "*"
    )
    return any(f.stat().st_mtime >= since_epoch - 1 for f in files)


class Command(BaseCommand):
    help = "Wait until web, worker and beat are up, print the URL and the demo logins, then wait."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=settings.PUBLIC_BASE_URL.rstrip("/") + "/")
        parser.add_argument("--timeout", type=float, default=300.0)
        parser.add_argument("--exit", action="store_true", help="exit after printing (tests)")

    def handle(self, *args, url: str, timeout: float, exit: bool, **options):
        since, since_epoch = timezone.now(), time.time()
        waiting = {
            "web": lambda: web_up(url),
            "worker": lambda: worker_up(since),
            "beat": lambda: beat_up(since_epoch),
        }
        deadline = time.monotonic() + timeout
        while waiting and time.monotonic() < deadline:
            waiting = {name: check for name, check in waiting.items() if not check()}
            if waiting:
                time.sleep(POLL_SECONDS)
        if waiting:
            self.stdout.write(f"Still waiting for: {', '.join(waiting)} (see the lines above).")
        else:
            write_logins(self.stdout, url=url)
            self.stdout.write("Web, worker and beat are up. Ctrl-C stops all of them.")
        self.stdout.flush()
        if not exit:
            signal.pause()
