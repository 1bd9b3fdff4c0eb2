"""Print the demo nurses' current second-step code (development only)."""

from django.core.management.base import BaseCommand

from patients.demo import seed as demo


class Command(BaseCommand):
    help = "Print the current authenticator code of the demo nurses."

    def handle(self, *args, **options):
        self.stdout.write(demo.current_code())
