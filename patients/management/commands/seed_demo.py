"""Build the demo clinic (idempotent) and print the logins."""

from django.core.management.base import BaseCommand

from patients import demo


class Command(BaseCommand):
    help = "Create demo nurses, parents and twenty children in varied states, once. Prints the logins."

    def handle(self, *args, **options):
        created = demo.seed()
        self.stdout.write("Demo data created." if created else "Demo data already present; nothing changed.")
        self.stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD})")
        for role, email, _password in demo.logins():
            self.stdout.write(f"  {role:7} {email}")
        self.stdout.write(
            "Nurses also pass a second step: the authenticator key is JBSWY3DPEHPK3PXP; "
            "`make demo-code` prints the current 6-digit code."
        )
