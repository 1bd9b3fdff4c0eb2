"""Build the demo clinic (idempotent) and print the logins."""

from django.core.management.base import BaseCommand

from patients.demo import seed as demo


def write_logins(stdout, url: str | None = None) -> None:
    """The demo logins, each parent with what their home page shows (also printed by demo_ready)."""
    if url:
        stdout.write(f"\nITB Portal is up: open {url}")
    stdout.write(f"\nDemo logins (password for all: {demo.DEMO_PASSWORD})")
    notes = demo.login_notes()
    for role, email, _password in demo.logins():
        note = notes.get(email, "")
        stdout.write(f"  {role:7} {email:36} {note}".rstrip())
    stdout.write(
        "Nurses also pass a second step: the authenticator key is JBSWY3DPEHPK3PXP; "
        "`make demo-code` prints the current 6-digit code."
    )


class Command(BaseCommand):
    help = "Create demo nurses, parents and twenty children in varied states, once. Prints the logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-summaries", action="store_true", help="do not render the after-visit PDFs (faster tests)"
        )

    def handle(self, *args, no_summaries: bool = False, **options):
        created = demo.seed(summaries=not no_summaries)
        if created:
            self.stdout.write(
                "Demo data created: every child's texts planned, the first one due now (the worker's "
                "console shows it within a minute)"
                + ("." if no_summaries else ", and each child's latest after-visit summary stored.")
            )
        else:
            self.stdout.write("Demo data already present; nothing changed.")
        write_logins(self.stdout)
