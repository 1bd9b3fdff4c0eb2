"""Sessions: staff 15 minutes idle, parents 30, 12 hours at most; sign-out ends the session on the
server; signed-in pages are never cached."""

from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from patients.accounts import security_middleware as ms
from patients.models import AuditEvent
from tests.helpers import login_as

# A page every signed-in person can open (home itself redirects to the person's start page).
SIGNED_IN_PAGE = "/accounts/password_change/"


def _age(client, *, idle_seconds=0, since_login_seconds=0):
    session = client.session
    now = ms.now()
    session[ms.SEEN_AT] = now - idle_seconds
    session[ms.LOGIN_AT] = now - max(since_login_seconds, idle_seconds)
    session.save()
    return session.session_key


def test_a_nurse_is_signed_out_after_fifteen_idle_minutes(world):
    client = login_as(Client(), world.nurse_a)
    _age(client, idle_seconds=14 * 60)
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    key = _age(client, idle_seconds=15 * 60 + 5)
    response = client.get(SIGNED_IN_PAGE)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not Session.objects.filter(session_key=key).exists()
    assert AuditEvent.objects.filter(actor=world.nurse_a, action="auth.session_expired").exists()


def test_a_parent_has_thirty_idle_minutes(world):
    client = login_as(Client(), world.parent_a)
    _age(client, idle_seconds=20 * 60)
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    _age(client, idle_seconds=30 * 60 + 5)
    assert client.get(SIGNED_IN_PAGE)["Location"].startswith(reverse("login"))


def test_no_session_lasts_more_than_twelve_hours_even_when_busy(world):
    client = login_as(Client(), world.parent_a)
    _age(client, idle_seconds=10, since_login_seconds=12 * 3600 + 5)
    assert client.get(SIGNED_IN_PAGE)["Location"].startswith(reverse("login"))


def test_activity_moves_the_idle_clock_forward(world):
    client = login_as(Client(), world.nurse_a)
    _age(client, idle_seconds=10 * 60)
    client.get(SIGNED_IN_PAGE)
    assert ms.now() - client.session[ms.SEEN_AT] < 60


def test_sign_out_deletes_the_session_on_the_server(world):
    client = login_as(Client(), world.parent_a)
    key = client.session.session_key
    assert Session.objects.filter(session_key=key).exists()
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()
    assert client.get(SIGNED_IN_PAGE)["Location"].startswith(reverse("login"))


def test_signed_in_pages_are_never_stored_by_the_browser_or_a_proxy(world):
    for user in (world.parent_a, world.nurse_a):
        response = login_as(Client(), user).get(SIGNED_IN_PAGE)
        assert "no-store" in response["Cache-Control"]


def test_the_settings_hold_the_limits():
    from django.conf import settings

    assert settings.STAFF_IDLE_TIMEOUT == 15 * 60
    assert settings.PARENT_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_ABSOLUTE_TIMEOUT == 12 * 3600
