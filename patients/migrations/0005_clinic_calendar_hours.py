"""Data: the handout's clinic is open Monday to Friday, 08:00-17:00 ("regular business hours");
clinic admins keep the calendar (hours and closed dates), every staff role can read it."""

from datetime import time

from django.db import migrations

HANDOUT_CLINIC = "Primary Children's Hospital, Rehabilitation Clinic"
PERMISSIONS = {
    "Clinic admin": [
        "view_clinic",
        "change_clinic",
        "view_closeddate",
        "add_closeddate",
        "change_closeddate",
        "delete_closeddate",
    ],
    "Nurse": ["view_clinic", "view_closeddate"],
    "Physician": ["view_clinic", "view_closeddate"],
}


def forwards(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config("patients")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Clinic = apps.get_model("patients", "Clinic")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Clinic.objects.filter(name=HANDOUT_CLINIC).update(
        open_weekdays=[0, 1, 2, 3, 4], opens_at=time(8), closes_at=time(17)
    )
    for role, codenames in PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for codename in codenames:
            group.permissions.add(
                Permission.objects.get(content_type__app_label="patients", codename=codename)
            )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in PERMISSIONS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="patients", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [("patients", "0004_clinic_calendar")]

    operations = [migrations.RunPython(forwards, backwards)]
