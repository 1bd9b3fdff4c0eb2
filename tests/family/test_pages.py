"""Emergency page, sign-in and password reset, language choice, and the urgency colours' contrast."""

import re
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.urls import reverse

from patients.models import Clinic


def test_the_emergency_page_has_the_handouts_signs_and_the_clinics_numbers(client, db):
    clinic = Clinic.objects.order_by("pk").first()
    html = client.get(reverse("emergency")).content.decode()
    for words in (
        "A sudden increase in muscle tone",
        "Itching without a rash",
        "Headaches",
        "Drowsiness",
        "Nausea",
        "immediately give your child baclofen by mouth, as directed by your rehabilitation provider, "
        "and then call your nurses",
        "Ask to speak to the baclofen pump nurse",
        "Ask the operator to page the rehabilitation doctor on call",
        "pump identification card",
        "red emergency card",
        "tell the healthcare provider your child has an implanted baclofen pump",
        "Keep baclofen by mouth (pills or liquid) at home, in case of withdrawal.",
        "Signs of infection: fever, swelling, redness, or drainage around the pump site",
        "Fever",
    ):
        assert words in html, words
    for number in (clinic.phone_business_hours, clinic.phone_after_hours, clinic.phone_nurse_line):
        assert f'href="tel:{number}"' in html


def test_every_family_page_has_the_one_tap_emergency_button(parent_client, child):
    for url in (reverse("family:home"), reverse("family:child", args=[child.pk]), reverse("family:texts")):
        assert f'href="{reverse("emergency")}"' in parent_client.get(url).content.decode()


def test_a_wrong_password_says_so_in_plain_words(client, parent):
    response = client.post(reverse("login"), {"username": parent.email, "password": "nope"})
    assert "The e-mail address or the password is not right" in response.content.decode()


def test_password_reset_sends_a_link_that_sets_a_new_password(
    client, parent, celery_eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": parent.email}, follow=True)
    assert "Check your e-mail" in response.content.decode()
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body).group(1)
    form = client.get(link, follow=True)
    assert "New password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": "Pump-refill-2027", "new_password2": "Pump-refill-2027"}
    )
    assert done.status_code == 302
    parent.refresh_from_db()
    assert parent.check_password("Pump-refill-2027")


def test_the_language_follows_the_parents_choice(parent_client, parent):
    assert "My children" in parent_client.get(reverse("family:home")).content.decode()
    response = parent_client.post(reverse("family:language"), {"language": "es", "next": "/family/texts/"})
    assert response["Location"] == "/family/texts/"
    parent.caregiver.refresh_from_db()
    assert parent.caregiver.preferred_language == "es"
    html = parent_client.get(reverse("family:home"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Mis hijos" in html and 'lang="es"' in html


def test_the_language_switch_refuses_an_outside_redirect(parent_client):
    response = parent_client.post(
        reverse("family:language"), {"language": "es", "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("family:home")


def _luminance(hex_colour: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def test_urgency_colours_meet_wcag_aa_contrast():
    css = (Path(settings.BASE_DIR) / "static/css/portal.css").read_text()
    rules = re.findall(
        r"\.urgency-(\w+) \.urgency-band \{ background-color: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", css
    )
    assert {level for level, _, _ in rules} == {"plenty", "book_now", "call_today"}
    for _, background, text in rules:
        light, dark = sorted((_luminance(background), _luminance(text)), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5


def test_the_password_reset_email_is_in_the_parents_language(
    client, parent, celery_eager, django_capture_on_commit_callbacks
):
    parent.caregiver.preferred_language = "es"
    parent.caregiver.save()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": parent.email}, HTTP_ACCEPT_LANGUAGE="en")
    [message] = mail.outbox
    assert message.subject == "Cree una contraseña nueva para el Portal ITB"
    assert "Si fue usted, abra este enlace" in message.body


def test_staff_keep_the_browsers_language(client, nurse):
    from tests.helpers import login_as

    login_as(client, nurse)
    html = client.get(reverse("emergency"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Señales de abstinencia de baclofeno" in html
    html = client.get(reverse("emergency"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Signs of baclofen withdrawal" in html


def test_the_emergency_page_says_who_to_call_first_and_each_number_once(client, db):
    """Issue 24, item 4: who to call comes before the long lists; the operator number once
    (no footer repeating it); 911 is a tap-to-call link."""
    clinic = Clinic.objects.order_by("pk").first()
    html = client.get(reverse("emergency")).content.decode()
    main = html[html.index("<main") :]
    assert main.index('id="who-to-call"') < main.index('id="withdrawal"') < main.index('id="too-much"')
    assert html.count(f'href="tel:{clinic.phone_after_hours}"') == 1
    assert html.count(f'href="tel:{clinic.phone_business_hours}"') == 1
    assert 'href="tel:911"' in html
