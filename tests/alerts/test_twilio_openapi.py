"""Twilio's own OpenAPI description against the backend's requests, the fake's replies, and the
fields the portal stores from a reply. tests/fakes/twilio_messages_openapi.json is the Messages
part of it, unchanged (scripts/twilio_openapi_subset.py makes it from twilio_api_v2010.json)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
from pathlib import Path
from time import monotonic, sleep

import pytest

from alerts.models import Reminder, SmsMessage
from alerts.sending import reminder_send, reminders_claim_due
from tests.alerts.conftest import at, refill_text
from tests.alerts.processes import real_clock_env

SPEC_PATH = Path(__file__).resolve().parents[1] / "fakes" / "twilio_messages_openapi.json"
MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
T0 = at(2026, 11, 16, 10, 1)


@pytest.fixture(scope="module")
def spec() -> dict:
    return json.loads(SPEC_PATH.read_text())


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema:
        node = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def problems(spec: dict, schema: dict, value, where: str = "") -> list[str]:
    """What in `value` breaks `schema` (the subset of OpenAPI Twilio's description uses)."""
    schema = _resolve(spec, schema)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null"]
    kind = schema.get("type")
    found = []
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        props = schema.get("properties", {})
        found += [f"{where}.{k}: unknown field" for k in value if props and k not in props]
        for key, sub in props.items():
            if key in value:
                found += problems(spec, sub, value[key], f"{where}.{key}")
        return found
    if kind == "integer" and not (isinstance(value, int) or re.fullmatch(r"-?\d+", str(value))):
        found.append(f"{where}: {value!r} is not an integer")
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: {value!r} is not a string"]
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']}")
        if "minLength" in schema and len(value) < schema["minLength"]:
            found.append(f"{where}: shorter than {schema['minLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{where}: {value!r} does not match {schema['pattern']}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not one of {schema['enum']}")
    return found


def create_operation(spec: dict) -> dict:
    return spec["paths"][MESSAGES]["post"]


def request_schema(spec: dict) -> dict:
    return create_operation(spec)["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]


def reply_schema(spec: dict) -> dict:
    return create_operation(spec)["responses"]["201"]["content"]["application/json"]["schema"]


@pytest.fixture
def row(clinic):
    return refill_text(clinic)


def send_due(now):
    for pk in reminders_claim_due(now=now):
        reminder_send(reminder=Reminder.objects.get(pk=pk), now=now)


def test_the_checker_finds_what_breaks_the_description(spec):
    assert problems(spec, request_schema(spec), {"To": "+1", "MessagingServiceSid": "MG1"}) != []
    assert problems(spec, reply_schema(spec), {"status": "sent-ish"}) != []
    assert problems(spec, reply_schema(spec), {"sid": "SM" + "a" * 32, "status": "queued"}) == []


@pytest.mark.django_db
@pytest.mark.parametrize("sender", ["messaging_service", "from_number"])
def test_every_request_the_backend_makes_and_every_reply_of_the_fake_follow_twilio_s_description(
    spec, row, fake_twilio, settings, sender
):
    if sender == "from_number":
        settings.TWILIO_MESSAGING_SERVICE_SID = ""
        settings.TWILIO_FROM_NUMBER = "+18015550100"
    send_due(T0)
    (request,) = fake_twilio.requests
    schema = request_schema(spec)
    assert set(schema["required"]) <= set(request)
    assert problems(spec, schema, request) == []
    reply = fake_twilio._message(request)
    assert problems(spec, reply_schema(spec), reply) == []


def test_the_fields_stored_from_a_reply_are_as_long_as_twilio_s_description_allows(spec):
    message = _resolve(spec, reply_schema(spec))["properties"]
    statuses = _resolve(spec, message["status"])["enum"]
    longest_status = max(map(len, statuses))
    assert SmsMessage._meta.get_field("status").max_length >= longest_status
    for model in (Reminder, SmsMessage):
        assert model._meta.get_field("provider_message_id").max_length >= message["sid"]["maxLength"]
    # `from` and `to` have no length in the description (E.164, short codes, "whatsapp:+1...").
    for name in ("to_number", "from_number"):
        assert SmsMessage._meta.get_field(name).max_length is None


@pytest.mark.django_db
def test_each_example_reply_of_the_description_is_recorded_whole_and_sent_once(spec, clinic, fake_twilio):
    examples = create_operation(spec)["responses"]["201"]["content"]["application/json"]["examples"]
    rows = []
    for name, example in examples.items():
        reply = {**example["value"], "from": example["value"]["from"] or "whatsapp:+14155238886"}
        fake_twilio.fail_next(("reply", reply))
        row = refill_text(clinic, first_name=name[:20])
        reminder_send(reminder=_claim(row), now=T0)
        rows.append((row, reply))
    for row, reply in rows:
        row.refresh_from_db()
        assert (row.status, row.provider_message_id, row.attempts) == ("sent", reply["sid"], 1)
        logged = SmsMessage.objects.get(reminder=row)
        assert (logged.from_number, logged.status) == (reply["from"], reply["status"])
    assert len(fake_twilio.requests) == len(examples)


def _claim(row: Reminder) -> Reminder:
    Reminder.objects.filter(pk=row.pk).update(status="claimed", claimed_at=T0)
    return row


def prism_command() -> list[str]:
    """Stoplight Prism: $PRISM, or the npm registry's package through npx."""
    if os.environ.get("PRISM"):
        return [os.environ["PRISM"]]
    return ["npx", "--yes", "@stoplight/prism-cli@5"]


@pytest.fixture
def prism(fake_twilio, settings, tmp_path):
    """Prism as a validating proxy in front of the fake: a request or a reply that breaks Twilio's
    description is answered 422/500 with the violations instead of being passed on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path / "prism.log"
    args = ["proxy", "-p", str(port), "-h", "127.0.0.1", "--errors", str(SPEC_PATH), fake_twilio.base_url]
    proc = subprocess.Popen(
        prism_command() + args,
        env=real_clock_env(),
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = monotonic() + 180  # npx may fetch the package first
        while monotonic() < deadline and b"is listening" not in log.read_bytes():
            assert proc.poll() is None, log.read_text()[-2000:]
            sleep(0.2)
        assert b"is listening" in log.read_bytes(), log.read_text()[-2000:]
        settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
        settings.TWILIO_TIMEOUT_SECONDS = 10
        yield log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.django_db
def test_prism_finds_every_request_of_the_backend_and_every_reply_of_the_fake_valid(
    prism, clinic, fake_twilio, settings
):
    cases = [
        ("messaging service", {}, None),
        ("from number", {"TWILIO_MESSAGING_SERVICE_SID": "", "TWILIO_FROM_NUMBER": "+18015550100"}, None),
        ("whatsapp sender", {}, ("reply", {"from": "whatsapp:+14155238886"})),
        ("failed at once", {}, ("reply", {"status": "failed", "error_code": 30007})),
    ]
    rows = []
    for name, overrides, action in cases:
        for key, value in overrides.items():
            setattr(settings, key, value)
        if action:
            fake_twilio.fail_next(action)
        row = refill_text(clinic, first_name=name.split()[0])
        reminder_send(reminder=_claim(row), now=T0)
        rows.append(row)
    statuses = [Reminder.objects.get(pk=row.pk).status for row in rows]
    assert statuses == ["sent", "sent", "sent", "failed"], prism.read_text()[-3000:]
    assert len(fake_twilio.accepted) == len(cases)


@pytest.mark.slow
@pytest.mark.django_db
def test_prism_refuses_a_reply_that_breaks_the_description(prism, row, fake_twilio):
    fake_twilio.fail_next(("reply", {"status": "almost-sent"}))
    reminder_send(reminder=_claim(row), now=T0)
    row.refresh_from_db()
    assert row.status == "planned" and "500" in row.last_error  # a violation, taken as transient
