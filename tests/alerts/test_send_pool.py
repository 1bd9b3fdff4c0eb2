"""A batch's texts go out side by side on the sending threads (alerts.send_pool), and every
per-row rule still holds: each claimed row sent once, with its own provider answer; a row whose
send breaks stays claimed for recovery; a repeated task sends nothing; inside a transaction the
rows go one by one on the caller's connection."""

from __future__ import annotations

import threading
from datetime import date, time, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from alerts import begun, sending, tasks
from alerts.models import Reminder, SmsMessage
from alerts.sms import SendResult
from tests.factories import CaregiverFactory, CaregiverLinkFactory, PatientFactory, PumpFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # as the other such tests
OVERLAP = 4  # sends that must be in flight at once


class OverlapBackend:
    """Every send waits until OVERLAP sends are in flight together (a barrier): one after the
    other, the first would wait in vain and the batch would fail. Records the sending threads."""

    name = "overlap"
    barrier = threading.Barrier(OVERLAP, timeout=20)
    threads: set[str] = set()
    sent: list[tuple[str, str]] = []
    lock = threading.Lock()

    def send(self, *, to: str, body: str, reference: str = "") -> SendResult:
        _, pk, _ = begun.callback_ref_read(reference)  # the signed name of the row's send
        self.barrier.wait()
        with self.lock:
            self.threads.add(threading.current_thread().name)
            self.sent.append((str(pk), to))
        return SendResult(provider_message_id=f"SM{pk}", status="queued", backend=self.name)


@pytest.fixture
def overlap(settings):
    settings.SMS_BACKEND = f"{__name__}.OverlapBackend"
    settings.SMS_SEND_THREADS = 8
    OverlapBackend.barrier.reset()
    OverlapBackend.threads, OverlapBackend.sent = set(), []
    return OverlapBackend


def due(n: int) -> list[int]:
    patient = PatientFactory()
    pump = PumpFactory(patient=patient)
    caregivers = [CaregiverFactory(quiet_hours_start=time(0), quiet_hours_end=time(0)) for _ in range(n)]
    for caregiver in caregivers:
        CaregiverLinkFactory(caregiver=caregiver, patient=patient)
    rows = Reminder.objects.bulk_create(
        Reminder(patient=patient, pump=pump, caregiver=caregivers[i], kind="refill_due",
                 target_date=date(2030, 1, 1) + timedelta(days=i), offset_days=1,
                 send_after=timezone.now() - timedelta(minutes=1))
        for i in range(n)
    )  # fmt: skip
    return [r.pk for r in rows]


def test_a_batch_is_sent_side_by_side_each_row_once_with_its_own_answer(overlap):
    ids = due(16)
    sending.reminders_claim_due()

    assert sending.reminders_send(reminder_ids=ids) == 16
    assert tasks.send_reminders(ids) == 0  # a repeated task finds every row sent: none handed on

    assert len(overlap.threads) > 1 and all(t.startswith("sms-send") for t in overlap.threads)
    assert sorted(int(ref) for ref, _ in overlap.sent) == sorted(ids)  # each once, not again
    rows = Reminder.objects.filter(pk__in=ids)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.provider_message_id == f"SM{r.pk}" for r in rows)  # its own answer, not a neighbour's
    by_reminder = dict(SmsMessage.objects.filter(direction="out").values_list("reminder_id", "to_number"))
    assert by_reminder == {int(ref): to for ref, to in overlap.sent}


def test_a_row_whose_send_breaks_stays_claimed_while_its_neighbours_are_sent(overlap, monkeypatch):
    ids = due(OVERLAP + 1)
    sending.reminders_claim_due()
    real = sending.message_for

    def broken(reminder):
        if reminder.pk == ids[2]:
            raise RuntimeError("boom")
        return real(reminder)

    monkeypatch.setattr(sending, "message_for", broken)

    assert sending.reminders_send(reminder_ids=ids) == OVERLAP
    assert Reminder.objects.get(pk=ids[2]).status == "claimed"  # the lost-claim rule takes it
    assert Reminder.objects.filter(pk__in=ids, status="sent").count() == OVERLAP


def test_inside_a_transaction_the_rows_go_one_by_one_on_the_callers_connection(settings, outbox):
    settings.SMS_BACKEND = "locmem"
    settings.SMS_SEND_THREADS = 8
    ids = due(3)
    sending.reminders_claim_due()

    with transaction.atomic():  # other connections could not see these rows' changes
        assert sending.reminders_send(reminder_ids=ids) == 3

    assert len(outbox) == 3
    assert Reminder.objects.filter(pk__in=ids, status="delivered").count() == 3


def test_on_sqlite_the_worker_sends_on_one_thread_and_the_file_waits_for_its_lock(settings, monkeypatch):
    """`make run` (SQLite): twenty threads writing one file failed with "database is locked"
    after the provider accepted texts (issue 23). One sending thread; WAL, a busy timeout and
    IMMEDIATE transactions in the settings."""
    from types import SimpleNamespace

    from alerts import send_pool

    settings.SMS_SEND_THREADS = 20
    assert send_pool.send_threads() == 20  # PostgreSQL
    monkeypatch.setattr(send_pool, "connection", SimpleNamespace(vendor="sqlite", in_atomic_block=False))
    assert send_pool.send_threads() == 1
    ran = []
    assert send_pool.run_each(
        lambda item: ran.append(threading.current_thread().name) or item, [1, 2, 3]
    ) == [
        1,
        2,
        3,
    ]
    assert set(ran) == {threading.current_thread().name}  # on the caller's thread, one by one


def test_the_sqlite_settings_take_wal_a_busy_timeout_and_immediate_transactions(tmp_path):
    import subprocess
    import sys

    code = (
        "import django, os; os.environ.pop('DATABASE_URL', None); "
        "os.environ['DJANGO_SETTINGS_MODULE']='itbportal.settings'; django.setup(); "
        "from django.db import connection; c = connection.cursor(); "
        "print(c.execute('PRAGMA journal_mode').fetchone()[0], "
        "c.execute('PRAGMA busy_timeout').fetchone()[0])"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "DATABASE_URL"}
    env["ITB_VAR_DIR"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["wal", "20000"]
