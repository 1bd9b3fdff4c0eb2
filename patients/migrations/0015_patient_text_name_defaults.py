"""Every existing child gets a text name: the shortest initial form no sibling has (the children of
each parent linked to it), the older record first, so Liam keeps "L." and Lucas gets "Lu."."""

from django.db import migrations

from patients.text_names import default_text_name


def settle(apps, schema_editor):
    Patient = apps.get_model("patients", "Patient")
    CaregiverLink = apps.get_model("patients", "CaregiverLink")
    children_of: dict[int, set[int]] = {}
    parents_of: dict[int, set[int]] = {}
    for caregiver_id, patient_id in CaregiverLink.objects.filter(active=True).values_list(
        "caregiver_id", "patient_id"
    ):
        children_of.setdefault(caregiver_id, set()).add(patient_id)
        parents_of.setdefault(patient_id, set()).add(caregiver_id)
    names: dict[int, str] = {}
    for patient in Patient.objects.order_by("pk").only("pk", "first_name", "text_name"):
        siblings = {c for p in parents_of.get(patient.pk, ()) for c in children_of[p]} - {patient.pk}
        taken = {names[s] for s in siblings if s in names}
        if not patient.text_name or patient.text_name.casefold() in {t.casefold() for t in taken}:
            patient.text_name = default_text_name(patient.first_name, taken)
            patient.save(update_fields=["text_name"])
        names[patient.pk] = patient.text_name


class Migration(migrations.Migration):
    dependencies = [("patients", "0014_patient_text_name")]

    operations = [migrations.RunPython(settle, migrations.RunPython.noop)]
