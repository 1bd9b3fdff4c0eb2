"""The nurses' inbox hears of a concern once, even when two senders meet: the task queued after
the concern's commit and the beat's retry of unmailed concerns can run at the same moment."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest
import time_machine
from django.db import connection

from alerts.concerns import concern_email, concerns_refresh
from alerts.models import Concern
from tests.alerts.conftest import at, make_child, set_dates

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _other_connection() -> psycopg.Connection:
    s = connection.settings_dict
    host, port = s["HOST"] or "127.0.0.1", s["PORT"] or 5432
    return psycopg.connect(dbname=s["NAME"], user=s["USER"], host=host, port=port, autocommit=False)


def test_a_second_sender_at_the_same_moment_skips_and_the_inbox_hears_once(clinic, mailoutbox):
    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    with time_machine.travel(at(2026, 11, 2, 8), tick=False):
        child = make_child(clinic, first_name="Noah")
        set_dates(child, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    concerns_refresh(patient=child, now=at(2026, 12, 8, 9))  # the alarm date has passed
    concern = Concern.objects.needing_nurse().get(patient=child, kind="alarm_passed")
    Concern.objects.filter(pk=concern.pk).update(emailed_at=None)  # whatever ran after commit
    mailoutbox.clear()

    with _other_connection() as other, connection.cursor() as ours:  # another worker, mid-send
        other.execute(f"SELECT 1 FROM {Concern._meta.db_table} WHERE id = %s FOR UPDATE", [concern.pk])
        ours.execute("SET lock_timeout = '5s'")  # a sender that waited for it would fail, not hang
        try:
            concern_email(concern_id=concern.pk)
        finally:
            ours.execute("RESET lock_timeout")
        assert mailoutbox == []
        other.rollback()  # that sender failed: nothing was mailed, the beat retries

    concern_email(concern_id=concern.pk)
    concern_email(concern_id=concern.pk)  # mailed already: not again
    assert [m.to for m in mailoutbox] == [["pump-nurses@hospital.test"]]
    assert "Alarm" in mailoutbox[0].subject
    concern.refresh_from_db()
    assert concern.emailed_at is not None


def test_the_checks_retry_leaves_a_new_concern_to_its_own_task_then_sends_it_once(clinic, mailoutbox):
    """The check (every 5 minutes) e-mails only what its own task, queued at the concern's
    commit, has had EMAIL_TASK_GRACE to send: a task the broker lost is made up for at the next
    check, and a concern that has just opened is not raced for inside the check's time."""
    from datetime import timedelta

    from alerts.concerns import EMAIL_TASK_GRACE, concerns_email_pending

    clinic.nurse_inbox_email = "pump-nurses@hospital.test"
    clinic.save()
    with time_machine.travel(at(2026, 11, 2, 8), tick=False):
        child = make_child(clinic, first_name="Noah")
        set_dates(child, refill_due=date(2026, 11, 30), alarm=at(2026, 12, 7, 15))
    opened = at(2026, 12, 8, 9)
    concerns_refresh(patient=child, now=opened)
    concern = Concern.objects.needing_nurse().get(patient=child, kind="alarm_passed")
    Concern.objects.exclude(pk=concern.pk).update(emailed_at=opened)  # only this one to retry
    Concern.objects.filter(pk=concern.pk).update(emailed_at=None)  # its task was lost
    mailoutbox.clear()

    assert concerns_email_pending(now=opened + EMAIL_TASK_GRACE - timedelta(seconds=1)) == 0
    assert mailoutbox == []
    assert concerns_email_pending(now=opened + EMAIL_TASK_GRACE) == 1
    assert concerns_email_pending(now=opened + EMAIL_TASK_GRACE + timedelta(minutes=5)) == 0
    assert [m.to for m in mailoutbox] == [["pump-nurses@hospital.test"]]
