"""Personas as fixtures: a nurse and two families in clinic A, a nurse in clinic B."""

import pytest
from django.db.backends.signals import connection_created

from tests.factories import (
    CaregiverLinkFactory,
    ClinicFactory,
    PatientFactory,
    PumpFactory,
    StaffFactory,
    refill,
)
from tests.helpers import login_as

ERASER_GRANT = """
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'itbportal_audit_eraser') THEN
        CREATE ROLE itbportal_audit_eraser NOLOGIN;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_auth_members m
        JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
        WHERE g.rolname = 'itbportal_audit_eraser' AND u.rolname = current_user
    ) THEN
        GRANT itbportal_audit_eraser TO CURRENT_USER;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation OR object_not_in_prerequisite_state THEN NULL;
END $$
"""


def _allow_flushing_the_audit_table(sender, connection, **kwargs):
    """Django's test flush truncates every table; the audit table refuses TRUNCATE unless the
    connection says so and its role is a member of itbportal_audit_eraser (patients migrations
    0008 and 0011). Only the test suite and the bench grant their own role that membership."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(ERASER_GRANT)
            cursor.execute("SET itbportal.audit_truncate_allowed = 'on'")


connection_created.connect(_allow_flushing_the_audit_table)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Argon2 is deliberately slow and tests create many users; test_sign_in checks Argon2 itself."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def outbox():
    """The texts the locmem SMS backend sent during the test."""
    from alerts.sms import locmem

    locmem.outbox.clear()
    yield locmem.outbox
    locmem.outbox.clear()


@pytest.fixture
def celery_eager(settings):
    """Run queued tasks at once, in this process (for tests of what a task does)."""
    from itbportal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def clinic(db):
    return ClinicFactory(name="Clinic A")


@pytest.fixture
def other_clinic(db):
    return ClinicFactory(name="Clinic B")


@pytest.fixture
def nurse(clinic):
    return StaffFactory(clinic=clinic).user


@pytest.fixture
def other_nurse(other_clinic):
    return StaffFactory(clinic=other_clinic).user


@pytest.fixture
def child(clinic):
    patient = PatientFactory(clinic=clinic, first_name="Sofia")
    pump = PumpFactory(patient=patient)
    refill(pump)
    return patient


@pytest.fixture
def parent(child):
    return CaregiverLinkFactory(patient=child).caregiver.user


@pytest.fixture
def other_child(clinic):
    patient = PatientFactory(clinic=clinic, first_name="Liam")
    refill(PumpFactory(patient=patient))
    return patient


@pytest.fixture
def other_parent(other_child):
    return CaregiverLinkFactory(patient=other_child).caregiver.user


@pytest.fixture
def child_in_other_clinic(other_clinic):
    patient = PatientFactory(clinic=other_clinic, first_name="Ava")
    refill(PumpFactory(patient=patient))
    return patient


@pytest.fixture
def nurse_client(client, nurse):
    return login_as(client, nurse)


@pytest.fixture
def parent_client(client, parent):
    return login_as(client, parent)
