"""Caregivers: invite by e-mail (link expires after 7 days), link an existing account, record
mobile and text consent, deactivate access."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from patients.invites import InviteTokenGenerator
from patients.models import CaregiverLink, SmsConsent, User
from tests.factories import CaregiverFactory
from tests.helpers import code_texted_to

pytestmark = pytest.mark.django_db


def _invite(nurse_client, child, django_capture_on_commit_callbacks, **over):
    data = {
        "invite-email": "new.parent@example.test",
        "invite-first_name": "Rita",
        "invite-last_name": "Moreno",
        "invite-relationship": "mother",
        "invite-preferred_language": "en",
        "invite-mobile": "",
        "invite": "1",
    }
    data.update(over)
    with django_capture_on_commit_callbacks(execute=True):
        return nurse_client.post(reverse("staff:caregivers", args=[child.pk]), data)


def _link_in(message) -> str:
    return re.search(r"http://\S+/invite/\S+/", message.body).group(0).split("8000", 1)[-1]


def test_invite_creates_a_linked_account_and_emails_a_set_password_link(
    nurse_client, child, django_capture_on_commit_callbacks, celery_eager, client
):
    response = _invite(nurse_client, child, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    user = User.objects.get(email="new.parent@example.test")
    assert not user.has_usable_password()
    assert CaregiverLink.objects.filter(caregiver__user=user, patient=child, active=True).exists()
    assert len(mail.outbox) == 1 and "7 days" in mail.outbox[0].body
    path = _link_in(mail.outbox[0])
    client.logout()
    assert client.get(path).status_code == 200
    response = client.post(path, {"new_password1": "Sunny-garden-4821", "new_password2": "Sunny-garden-4821"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Sunny-garden-4821")
    assert client.get(reverse("family:home")).status_code == 200  # signed in
    client.logout()
    assert client.get(path).status_code == 400  # used once


def test_the_invitation_link_expires_after_7_days(
    nurse_client, child, django_capture_on_commit_callbacks, celery_eager, client
):
    _invite(nurse_client, child, django_capture_on_commit_callbacks)
    path = _link_in(mail.outbox[0])
    user = User.objects.get(email="new.parent@example.test")
    token = path.rstrip("/").split("/")[-1]
    generator = InviteTokenGenerator()
    real_now = generator._now()
    with mock.patch.object(InviteTokenGenerator, "_now", return_value=real_now + timedelta(days=6, hours=23)):
        assert generator.check_token(user, token)
    with mock.patch.object(InviteTokenGenerator, "_now", return_value=real_now + timedelta(days=7, hours=1)):
        assert not generator.check_token(user, token)
        client.logout()
        response = client.get(path)
        assert response.status_code == 400 and "7 days" in response.content.decode()


def _answer(response) -> tuple:
    """What the nurse gets back: status, where it leads, and the message shown there."""
    return response.status_code, response.headers.get("Location")


@pytest.mark.parametrize("who", ["parent", "other_parent", "nurse", "new"])
def test_inviting_tells_the_nurse_nothing_about_whether_the_email_has_an_account(
    nurse_client, child, parent, other_parent, nurse, who, django_capture_on_commit_callbacks, celery_eager
):
    """The e-mail oracle (issue 24): a new address, a parent already linked, another family's
    parent and a staff account get the same status, redirect and message, and the typed address
    gets exactly one e-mail; nothing is linked without the parent."""
    email = {"parent": parent.email, "other_parent": other_parent.email, "nurse": nurse.email}.get(
        who, "new.parent@example.test"
    )
    response = _invite(
        nurse_client, child, django_capture_on_commit_callbacks, **{"invite-email": email.upper()}
    )
    assert _answer(response) == (302, reverse("staff:chart", args=[child.pk]))
    page = nurse_client.get(response.headers["Location"]).content.decode()
    assert "Invitation sent. The link works for 7 days." in page and "already has an account" not in page
    assert [m.to for m in mail.outbox] == [[email.lower()]]
    if who == "other_parent":
        assert "/invite/link/" in mail.outbox[0].body  # the parent may accept
        assert not CaregiverLink.objects.filter(caregiver__user=other_parent, patient=child).exists()
    if who == "nurse":
        assert not hasattr(User.objects.get(email=nurse.email), "caregiver")


def test_inviting_an_existing_email_twice_adds_nothing(
    nurse_client, child, other_parent, django_capture_on_commit_callbacks, celery_eager
):
    for _ in range(2):
        response = _invite(
            nurse_client, child, django_capture_on_commit_callbacks, **{"invite-email": other_parent.email}
        )
        assert response.status_code == 302
    assert len(mail.outbox) == 1 and child.link_invitations.count() == 1


def test_linking_an_existing_parent_sends_an_invitation_and_links_only_once_accepted(
    nurse_client, parent, other_child, django_capture_on_commit_callbacks, celery_eager, client
):
    with django_capture_on_commit_callbacks(execute=True):
        response = nurse_client.post(
            reverse("staff:caregivers", args=[other_child.pk]),
            {"link-email": parent.email, "link-relationship": "father", "link": "1"},
        )
    assert response.status_code == 302
    assert not CaregiverLink.objects.filter(caregiver__user=parent, patient=other_child).exists()
    [message] = mail.outbox
    assert message.to == [parent.email] and "Liam" in message.body
    path = re.search(r"https?://\S+(/invite/link/\S+/)", message.body).group(1)
    from tests.helpers import login_as

    stranger = login_as(client, CaregiverFactory().user)
    assert stranger.get(path).status_code == 404  # the link is for that parent's account only
    parent_client = login_as(type(client)(), parent)
    page = parent_client.get(path)
    assert page.status_code == 200 and "Liam" in page.content.decode()
    assert parent_client.post(path, {"accept": "1"}).status_code == 302
    assert CaregiverLink.objects.filter(caregiver__user=parent, patient=other_child, active=True).exists()
    assert parent_client.get(path).status_code == 404  # used once


def test_record_mobile_and_consent_given_to_the_nurse_once_the_code_is_read_out(
    nurse_client, nurse, child, outbox, django_capture_on_commit_callbacks, celery_eager
):
    caregiver = CaregiverFactory(mobile="", sms_consent=False)
    link = CaregiverLink.objects.create(caregiver=caregiver, patient=child)
    url = reverse("staff:caregiver_contact", args=[child.pk, link.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = nurse_client.post(url, {"mobile": "(801) 555-0199", "consent": "given"})
    assert response.status_code == 302 and response["Location"] == url
    caregiver.refresh_from_db()
    assert not caregiver.sms_consent and not caregiver.mobile  # nothing used before the proof
    code = code_texted_to("+18015550199")
    page = nurse_client.get(url).content.decode()
    assert code not in page and "read out" in page
    wrong = nurse_client.post(url, {"code": "000000" if code != "000000" else "111111", "prove": "1"})
    assert "not right" in wrong.content.decode()
    assert nurse_client.post(url, {"code": code, "prove": "1"}).status_code == 302
    caregiver.refresh_from_db()
    assert caregiver.sms_consent and str(caregiver.mobile) == "+18015550199"
    record = SmsConsent.objects.get(caregiver=caregiver)
    assert record.source == "nurse" and record.recorded_by == nurse and "STOP" in record.wording


def test_consent_without_a_mobile_is_refused_and_nothing_changes(nurse_client, child):
    caregiver = CaregiverFactory(mobile="", sms_consent=False)
    link = CaregiverLink.objects.create(caregiver=caregiver, patient=child)
    response = nurse_client.post(
        reverse("staff:caregiver_contact", args=[child.pk, link.pk]), {"mobile": "", "consent": "given"}
    )
    assert "Texts need a mobile number" in response.content.decode()
    caregiver.refresh_from_db()
    assert not caregiver.sms_consent and not SmsConsent.objects.filter(caregiver=caregiver).exists()


def test_deactivate_access_hides_the_child_from_the_parent(nurse_client, child, parent, client):
    link = child.caregiver_links.get()
    nurse_client.post(reverse("staff:caregiver_deactivate", args=[child.pk, link.pk]))
    link.refresh_from_db()
    assert not link.active
    from patients.models import Patient

    assert not Patient.objects.visible_to(parent).exists()


def test_the_invitation_and_set_password_pages_follow_the_invitations_language(
    nurse_client, client, child, django_capture_on_commit_callbacks, celery_eager
):
    """A Spanish invitation opens in Spanish in an English browser; so does the reset page."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    _invite(nurse_client, child, django_capture_on_commit_callbacks, **{"invite-preferred_language": "es"})
    path = _link_in(mail.outbox[0])
    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in page and "contraseña" in page
    assert "Choose a password" not in page
    user = User.objects.get(email="new.parent@example.test")
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    reset = f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"
    page = client.get(reset, HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert '<html lang="es">' in page and "contraseña" in page
    # A language the visitor chose on the page wins.
    client.cookies["django_language"] = "en"
    assert '<html lang="en">' in client.get(path).content.decode()
