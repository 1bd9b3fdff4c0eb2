"""Every URL, every persona: a stranger gets 404, a parent on a staff page 403, anonymous the
sign-in page, and only family A's parent and clinic A's nurse ever see child A."""

import pytest
from django.apps import apps
from django.forms.models import model_to_dict
from django.urls import reverse

from patients.models import Patient
from tests.security.url_registry import OK, OWNERS, PERSONAS, REGISTRY
from tests.security.walk import describe, iter_url_names, matches, not_walked


def test_every_url_pattern_has_a_registry_entry():
    names = list(iter_url_names())
    unnamed = [
        route for name, route in names if name is None or (name.endswith(":") and not not_walked(name))
    ]
    assert not unnamed, f"URL patterns without a name (give each one a name): {unnamed}"
    missing = sorted({name for name, _ in names if name not in REGISTRY and not not_walked(name)})
    assert not missing, (
        f"URLs without an entry in tests/security/url_registry.py: {missing}. Add one per URL "
        "(e.g. staff_child_page(lambda w: {'pk': w.child_a.pk})) saying who may open it."
    )
    known = {name for name, _ in names}
    stale = sorted(set(REGISTRY) - known)
    assert not stale, f"Registry entries for URLs that no longer exist: {stale}"


def _url(world, name, entry):
    return reverse(name, kwargs=entry.kwargs(world)) + entry.query(world)


def _request(client, method, url, data):
    return getattr(client, method)(url, data) if method == "post" else client.get(url)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_url_gives_each_persona_only_what_it_may_see(name, world, persona_client):
    entry = REGISTRY[name]
    failures = []
    for persona in PERSONAS:
        for method in entry.methods:
            client = persona_client(persona)
            url = _url(world, name, entry)
            response = _request(client, method, url, entry.post_data(world))
            expected = entry.expect[persona]
            if not matches(response, expected):
                failures.append(
                    f"{persona} {method.upper()} {url}: got {describe(response)}, expected {expected}"
                )
            body = (
                response.content.decode(errors="replace") if not getattr(response, "streaming", False) else ""
            )
            leaked = [
                secret
                for secrets, owners in world.secrets_by_owners
                if persona not in owners
                for secret in secrets
                if secret in body
            ]
            if leaked:
                failures.append(f"{persona} {method.upper()} {url}: page shows another's data ({leaked})")
    assert not failures, "\n".join(failures)


def _other_families_state(world) -> list:
    """Every row about the other children (any model with a FK to Patient), their parent, clinic."""
    others = [world.other_child.pk, world.child_in_other_clinic.pk]
    state = [sorted(map(str, Patient.objects.filter(pk__in=others).values_list()))]
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if getattr(field, "related_model", None) is Patient and field.many_to_one and field.concrete:
                rows = model.objects.filter(**{f"{field.name}__in": others}).order_by("pk")
                state.append((model._meta.label, [model_to_dict(row) for row in rows]))
    user = type(world.parent_b).objects.get(pk=world.parent_b.pk)
    state.append((user.email, user.password, user.is_active, user.first_name, user.last_name))
    clinic = type(world.other_clinic).objects.get(pk=world.other_clinic.pk)
    state.append(model_to_dict(clinic))
    return state


POST_ENDPOINTS = sorted(name for name, entry in REGISTRY.items() if "post" in entry.methods)


@pytest.mark.parametrize("name", POST_ENDPOINTS)
def test_extra_post_fields_naming_another_family_change_nothing_of_theirs(name, world, persona_client):
    entry = REGISTRY[name]
    before = _other_families_state(world)
    for persona in OWNERS:
        if entry.expect[persona] != OK:
            continue
        data = {
            **entry.post_data(world),
            "patient": world.other_child.pk,
            "patient_id": world.other_child.pk,
            "clinic": world.other_clinic.pk,
            "clinic_id": world.other_clinic.pk,
            "caregiver": world.parent_b.pk,
            "user": world.parent_b.pk,
        }
        response = persona_client(persona).post(_url(world, name, entry), data)
        assert response.status_code < 500
    assert _other_families_state(world) == before
