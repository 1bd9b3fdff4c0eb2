"""Generated input never gives a 500. A generic harness POSTs to every POST endpoint in the URL
registry as a persona allowed there; the sign-in, reset and two-step forms get their own fuzzing.
(The lead extends the registry; these tests pick the new endpoints up by themselves.)"""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.models import LadderStep
from tests.helpers import login_as
from tests.security.url_registry import OK, PERSONAS, REGISTRY

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
        [
            "",
            "\x00",
            "null",
            "NaN",
            "Infinity",
            "1e309",
            "-1",
            "2026-02-30",
            "25:99",
            "' OR 1=1 --",
            "<script>",
            "9999-12-31",
            "9999-12-31T23:59",
            "0001-01-01T00:00",
        ]  # fmt: skip
    ),
    st.lists(st.text(max_size=20), max_size=3),
)
COMMON_FIELDS = ["username", "password", "email", "token", "next", "patient", "clinic", "pk", "id", "mobile",
                 "new_password1", "new_password2", "old_password", "date", "notes", "language",
                 "visit_at", "next_appointment_at", "start", "implant_date", "code", "resend"]  # fmt: skip

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


# Point 5 of issue 13: the hostile shapes, everywhere. Every URL of the registry, anonymous and as
# each persona, with out-of-range path ids, NUL bytes, 20,000-character strings, dates in year 1
# and 9999 and `next` values of every shape, in query strings and in forms: never a 500.
HOSTILE = [
    "a\x00b",
    "x" * 20_000,
    "0001-01-01",
    "9999-12-31",
    "9999-12-31T23:59",
    "Infinity",
    "NaN",
    str(10**30),
    "//evil.example/",
    "javascript:alert(1)",
    "",
]
QUERY_KEYS = ["q", "patient", "date", "next", "lang", "resolved", "page", "day", "reminder", "kind"]
PATH_INTS = [0, 2**63 - 1, 10**30]
PATH_STRINGS = ["\x00", "x" * 20_000]
FIGURES = {"requests": 0, "inputs": 0, "500s": 0, "personas": len(PERSONAS)}


def _hostile_paths(name, entry, world):
    kwargs = entry.kwargs(world)
    yield reverse(name, kwargs=kwargs)
    for key, value in kwargs.items():
        for bad in PATH_INTS if isinstance(value, int) else PATH_STRINGS:
            try:
                yield reverse(name, kwargs={**kwargs, key: bad})
            except NoReverseMatch:
                continue  # the pattern itself refuses this shape: no request can carry it


def _send(client, method, url, data, failures, label):
    FIGURES["requests"] += 1
    FIGURES["inputs"] += len(data) if isinstance(data, dict) else 1
    try:
        response = client.post(url, data) if method == "post" else client.get(url, data)
    except Exception as error:  # noqa: BLE001 - a crash is what we are counting
        response = None
        failures.append(f"{label}: raised {error!r}"[:300])
    if response is not None and response.status_code >= 500:
        failures.append(f"{label}: {response.status_code}")
    if response is None or response.status_code >= 500:
        FIGURES["500s"] += 1


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_hostile_shapes_in_paths_queries_and_forms_never_make_a_500(name, world, persona_client):
    entry = REGISTRY[name]
    fields = _fields(entry, world)
    failures: list[str] = []
    for persona in PERSONAS:
        client = persona_client(persona)
        for url in _hostile_paths(name, entry, world):
            for method in entry.methods:
                _send(client, method, url, {}, failures, f"{persona} {method} {url[:80]}")
        url = reverse(name, kwargs=entry.kwargs(world))
        # A persona the page turns away (sign-in, 403, 404) never reaches the view's parsing: the
        # two worst shapes check the gate; the personas let in get every shape.
        for bad in HOSTILE if entry.expect[persona] == OK else HOSTILE[:2]:
            for method in entry.methods:
                data = {key: bad for key in (QUERY_KEYS if method == "get" else fields)}
                _send(client, method, url, data, failures, f"{persona} {method} {url} {bad[:20]!r}")
        if "post" in entry.methods and entry.expect[persona] == OK:
            # One hostile field at a time in an otherwise valid form: the shape reaches the
            # view's deepest parsing (the forecast, the calendar), as a typing slip would.
            valid = entry.post_data(world)
            for key in valid:
                for bad in HOSTILE:
                    data = {**valid, key: bad}
                    _send(client, "post", url, data, failures, f"{persona} post {url} {key}={bad[:20]!r}")
    assert not failures, "\n".join(failures[:40])


WEBHOOKS = {
    "alerts:voice_gather": ["CallSid", "Digits"],
    "alerts:voice_status": ["CallSid", "CallStatus"],
    "alerts:twilio_inbound": ["From", "To", "Body", "MessageSid"],
    "alerts:twilio_status": ["MessageSid", "MessageStatus", "ErrorCode"],
}


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_signed_webhooks_with_hostile_shapes_never_make_a_500(name, world, settings):
    """The voice and text webhooks, signed as Twilio signs (so the hostile shapes reach the
    answer code): a step id, CallSid, digits, numbers and statuses of every shape."""
    from twilio.request_validator import RequestValidator

    settings.TWILIO_AUTH_TOKEN = token = "walk-auth-token-0123456789abcdef"
    settings.PUBLIC_BASE_URL = "https://portal.example.org"
    validator = RequestValidator(token)
    step_a = world.ladder_step_a
    call = LadderStep.objects.create(
        concern=world.ladder_concern_a,
        rung="call",
        at=step_a.at,
        caregiver=step_a.caregiver,
        call_sid="CAwalk0001",
    )
    failures: list[str] = []
    client = Client()
    for step in (str(call.pk), str(world.ladder_step_a.pk), "0", str(10**30), "x" * 300, ""):
        path = reverse(name) + (f"?step={step}" if "voice" in name else f"?reminder={step}")
        for key in WEBHOOKS[name]:
            for bad in [*HOSTILE, "1", "2", "CAwalk0001", str(world.parent_a.caregiver.mobile)]:
                data = {k: "1" for k in WEBHOOKS[name]} | {key: bad}
                signature = validator.compute_signature("https://portal.example.org" + path, data)
                _send_signed(client, path, data, signature, failures)
    assert not failures, "\n".join(failures[:40])


def _send_signed(client, path, data, signature, failures):
    FIGURES["requests"] += 1
    FIGURES["inputs"] += len(data)
    try:
        response = client.post(path, data, HTTP_X_TWILIO_SIGNATURE=signature)
    except Exception as error:  # noqa: BLE001 - a crash is what we are counting
        failures.append(f"{path[:60]}: raised {error!r}"[:300])
        FIGURES["500s"] += 1
        return
    if response.status_code >= 500 or response.status_code == 403:
        failures.append(f"{path[:60]} {sorted(data.items())!r:.120}: {response.status_code}")
        FIGURES["500s"] += response.status_code >= 500


def test_a_20000_character_user_name_is_a_form_error(db):
    from axes.models import AccessAttempt

    from patients.models import AuditEvent

    response = Client().post(reverse("login"), {"username": "u" * 20_000, "password": "x"})
    assert response.status_code == 200 and response.context["form"].errors
    assert not AccessAttempt.objects.filter(username__startswith="u" * 300).exists()
    assert AuditEvent.objects.filter(action="auth.sign_in_failed").count() <= 1
