"""Pages say when stored figures are still being computed (after an import or a
change of the settings), and a deal without figures yet says "updating"."""

from decimal import Decimal

import pytest
from django.utils import timezone

from kam.sales.models import DealFigures, Opportunity
from tests.sales import factories

pytestmark = pytest.mark.django_db

NOTICE = "Figures are being updated"


def _queued_recompute():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.create(
        task_path="kam.sales.tasks.recompute_accounts_task",
        args_kwargs={"args": [[1]], "kwargs": {}},
        status="READY",
        backend_name="default",
        run_after=timezone.now(),
    )


def test_the_funnel_my_day_and_the_list_say_figures_are_updating_while_a_task_waits(client, rep):
    client.force_login(rep)
    pages = ("/", "/funnel/", "/opportunities/")
    for url in pages:
        assert NOTICE not in client.get(url).content.decode(), url
    task = _queued_recompute()
    for url in pages:
        assert NOTICE in client.get(url).content.decode(), url
    task.status = "SUCCESSFUL"
    task.save()
    assert NOTICE not in client.get("/funnel/").content.decode()


def test_a_deal_written_in_bulk_shows_updating_until_its_figures_exist(client, rep, teams):
    account = factories.account(rep, name="宝钢")
    deal = Opportunity.objects.create(
        account=account, name="搅拌站", amount=Decimal(900_000), owner=rep, team=teams["north"]
    )
    assert not DealFigures.objects.filter(pk=deal.pk).exists()
    client.force_login(rep)
    assert "updating" in client.get("/opportunities/").content.decode()
