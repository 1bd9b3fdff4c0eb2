"""Password reset that tells nothing by its timing: the request only queues a task with the typed
address; the task looks the address up and sends the e-mail (or nothing). A known address and an
unknown one do the same work while the person waits."""

from __future__ import annotations

import logging

from django.contrib.auth.forms import PasswordResetForm
from django.utils import translation

from patients.accounts.tasks import password_reset_send

logger = logging.getLogger("patients")


class QueuedPasswordResetForm(PasswordResetForm):
    def save(self, domain_override=None, use_https=False, request=None, **kwargs):
        email = self.cleaned_data["email"]
        domain = domain_override or (request.get_host() if request is not None else "")
        secure = bool(use_https or (request is not None and request.is_secure()))
        language = translation.get_language() or "en"

        # Broker down: logged; the parent can ask again, and the page says nothing more.
        password_reset_send.delay_on_commit(email=email, domain=domain, use_https=secure, language=language)
