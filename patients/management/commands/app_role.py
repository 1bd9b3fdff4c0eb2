"""Creates or updates the database role the app connects as (README "Database roles").

Run after `migrate`, as the role that ran the migrations (the compose file's migrate service: the
superuser). APP_DB_USER (itbportal_app) logs in with APP_DB_PASSWORD; it is no superuser, creates
no database or role, owns nothing, and may SELECT, INSERT, UPDATE and DELETE on the schema's tables
and use its sequences, today's and those later migrations create (default privileges of the
migrating role). It may not TRUNCATE, create or alter a table, or drop the audit log's triggers,
and it is never a member of itbportal_audit_eraser. Running it again changes nothing but the
password and any table that came since.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from psycopg import sql

ERASER = "itbportal_audit_eraser"


class Command(BaseCommand):
    help = "Create or update the app's database role (APP_DB_USER, APP_DB_PASSWORD) and its grants."

    def handle(self, *args, **options):
        name = os.environ.get("APP_DB_USER", "itbportal_app")
        password = os.environ.get("APP_DB_PASSWORD", "")
        if connection.vendor != "postgresql":
            raise CommandError("app_role is for PostgreSQL (the embedded SQLite has no roles)")
        if not password:
            raise CommandError("set APP_DB_PASSWORD (the app role's password)")
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, current_database()")
            migrator, database = cursor.fetchone()
            if name == migrator:
                raise CommandError(f"APP_DB_USER must not be the migrating role {migrator!r}")
            role, owner = sql.Identifier(name), sql.Identifier(migrator)
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
            verb = "ALTER" if cursor.fetchone() else "CREATE"
            statements = [
                sql.SQL(
                    verb + " ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE"
                    " NOREPLICATION NOBYPASSRLS"
                ).format(role, sql.Literal(password)),
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), role),
                sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(role),
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}").format(
                    role
                ),
                sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(role),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
                ).format(owner, role),
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA public "
                    "GRANT USAGE, SELECT ON SEQUENCES TO {}"
                ).format(owner, role),
            ]
            for statement in statements:
                cursor.execute(statement.as_string(connection.connection))
            cursor.execute(
                "SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = %s AND u.rolname = %s",
                [ERASER, name],
            )
            if cursor.fetchone():
                cursor.execute(
                    sql.SQL("REVOKE {} FROM {}")
                    .format(sql.Identifier(ERASER), role)
                    .as_string(connection.connection)
                )
        done = "created" if verb == "CREATE" else "updated"
        self.stdout.write(f"app role {name}: {done}; reads and writes the tables of {database}")
