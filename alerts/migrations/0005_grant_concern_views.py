from django.db import migrations


def grant_concern_views(apps, schema_editor):
    """Staff roles that could see escalations see concerns (the escalations are open concerns)."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("alerts")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    views = Permission.objects.filter(
        content_type__app_label="alerts", codename__in=["view_concern", "change_concern"]
    )
    for group in Group.objects.filter(name__in=["Nurse", "Physician", "Clinic admin"]):
        group.permissions.add(*[p for p in views if p.codename == "view_concern" or group.name == "Nurse"])


class Migration(migrations.Migration):
    dependencies = [
        ("alerts", "0004_concerns_replace_escalations"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(grant_concern_views, migrations.RunPython.noop)]
