"""The Celery tasks: queued on commit, rebuild from the database, harmless when rerun."""

import pytest

from itbportal.celery import app
from pumps import tasks
from pumps.models import Document
from pumps.tasks import emergency_card_queue, visit_summary_queue
from tests.documents.conftest import pdf_text


@pytest.fixture
def eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def test_task_function_builds_and_stores_the_summary(dose_change_visit, parent):
    ids = tasks.visit_summary_render(dose_change_visit.pk)
    document = Document.objects.get(pk__in=ids)
    assert "Sunday, Jan. 3, 2027" in pdf_text(document.file.read())


def test_rerunning_the_task_gives_the_same_text_and_no_new_version(dose_change_visit, parent):
    first = tasks.visit_summary_render(dose_change_visit.pk)
    second = tasks.visit_summary_render(dose_change_visit.pk)
    assert first == second
    assert Document.objects.count() == 1


def test_queue_waits_for_commit_then_runs_the_task(
    dose_change_visit, parent, eager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        visit_summary_queue(visit=dose_change_visit)
    assert not Document.objects.exists()  # nothing rendered before commit
    assert len(callbacks) == 1
    callbacks[0]()
    document = Document.objects.get(visit=dose_change_visit)
    assert "300 → 330 mcg/day (+10%)" in pdf_text(document.file.read())


def test_delay_through_celery_stores_the_card(child, parent, eager, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        emergency_card_queue(patient=child)
    assert Document.objects.filter(patient=child, kind="emergency_card").count() == 1


def test_task_for_a_deleted_visit_does_nothing(db):
    assert tasks.visit_summary_render(999999) == []
    assert tasks.emergency_card_render(999999) == []


def test_tasks_have_time_limits():
    for task in (tasks.visit_summary_render, tasks.emergency_card_render):
        assert task.soft_time_limit and task.time_limit > task.soft_time_limit
