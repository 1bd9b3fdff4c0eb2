"""Generated input never gives a 500. A generic harness POSTs to every POST endpoint in the URL
registry as a persona allowed there; the sign-in, reset and two-step forms get their own fuzzing.
(The lead extends the registry; these tests pick the new endpoints up by themselves.)"""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import login_as

from .url_registry import OK, PERSONAS, REGISTRY

FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

values = st.one_of(
    st.text(max_size=300),
    st.text(alphabet="0123456789-+.: /", max_size=40),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        ["", "\x00", "null", "NaN", "1e309", "-1", "2026-02-30", "25:99", "' OR 1=1 --", "<script>"]
    ),
    st.lists(st.text(max_size=20), max_size=3),
)
COMMON_FIELDS = ["username", "password", "email", "token", "next", "patient", "clinic", "pk", "id", "mobile",
                 "new_password1", "new_password2", "old_password", "date", "notes", "language"]  # fmt: skip

POST_ENDPOINTS = sorted(name for name, entry in REGISTRY.items() if "post" in entry.methods)


def _persona_for(entry) -> str:
    for persona in ("parent_a", "nurse_a", *PERSONAS):
        if entry.expect[persona] == OK:
            return persona
    return "anonymous"


def _fields(entry, world) -> list[str]:
    return sorted(set(COMMON_FIELDS) | set(entry.post_data(world)))


@pytest.mark.parametrize("name", POST_ENDPOINTS)
@FUZZ
@given(data=st.data())
def test_generated_posts_never_crash_an_endpoint(name, world, data):
    entry = REGISTRY[name]
    persona = _persona_for(entry)
    url = reverse(name, kwargs=entry.kwargs(world)) + entry.query(world)
    form = data.draw(
        st.dictionaries(st.sampled_from(_fields(entry, world)), values, max_size=8), label="form"
    )
    client = Client()
    if persona != "anonymous":
        login_as(client, world.users[persona])
    response = client.post(url, form)
    assert response.status_code < 500


@FUZZ
@given(username=values, password=values)
def test_the_sign_in_form_never_crashes(db, username, password):
    response = Client().post(reverse("login"), {"username": username, "password": password})
    assert response.status_code in (200, 302, 400, 429)


@FUZZ
@given(email=values)
def test_the_password_reset_form_never_crashes(db, email):
    assert Client().post(reverse("password_reset"), {"email": email}).status_code in (200, 302, 400)


@FUZZ
@given(one=values, two=values)
def test_the_new_password_form_never_crashes(world, one, two):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = world.parent_a
    # An earlier example may have set a new password: the token must be made from the stored one.
    user.refresh_from_db()
    link = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    client = Client()
    set_password_url = client.get(link)["Location"]
    response = client.post(set_password_url, {"new_password1": one, "new_password2": two})
    assert response.status_code in (200, 302, 400)


@FUZZ
@given(token=values, next_url=values)
def test_the_two_step_forms_never_crash(world, token, next_url):
    TOTPDevice.objects.get_or_create(user=world.nurse_b, name="phone", confirmed=True)
    TOTPDevice.objects.filter(user=world.nurse_b).update(throttling_failure_count=0)
    verify = Client()
    verify.force_login(world.nurse_b)
    assert verify.post(reverse("two_factor:verify"), {"token": token, "next": next_url}).status_code in (
        200,
        302,
        400,
    )
    enrol = Client()
    enrol.force_login(world.nurse_a)
    assert enrol.post(reverse("two_factor:enrol"), {"token": token, "next": next_url}).status_code in (
        200,
        302,
        400,
    )
