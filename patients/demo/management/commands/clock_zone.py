"""`make run`'s clock: print the clinic's time zone (settings.TIME_ZONE), so honcho stamps its
lines in the same time as Django's and Celery's."""

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the time zone the portal's logs use (TIME_ZONE)."

    def handle(self, *args, **options):
        self.stdout.write(settings.TIME_ZONE)
