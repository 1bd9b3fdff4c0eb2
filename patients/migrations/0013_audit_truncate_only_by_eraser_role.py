"""Only the bench's and the test suite's database role may empty the audit table.

Before, any session could `SET itbportal.audit_truncate_allowed = 'on'` and TRUNCATE the audit log.
Now the trigger also asks that the role running the TRUNCATE be the NOLOGIN group role
`itbportal_audit_eraser` or a direct member of it (a superuser is not, unless granted). The role
the app runs as is never granted it; `make bench` (tests/benchmarks/data.py) and the test suite
(tests/conftest.py) grant it to their own role on their throwaway databases. See README, "The audit
log".
"""

from django.db import migrations

ROLE = "itbportal_audit_eraser"

CREATE_ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}') THEN
        BEGIN
            CREATE ROLE {ROLE} NOLOGIN;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'cannot create role {ROLE}: nobody may empty the audit table';
        END;
    END IF;
END;
$$;
"""

FUNCTION = f"""
CREATE OR REPLACE FUNCTION patients_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('itbportal.audit_truncate_allowed', true) = 'on' AND (
        current_user = '{ROLE}'
        OR EXISTS (
            SELECT 1 FROM pg_auth_members m
            JOIN pg_roles g ON g.oid = m.roleid
            JOIN pg_roles u ON u.oid = m.member
            WHERE g.rolname = '{ROLE}' AND u.rolname = current_user
        )
    ) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'patients_auditevent is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;
"""

BEFORE = """
CREATE OR REPLACE FUNCTION patients_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('itbportal.audit_truncate_allowed', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'patients_auditevent is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_ROLE, params=None)
        schema_editor.execute(FUNCTION, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BEFORE, params=None)


class Migration(migrations.Migration):
    dependencies = [("patients", "0012_link_invitation_by_email")]

    operations = [migrations.RunPython(forwards, backwards)]
