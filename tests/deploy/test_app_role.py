"""The app's database role (patients/management/commands/app_role.py, the compose file's migrate
service): reads and writes the tables, and nothing more; the audit log stays out of its reach."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def app_role(monkeypatch):
    # Roles are the whole server's: a name of this run's own, dropped afterwards.
    name = f"itbportal_app_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("APP_DB_USER", name)
    monkeypatch.setenv("APP_DB_PASSWORD", "app-secret")
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP OWNED BY "{name}"')
        cursor.execute(f'DROP ROLE IF EXISTS "{name}"')


def _connect_as(name: str) -> psycopg.Connection:
    params = connection.get_connection_params()
    return psycopg.connect(
        host=params.get("host") or "127.0.0.1",
        port=params.get("port") or 5432,
        dbname=params["dbname"],
        user=name,
        password="app-secret",
        autocommit=True,
    )


def test_the_app_role_reads_and_writes_the_tables_but_owns_and_truncates_nothing(app_role):
    call_command("app_role")
    call_command("app_role")  # again: the same role, nothing breaks
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = %s",
            [app_role],
        )
        assert cursor.fetchone() == (False, False, False, True)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = %s", [app_role])
        assert cursor.fetchone()[0] == 0
    with _connect_as(app_role) as conn:
        conn.execute("INSERT INTO django_content_type (app_label, model) VALUES ('roletest', 'x')")
        row = conn.execute("SELECT id FROM django_content_type WHERE app_label = 'roletest'").fetchone()
        conn.execute("UPDATE django_content_type SET model = 'y' WHERE id = %s", [row[0]])
        conn.execute("DELETE FROM django_content_type WHERE id = %s", [row[0]])
        conn.execute("SELECT count(*) FROM patients_auditevent")
        for refused in (
            "TRUNCATE patients_auditevent",
            "CREATE TABLE role_test (id int)",
            "ALTER TABLE patients_auditevent DISABLE TRIGGER ALL",
            "SET ROLE itbportal_audit_eraser",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(refused)


def test_a_table_a_later_migration_creates_is_the_app_s_to_write_too(app_role):
    call_command("app_role")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE role_later (id serial PRIMARY KEY, note text)")
    try:
        with _connect_as(app_role) as conn:
            conn.execute("INSERT INTO role_later (note) VALUES ('x')")
            assert conn.execute("SELECT note FROM role_later").fetchone() == ("x",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE role_later")


def test_the_app_role_needs_a_password(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setenv("APP_DB_USER", "itbportal_app_never")
    monkeypatch.delenv("APP_DB_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="APP_DB_PASSWORD"):
        call_command("app_role")
    assert os.environ.get("APP_DB_PASSWORD") is None
