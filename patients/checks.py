"""System checks of the domain's wiring (run by `manage.py check`, and at every start)."""

from django.core import checks

from patients import events


@checks.register()
def domain_events_have_receivers(app_configs=None, **kwargs):
    """Every domain event has a receiver (the engine's, alerts/apps.py): without one, a refill
    or a booking would leave the child's texts and concerns as they were."""
    return [
        checks.Error(
            f"The domain event {name} has no receiver.",
            hint="Install the engine app (alerts) after the domain apps; it connects them in ready().",
            id="itbportal.E001",
        )
        for name, signal in events.ALL.items()
        if not signal.has_listeners()
    ]
