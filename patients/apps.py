from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "patients"

    def ready(self) -> None:
        from patients import (
            checks,  # noqa: F401  (registers the domain's system checks)
            page_context,  # noqa: F401  (the writes that make a page context stale)
        )
