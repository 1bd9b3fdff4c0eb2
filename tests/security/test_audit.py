"""The audit trail: append-only (in code and in PostgreSQL), no health data, searchable per child
by the clinic admin, scoped to their clinic."""

import pytest
from django.contrib.auth.models import Permission
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from patients.audit import ACTIONS, audit_record
from patients.models import AuditEvent, AuditEventImmutable, StaffProfile
from tests.factories import StaffFactory, UserFactory
from tests.helpers import login_as


def _event(**fields):
    return audit_record(action="chart.viewed", **fields)


def test_a_row_records_actor_object_child_time_and_outcome(world, rf):
    request = rf.get("/", REMOTE_ADDR="192.0.2.44")
    request.user = world.nurse_a
    event = audit_record(request=request, action="chart.viewed", obj=world.child_a)
    assert (event.actor, event.actor_label) == (world.nurse_a, world.nurse_a.email)
    assert (event.object_type, event.object_id, event.patient_id) == (
        "patients.patient",
        str(world.child_a.pk),
        world.child_a.pk,
    )
    assert event.ip_address == "192.0.2.44" and event.outcome == "ok"
    assert event.at.utcoffset().total_seconds() == 0


def test_an_object_with_a_patient_gives_the_child_id(world):
    event = audit_record(actor=world.nurse_a, action="dose.changed", obj=world.visit_a)
    assert event.patient_id == world.child_a.pk and event.object_type == "pumps.refillvisit"


def test_no_health_data_columns_in_the_row():
    names = {f.name for f in AuditEvent._meta.get_fields()}
    assert names == {
        "id",
        "actor",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "patient_id",
        "at",
        "ip_address",
        "outcome",
    }


def test_the_action_names_are_listed_for_the_other_parts():
    for name in (
        "chart.viewed",
        "document.downloaded",
        "dose.changed",
        "appointment.changed",
        "access.refused",
    ):
        assert name in ACTIONS


def test_the_application_cannot_change_or_delete_a_row(world):
    event = _event(actor=world.nurse_a)
    event.outcome = "refused"
    with pytest.raises(AuditEventImmutable):
        event.save()
    with pytest.raises(AuditEventImmutable):
        event.delete()


def test_the_database_refuses_update_and_delete_that_bypass_the_model(world):
    event = _event(actor=world.nurse_a)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(outcome="refused")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).outcome == "ok"


def test_the_database_refuses_truncate(world):
    from django.db import connection

    event = _event(actor=world.nurse_a)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL itbportal.audit_truncate_allowed = 'off'")  # as in production
        cursor.execute("TRUNCATE patients_auditevent CASCADE")
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("family:child", "child_page.viewed"),
        ("documents:card", "emergency_card.viewed"),
        ("documents:list", "summaries.listed"),
    ],
)
def test_every_read_of_a_childs_health_data_is_audited_for_parents_too(world, name, action):
    kwargs = {"pk": world.child_a.pk} if name == "family:child" else {"patient_pk": world.child_a.pk}
    for user in (world.parent_a, world.nurse_a):
        response = login_as(Client(), user).get(reverse(name, kwargs=kwargs))
        if user is world.nurse_a and name == "family:child":
            continue  # a parents' page: staff get 403
        assert response.status_code == 200
        event = AuditEvent.objects.filter(action=action, actor=user).get()
        assert event.patient_id == world.child_a.pk and event.outcome == "ok"


def test_deleting_a_user_keeps_their_rows_with_the_label(db):
    user = UserFactory()
    event = _event(actor=user)
    user.delete()
    kept = AuditEvent.objects.get(pk=event.pk)
    assert kept.actor is None and kept.actor_label == user.email


def test_a_refused_child_url_is_recorded(world):
    client = login_as(Client(), world.parent_a)
    assert client.get(reverse("audit:search")).status_code == 403
    refused = AuditEvent.objects.get(action="access.refused")
    assert refused.actor == world.parent_a and refused.outcome == "refused"
    assert refused.object_type == "url:audit:search"


def _clinic_admin(clinic):
    return StaffFactory(clinic=clinic, role=StaffProfile.Role.CLINIC_ADMIN).user


def test_the_clinic_admin_finds_a_childs_events(world):
    _event(actor=world.nurse_a, obj=world.child_a)
    _event(actor=world.nurse_a, obj=world.other_child)
    client = login_as(Client(), _clinic_admin(world.child_a.clinic))
    found = client.get(reverse("audit:search"), {"q": "Quillfeather"})
    assert f"?patient={world.child_a.pk}" in found.content.decode()
    page = client.get(reverse("audit:search"), {"patient": world.child_a.pk})
    assert page.status_code == 200
    assert list(page.context["events"]) == list(
        AuditEvent.objects.filter(patient_id=world.child_a.pk, action="chart.viewed")
    )


def test_the_clinic_admin_cannot_see_another_clinics_child(world):
    client = login_as(Client(), _clinic_admin(world.child_a.clinic))
    assert client.get(reverse("audit:search"), {"patient": world.child_in_other_clinic.pk}).status_code == 404
    found = client.get(reverse("audit:search"), {"q": world.child_in_other_clinic.first_name})
    assert f"?patient={world.child_in_other_clinic.pk}" not in found.content.decode()


def test_a_nurse_needs_the_permission_to_search(world):
    client = login_as(Client(), world.nurse_a)
    assert client.get(reverse("audit:search")).status_code == 403
    world.nurse_a.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client = login_as(Client(), type(world.nurse_a).objects.get(pk=world.nurse_a.pk))
    assert client.get(reverse("audit:search"), {"patient": world.child_a.pk}).status_code == 200
