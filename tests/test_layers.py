"""The layout is written down (pyproject.toml's import-linter contracts, README "Layers") and
checked: every module has a room, the contracts hold, domain writes reach the engine only
through the domain's events, and the admin is no back door past the services."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from django.contrib import admin
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from itbportal.admin_readonly import ReadOnlyAdmin
from patients import events
from patients.models import AuditEvent, StaffProfile

ROOT = Path(__file__).resolve().parent.parent
SURFACES = {"staff", "family", "accounts", "documents", "demo", "fhir", "common"}
# Modules Django finds by name in every app: admin (a surface of its own, checked below) and the
# management commands.
BY_CONVENTION = {"admin", "management"}


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def _domain_modules() -> set[str]:
    (contract,) = [c for c in _contracts() if c["id"] == "domain-below-engine"]
    return set(contract["source_modules"])


def test_the_import_contracts_hold():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "0 broken" in result.stdout


def test_every_module_of_patients_has_a_room():
    """A new flat module in patients/ must be a domain module named in the contract, or go in a
    surface package: otherwise no contract would look at it."""
    domain = _domain_modules()
    unplaced = []
    for info in pkgutil.iter_modules([str(ROOT / "patients")]):
        name = f"patients.{info.name}"
        if info.name in SURFACES or info.name in BY_CONVENTION or name in domain:
            continue
        unplaced.append(name)
    assert unplaced == []


def test_no_flat_module_of_patients_is_named_for_a_surface():
    flat = [i.name for i in pkgutil.iter_modules([str(ROOT / "patients")]) if not i.ispkg]
    assert not [n for n in flat if n.split("_")[0] in {"staff", "family", "forms", "worklist", "views"}]


def test_the_domain_packages_are_domain_through_and_through():
    assert {"pumps", "appointments"} <= _domain_modules()


def test_a_domain_event_without_the_engine_refuses_rather_than_skip_the_replan(child):
    receivers = events.child_changed.receivers
    events.child_changed.receivers = []
    events.child_changed.sender_receivers_cache.clear()
    try:
        with pytest.raises(ImproperlyConfigured):
            events.child_changed_send(patient=child)
        assert [e.id for e in checks.run_checks() if e.id == "itbportal.E001"] == ["itbportal.E001"]
    finally:
        events.child_changed.receivers = receivers
        events.child_changed.sender_receivers_cache.clear()
    assert not [e for e in checks.run_checks() if e.id == "itbportal.E001"]


def test_the_admin_writes_nothing_past_the_services():
    """Every model of ours on the admin site is read-only, or saves through admin_save."""
    ours = {"patients", "pumps", "appointments", "alerts"}
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in ours:
            continue
        if isinstance(model_admin, ReadOnlyAdmin):
            continue
        assert type(model_admin).save_model.__qualname__ == "AuditedSaveAdmin.save_model", model
        assert not model_admin.has_delete_permission(None), model
        for inline in model_admin.inlines:
            assert inline.model._meta.label in {"patients.ClosedDate"}, (model, inline)


def test_a_staff_role_changed_on_the_admin_is_audited_and_sets_the_group(client, nurse, db):
    from patients.models import User

    admin_user = User.objects.create_superuser(email="root@example.org", password="x-Long-enough-1")
    client.force_login(admin_user)
    session = client.session
    session["security_2fa_required"] = False
    session.save()
    profile = nurse.staff_profile
    url = reverse("admin:patients_staffprofile_change", args=[profile.pk])
    response = client.post(
        url,
        {
            "user": nurse.pk,
            "clinic": profile.clinic_id,
            "role": StaffProfile.Role.CLINIC_ADMIN,
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    profile.refresh_from_db()
    assert profile.role == StaffProfile.Role.CLINIC_ADMIN
    assert list(nurse.groups.values_list("name", flat=True)) == ["Clinic admin"]
    assert AuditEvent.objects.filter(action="admin.saved", object_id=str(profile.pk)).exists()


def test_every_management_command_loads():
    """`make run` starts `demo_ready` by name: a command whose module no longer imports after a
    move stops every process of `make run`."""
    from django.core.management import get_commands, load_command_class

    ours = {name: app for name, app in get_commands().items() if app.split(".")[0] in {"patients", "alerts"}}
    assert {"seed_demo", "demo_ready", "demo_code", "safety_refresh", "compile_catalogues"} <= set(ours)
    for name, app in ours.items():
        load_command_class(app, name)
