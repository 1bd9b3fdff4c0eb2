from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in, two-step sign-in, lockout, password reset, invitations and the security
    middleware: a surface with no models of its own (the users are patients.User)."""

    name = "patients.accounts"
    label = "accounts"

    def ready(self) -> None:
        from patients.accounts import security_signals  # noqa: F401  (sign-in audit and session bookkeeping)
