"""Password reset that tells nothing by its timing: the request only queues a task with the typed
address; the task looks the address up and sends the e-mail (or nothing). A known address and an
unknown one do the same work while the person waits."""

from __future__ import annotations

import logging

from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation

logger = logging.getLogger("patients")


class QueuedPasswordResetForm(PasswordResetForm):
    def save(self, domain_override=None, use_https=False, request=None, **kwargs):
        from patients.accounts.tasks import password_reset_send

        email = self.cleaned_data["email"]
        domain = domain_override or (request.get_host() if request is not None else "")
        secure = bool(use_https or (request is not None and request.is_secure()))
        language = translation.get_language() or "en"

        # Broker down: logged; the parent can ask again, and the page says nothing more.
        password_reset_send.delay_on_commit(email=email, domain=domain, use_https=secure, language=language)


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
