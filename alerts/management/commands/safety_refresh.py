"""Assess every active child now and store the result (the daily safety net's work, on demand).

Run after a deploy or a restore (the web container's start runs it after `migrate`), so that the
worklist, the family cards and the escalations read a current assessment at once instead of
after the beat's first check; and by hand after changing a clinic's rules."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from alerts.concerns import concerns_refresh_all


class Command(BaseCommand):
    help = "Assess every active child now (concerns, worklist rows) and re-plan the texts that changed."

    def handle(self, *args, **options) -> None:
        count = concerns_refresh_all()
        self.stdout.write(f"Assessed {count} active child(ren).")
