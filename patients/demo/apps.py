from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic of `make run`: its people, history and the commands that seed it."""

    name = "patients.demo"
    label = "demo"
