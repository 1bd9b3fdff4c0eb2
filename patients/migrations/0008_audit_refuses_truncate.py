"""The audit table refuses TRUNCATE too (a statement trigger: TRUNCATE fires no row triggers).

Django's test flush truncates every table; the test suite alone sets
`itbportal.audit_truncate_allowed = 'on'` on its connections (tests/conftest.py). Nothing in the
application sets it.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION patients_auditevent_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('itbportal.audit_truncate_allowed', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'patients_auditevent is append-only (TRUNCATE refused)';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS patients_auditevent_no_truncate ON patients_auditevent;
CREATE TRIGGER patients_auditevent_no_truncate
    BEFORE TRUNCATE ON patients_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION patients_auditevent_no_truncate();
"""

DROP = """
DROP TRIGGER IF EXISTS patients_auditevent_no_truncate ON patients_auditevent;
DROP FUNCTION IF EXISTS patients_auditevent_no_truncate();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("patients", "0007_mobile_proofs_link_invitations_sender")]

    operations = [migrations.RunPython(forwards, backwards)]
