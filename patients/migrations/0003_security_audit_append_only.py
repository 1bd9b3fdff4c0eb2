"""The audit table refuses UPDATE and DELETE at the database (PostgreSQL), whatever the code does.

One update is allowed: deleting a user account sets actor_id to NULL (ON DELETE SET NULL in Django)
while every other column, including actor_label, stays as written.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION patients_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND (NEW.id, NEW.actor_label, NEW.action, NEW.object_type, NEW.object_id, NEW.patient_id,
            NEW.at, NEW.ip_address, NEW.outcome)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.actor_label, OLD.action, OLD.object_type, OLD.object_id, OLD.patient_id,
            OLD.at, OLD.ip_address, OLD.outcome) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'patients_auditevent is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS patients_auditevent_append_only ON patients_auditevent;
CREATE TRIGGER patients_auditevent_append_only
    BEFORE UPDATE OR DELETE ON patients_auditevent
    FOR EACH ROW EXECUTE FUNCTION patients_auditevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS patients_auditevent_append_only ON patients_auditevent;
DROP FUNCTION IF EXISTS patients_auditevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("patients", "0002_seed_clinic_and_roles")]

    operations = [migrations.RunPython(forwards, backwards)]
