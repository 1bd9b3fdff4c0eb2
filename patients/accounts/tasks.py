"""Celery tasks of sign-in. Task names are pinned to where they were first defined, so tasks
already queued under those names still run after a move."""

from __future__ import annotations

from celery import shared_task

from patients.accounts.password_reset import password_reset_send_now


@shared_task(name="patients.tasks.password_reset_send", ignore_result=True)
def password_reset_send(*, email: str, domain: str, use_https: bool, language: str) -> int:
    """Takes the typed address rather than an id: looking it up in the request would make a known
    address answer slower than an unknown one."""
    return password_reset_send_now(email=email, domain=domain, use_https=use_https, language=language)
