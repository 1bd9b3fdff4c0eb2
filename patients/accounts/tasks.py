"""Celery tasks of sign-in. Task names are pinned to where they were first defined, so tasks
already queued under those names still run after a move."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation


@shared_task(name="patients.tasks.password_reset_send", ignore_result=True)
def password_reset_send(*, email: str, domain: str, use_https: bool, language: str) -> int:
    """Takes the typed address rather than an id: looking it up in the request would make a known
    address answer slower than an unknown one."""
    return password_reset_send_now(email=email, domain=domain, use_https=use_https, language=language)


def password_reset_send_now(*, email: str, domain: str, use_https: bool, language: str) -> int:
    """Send the reset e-mail to each active account with this address; 0 for an unknown one."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return 0
    with translation.override(language):
        form.save(
            domain_override=domain,
            use_https=use_https,
            subject_template_name="registration/password_reset_subject.txt",
            email_template_name="registration/password_reset_email.html",
        )
    return len(list(form.get_users(email)))


@shared_task(name="patients.accounts.tasks.mail_send", ignore_result=True)
def mail_send(*, subject: str, body: str, to: list[str]) -> None:
    """An e-mail that holds no secret (it sits in a broker message until a worker sends it)."""
    from django.core.mail import send_mail

    send_mail(subject, body, None, to)
