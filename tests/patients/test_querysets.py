import pytest
from django.contrib.auth.models import AnonymousUser

from patients.models import Patient
from pumps.models import Pump
from tests.factories import CaregiverLinkFactory, PatientFactory, PumpFactory, refill

pytestmark = pytest.mark.django_db


def test_a_parent_sees_only_linked_children(parent, child, other_child, child_in_other_clinic):
    assert list(Patient.objects.visible_to(parent)) == [child]


def test_a_nurse_sees_only_her_clinics_children(nurse, child, other_child, child_in_other_clinic):
    assert set(Patient.objects.visible_to(nurse)) == {child, other_child}


def test_anonymous_and_inactive_users_see_nobody(parent, child):
    assert not Patient.objects.visible_to(AnonymousUser()).exists()
    parent.is_active = False
    parent.save()
    assert not Patient.objects.visible_to(parent).exists()


def test_a_deactivated_link_hides_the_child(parent, child):
    parent.caregiver.links.update(active=False)
    assert not Patient.objects.visible_to(parent).exists()


def test_a_child_with_two_caregivers_is_listed_once_for_each(child, parent):
    second = CaregiverLinkFactory(patient=child).caregiver.user
    assert list(Patient.objects.visible_to(parent)) == [child]
    assert list(Patient.objects.visible_to(second)) == [child]


def test_current_program_and_latest_visit_cost_constant_queries(clinic, django_assert_num_queries):
    for _ in range(5):
        pump = PumpFactory(patient=PatientFactory(clinic=clinic))
        refill(pump)
        refill(pump)  # a newer visit and program
    with django_assert_num_queries(3):
        pumps = list(Pump.objects.active().with_current())
        rows = [(p.current_program, p.latest_visit) for p in pumps]
    assert len(rows) == 5
    for pump, (program, visit) in zip(pumps, rows, strict=True):
        assert program == pump.programs.order_by("-effective_from", "-pk").first()
        assert visit == pump.visits.order_by("-visit_at", "-pk").first()
