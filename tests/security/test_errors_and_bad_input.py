"""Plain-words error pages, no stack traces with DEBUG off, no health data in logs, a clear 400 for
oversized or field-flooded posts."""

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from patients.accounts.security_logging import NoHealthDataFilter
from tests.helpers import login_as

BODY = {"goals": "secret-health-note-7731", "mobile": "+18015550199"}


def _console_handler():
    for handler in logging.getLogger().handlers:
        if any(isinstance(f, NoHealthDataFilter) for f in handler.filters):
            return handler
    raise AssertionError("no log handler carries the NoHealthDataFilter")


@pytest.mark.urls("tests.security.urls_boom")
def test_a_crash_shows_the_plain_500_page_without_a_stack_trace(db, settings):
    assert settings.DEBUG is False
    response = Client(raise_request_exception=False).post("/boom/", BODY)
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html and "call the clinic" in html
    assert "Traceback" not in html and "ValueError" not in html and "secret-health-note" not in html


@pytest.mark.urls("tests.security.urls_boom")
def test_the_500_log_line_carries_no_post_body_and_no_phone_number(db):
    handler = _console_handler()
    stream = io.StringIO()
    # Swapped by hand: setStream() flushes the old stream first, and under pytest's capture that
    # may be an earlier test's stream, already closed.
    old, handler.stream = handler.stream, stream
    try:
        Client(raise_request_exception=False).post("/boom/", BODY)
    finally:
        handler.stream = old
    logged = stream.getvalue()
    assert "Internal Server Error: /boom/" in logged and "ValueError: could not text [phone]" in logged
    assert "secret-health-note" not in logged and "8015550199" not in logged


def test_the_log_filter_drops_the_request_from_error_records(rf):
    request = rf.post("/x/", BODY)
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "Failed %s", ("801-555-0123",), None
    )
    record.request = request
    NoHealthDataFilter().filter(record)
    assert record.request is None and record.getMessage() == "Failed [phone]"


def test_an_unknown_page_gives_the_plain_404(db):
    response = Client().get("/no-such-page/")
    html = response.content.decode()
    assert response.status_code == 404 and "could not find that page" in html
    assert "urlpatterns" not in html and "Traceback" not in html


def test_a_refused_page_gives_the_plain_403(world):
    response = login_as(Client(), world.parent_a).get(reverse("audit:search"))
    assert response.status_code == 403 and "not available to you" in response.content.decode()


def test_an_oversized_post_gets_a_clear_400_and_signs_no_one_in(db):
    response = Client().post(reverse("login"), {"username": "x" * (2 * 1024 * 1024), "password": "y"})
    assert response.status_code == 400
    assert "too large" in response.content.decode()


def test_a_post_with_thousands_of_fields_gets_a_clear_400(db):
    data = {f"field{i}": "1" for i in range(1000)}
    response = Client().post(reverse("password_reset"), data)
    assert response.status_code == 400 and "nothing was saved" in response.content.decode()
