"""`manage.py safety_refresh`: after a deploy, every active child has a stored assessment at once."""

from __future__ import annotations

from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from alerts.models import ChildSafety, Concern
from tests.alerts.conftest import at, make_child

pytestmark = pytest.mark.django_db


def test_the_command_assesses_every_active_child_that_has_no_stored_state(clinic):
    children = [make_child(clinic, first_name=f"K{i}", visit_at=at(2026, 8, 1, 9)) for i in range(3)]
    ChildSafety.objects.all().delete()
    Concern.objects.all().delete()
    out = StringIO()
    with time_machine.travel(at(2026, 11, 2, 12), tick=False):
        call_command("safety_refresh", stdout=out)
    assert "Assessed 3 active child(ren)." in out.getvalue()
    assert ChildSafety.objects.filter(patient__in=children).count() == 3
    # Refilled in August: by November each alarm has passed, and the worklist knows it.
    assert Concern.objects.open().filter(patient__in=children, kind="alarm_passed").count() == 3
