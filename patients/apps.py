from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self) -> None:
        from patients import security_signals  # noqa: F401  (sign-in audit and session bookkeeping)
