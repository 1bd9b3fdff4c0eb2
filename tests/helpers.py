"""Test helpers shared by every test module.

Always sign test clients in through `login_as`: staff pages require a verified second factor, and
this is the one place that knows how to satisfy it.
"""

from django_otp.plugins.otp_totp.models import TOTPDevice

from patients.accounts.two_factor import two_factor_mandatory


def login_as(client, user, *, verified: bool | None = None):
    """Sign `client` in as `user`. Staff (and anyone when verified=True) also get a confirmed
    authenticator and a session that has passed the second step, as django_otp.login() would do."""
    client.force_login(user)
    if verified is None:
        verified = two_factor_mandatory(user)
    if verified:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Test authenticator", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def code_texted_to(number: str) -> str:
    """The last 6-digit code the locmem SMS backend texted to `number`."""
    import re

    from alerts.sms import locmem

    [*_, last] = [m for m in locmem.outbox if m.to == number]
    return re.search(r"\b(\d{6})\b", last.body).group(1)


def reseed_migrated_data() -> None:
    """Put back what the data migrations seeded (the clinic, its calendar, the staff roles) after
    tests on committed data flushed it, with the models as they are now: later migrations add
    columns that an old migration state would leave empty."""
    import importlib

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    state = MigrationLoader(connection).project_state()
    importlib.import_module("patients.migrations.0002_seed_clinic_and_roles").seed(state.apps, None)
    importlib.import_module("patients.migrations.0005_clinic_calendar_hours").forwards(state.apps, None)
    importlib.import_module("patients.migrations.0006_clinic_spanish_words").spanish_words(state.apps, None)
