"""Background tasks (django-tasks): the database backend outside tests, run by
`kam db_worker`; the immediate backend in tests (kam.config.test_settings)."""

import io

import pytest
from django.core.management import call_command
from django_tasks import TaskResultStatus, task, task_backends

RAN = []


@task()
def add(a: int, b: int) -> int:
    RAN.append((a, b))
    return a + b


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()


def test_the_tests_run_a_task_at_once_when_it_is_enqueued():
    assert type(task_backends["default"]).__name__ == "ImmediateBackend"

    result = add.enqueue(2, 3)

    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 5
    assert RAN == [(2, 3)]


def test_outside_tests_tasks_go_to_the_database_on_sqlite_and_postgresql_alike():
    from kam.config import settings as production

    assert production.TASKS["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert "django_tasks_db" in production.INSTALLED_APPS
    assert (
        production.STORAGES["staticfiles"]["BACKEND"]
        == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_stores_a_task_that_db_worker_then_runs(settings):
    """What `kam serve` relies on: the migrated table and the worker command."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }
    from django_tasks_db.models import DBTaskResult

    result = add.enqueue(20, 22)

    assert result.status == TaskResultStatus.READY
    assert RAN == []
    assert DBTaskResult.objects.filter(id=result.id).exists()

    call_command("db_worker", "--batch", "--no-reload", "--no-startup-delay", stdout=io.StringIO())

    result.refresh()
    assert result.status == TaskResultStatus.SUCCESSFUL
    assert result.return_value == 42
    assert RAN == [(20, 22)]
