"""Two-step sign-in: no staff page or admin page without a verified device; parents may opt in."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from patients.accounts.permissions import staff_required
from patients.models import AuditEvent
from tests.helpers import login_as
from tests.security.url_registry import OK, REGISTRY
from tests.security.walk import iter_url_names

# A page every signed-in person can open (home itself redirects to the person's start page).
SIGNED_IN_PAGE = "/accounts/password_change/"


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _unverified(user) -> Client:
    client = Client()
    client.force_login(user)  # password only: what a real sign-in gives before the second step
    return client


def _staff_urls(world):
    urls = [SIGNED_IN_PAGE, reverse("admin:index"), reverse("admin:patients_patient_changelist")]
    for name, entry in REGISTRY.items():
        if entry.expect["nurse_a"] == OK and entry.expect["parent_a"] == 403:
            urls.append(reverse(name, kwargs=entry.kwargs(world)) + entry.query(world))
    return urls


def test_staff_without_a_device_are_sent_to_set_up_from_every_staff_page_and_the_admin(world):
    client = _unverified(world.nurse_a)
    for url in _staff_urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("two_factor:enrol")), url


def test_staff_with_a_device_but_no_code_yet_are_sent_to_the_code_page(world):
    TOTPDevice.objects.create(user=world.nurse_a, name="phone", confirmed=True)
    client = _unverified(world.nurse_a)
    for url in _staff_urls(world):
        response = client.get(url)
        assert response["Location"].startswith(reverse("two_factor:verify")), url


def test_the_admin_needs_a_verified_device_even_for_a_superuser(db):
    from tests.factories import UserFactory

    boss = UserFactory(is_staff=True, is_superuser=True)
    assert _unverified(boss).get(reverse("admin:index"))["Location"].startswith(reverse("two_factor:enrol"))
    assert login_as(Client(), boss).get(reverse("admin:index")).status_code == 200


def test_every_admin_url_is_behind_the_gate(world):
    client = _unverified(world.nurse_a)
    admin_routes = [route for name, route in iter_url_names() if name and name.startswith("admin:")]
    assert admin_routes
    response = client.get("/admin/patients/patient/")
    assert response.status_code == 302 and "/accounts/2fa/" in response["Location"]


def test_staff_required_refuses_an_unverified_nurse(world):
    request = RequestFactory().get("/staff/x/")
    request.user = world.nurse_a
    request.user.is_verified = lambda: False
    request.session = {}
    response = staff_required(lambda r: None)(request)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


def test_the_emergency_page_and_sign_out_stay_open_before_the_second_step(world):
    client = _unverified(world.nurse_a)
    assert client.get(reverse("emergency")).status_code == 200
    assert client.post(reverse("logout")).status_code == 302


def test_setting_up_shows_a_qr_code_image_and_the_key_then_lets_the_nurse_in(world):
    client = _unverified(world.nurse_a)
    page = client.get(reverse("two_factor:enrol"))
    html = page.content.decode()
    main = html.split("</header>")[1]
    assert 'src="data:image/svg+xml;base64,' in html and "<script" not in main.split("</footer>")[0]
    device = TOTPDevice.objects.get(user=world.nurse_a, confirmed=False)
    wrong = client.post(
        reverse("two_factor:enrol"), {"token": "000000" if _code(device) != "000000" else "111111"}
    )
    assert "did not match" in wrong.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)  # skip the 1 s pause
    done = client.post(reverse("two_factor:enrol"), {"token": _code(device), "next": "/"})
    assert done.status_code == 200 and "recovery codes" in done.content.decode()
    assert StaticToken.objects.filter(device__user=world.nurse_a).count() == 10
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    assert AuditEvent.objects.filter(actor=world.nurse_a, action="auth.2fa_enrolled").exists()


def test_a_stolen_password_cannot_replace_the_authenticator(world):
    TOTPDevice.objects.create(user=world.nurse_a, name="phone", confirmed=True)
    response = _unverified(world.nurse_a).get(reverse("two_factor:enrol"))
    assert response["Location"].startswith(reverse("two_factor:verify"))


def test_the_code_page_accepts_the_app_code_and_each_recovery_code_once(world):
    device = TOTPDevice.objects.create(user=world.nurse_a, name="phone", confirmed=True)
    client = _unverified(world.nurse_a)
    bad = client.post(reverse("two_factor:verify"), {"token": "12345x"})
    assert bad.status_code == 200 and "did not work" in bad.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.save()
    ok = client.post(reverse("two_factor:verify"), {"token": _code(device), "next": "/"})
    assert ok.status_code == 302 and ok["Location"] == "/"
    assert client.get(SIGNED_IN_PAGE).status_code == 200

    from patients.accounts.two_factor import recovery_codes_regenerate

    code = recovery_codes_regenerate(user=world.nurse_a)[0]
    second = _unverified(world.nurse_a)
    assert second.post(reverse("two_factor:verify"), {"token": code.upper()}).status_code == 302
    third = _unverified(world.nurse_a)
    third.post(reverse("two_factor:verify"), {"token": code})
    assert third.get(SIGNED_IN_PAGE).status_code == 302


def test_the_code_page_never_redirects_to_another_site(world):
    device = TOTPDevice.objects.create(user=world.nurse_a, name="phone", confirmed=True)
    client = _unverified(world.nurse_a)
    response = client.post(
        reverse("two_factor:verify"), {"token": _code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("home")


def test_a_parent_is_not_asked_for_a_code_until_they_opt_in(world):
    client = _unverified(world.parent_a)
    assert client.get(SIGNED_IN_PAGE).status_code == 200
    client.get(reverse("two_factor:enrol"))
    device = TOTPDevice.objects.get(user=world.parent_a, confirmed=False)
    client.post(reverse("two_factor:enrol"), {"token": _code(device)})
    assert client.get(SIGNED_IN_PAGE).status_code == 200  # verified by the set-up itself
    later = _unverified(world.parent_a)
    assert later.get(SIGNED_IN_PAGE)["Location"].startswith(reverse("two_factor:verify"))


def test_a_parent_may_turn_it_off_but_staff_may_not(world):
    parent = login_as(Client(), world.parent_a, verified=True)
    assert parent.post(reverse("two_factor:turn_off")).status_code == 302
    assert not TOTPDevice.objects.filter(user=world.parent_a).exists()
    nurse = login_as(Client(), world.nurse_a)
    nurse.post(reverse("two_factor:turn_off"))
    assert TOTPDevice.objects.filter(user=world.nurse_a, confirmed=True).exists()


@pytest.mark.parametrize("persona", ["nurse_a", "parent_a"])
def test_login_as_signs_staff_in_past_the_gate(world, persona):
    client = login_as(Client(), world.users[persona])
    assert client.get(SIGNED_IN_PAGE).status_code == 200
