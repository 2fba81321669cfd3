"""Background tasks of the records (django-tasks): recomputing stored figures
after bulk writes and settings changes. (The daily refresh is ``kam refresh``,
run by cron or a systemd timer: django-tasks runs tasks, it does not schedule.)"""

from django_tasks import task

from kam.sales import figures


@task()
def recompute_accounts_task(account_ids: list[int]) -> None:
    """Recompute the figures of these accounts and their deals (after a bulk write)."""
    figures.refresh_accounts(account_ids)


@task()
def recompute_all_task() -> list[int]:
    """Recompute every stored figure (after the company settings change)."""
    return list(figures.recompute_all())
